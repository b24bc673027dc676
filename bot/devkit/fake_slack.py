"""A small threaded fake of the Slack Web API that records every call.

Point the app (or a ``slack_sdk.WebClient``) at ``fake.api_url`` and assert on what
it recorded::

    with FakeSlack() as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-test")
        client.chat_postMessage(channel="C0TRIVIA", text="trivia: PROD1 v7 → v9")
        assert fake.messages("C0TRIVIA")[0]["text"].endswith("v7 → v9")

Work the app does after the ack runs in other threads: wait for its outcome with
``fake.wait_for(lambda f: f.messages("C0TRIVIA"))`` instead of sleeping.

The playground of ``skillbot demo`` is built on the same fake: it listens to every call
(:meth:`FakeSlack.subscribe`) and serves its page beside the API (:meth:`FakeSlack.mount`).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.devkit import fake_slack_http
from bot.devkit.fake_slack_http import Call, Route
from bot.devkit.json_server import HANG_UP, JsonServer

T = TypeVar("T")

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0TEAM"

# Seconds part of every ts the fake hands out; the counter fills the fraction.
_TS_EPOCH = 1_700_000_000


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str
    #: the call is handled as usual, then the connection closes before the answer
    lose_answer: bool = False


class FakeSlack:
    """Threaded fake Slack Web API on 127.0.0.1 with an OS-chosen port.

    Example::

        fake = FakeSlack()
        try:
            ...  # WebClient(base_url=fake.api_url)
        finally:
            fake.close()
    """

    def __init__(
        self,
        port: int = 0,
        *,
        users: Mapping[str, str] | None = None,
        channels: Mapping[str, str] | None = None,
        ts_epoch: int = _TS_EPOCH,
    ) -> None:
        """``port`` 0 lets the OS choose; ``users`` and ``channels`` map ids to the names
        ``users.info`` and ``conversations.info`` answer (else the lower-cased id);
        ``ts_epoch`` is the seconds part of the first message ts (pass the current time
        for ts that never repeat across runs against one database)."""
        self._ts_epoch = ts_epoch
        self._cond = threading.Condition(threading.RLock())
        self._users = dict(users or {})
        self._channels = dict(channels or {})
        self._listeners: list[Callable[[Call], None]] = []
        self._routes: dict[str, Route] = {}
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._ts_counter = 0
        self._response_counter = 0
        #: uploaded files: id → (name, title, bytes once uploaded)
        self._files: dict[str, dict[str, Any]] = {}
        self._closed = threading.Event()
        #: what ``apps.connections.open`` hands out (a FakeSocketMode's url), if anything
        self.socket_mode_url: str | None = None

        self._server = JsonServer(
            functools.partial(fake_slack_http.serve, self),
            content_type="application/json; charset=utf-8",
            port=port,
            idle_timeout=None,
        )
        self.base_url = self._server.base_url
        self.api_url = f"{self.base_url}/api/"

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving; slow (``delay``ed) answers are cut short."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._server.close()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- set-up for a test ------------------------------------------------------------

    def response_url(self) -> str:
        """A fresh response_url that records what the app posts to it."""
        with self._cond:
            self._response_counter += 1
            return f"{self.base_url}/response/{self._response_counter}"

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str = "ratelimited",
        times: int = 1,
        lose_answer: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` answer ``status`` with ``ok: false``.

        A 429 carries ``Retry-After: retry_after``. ``status=200`` gives a plain Slack
        error such as ``error="channel_not_found"``. ``method`` may be ``"response_url"``.
        ``lose_answer``: the calls succeed (a post is made), but the connection closes
        before the answer, as when a network drops it.
        """
        fault = _Fault(status, retry_after if status == 429 else None, error, lose_answer)
        with self._cond:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def heal(self, method: str | None = None) -> None:
        """Drop the faults still queued for ``method`` (every method's, and every delay:
        None): from then on it takes those calls."""
        with self._cond:
            if method is None:
                self._faults.clear()
                self._delays.clear()
            else:
                self._faults.pop(method, None)

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` only after ``seconds`` (0 removes the delay).

        The call is recorded when it arrives, before the delay.
        """
        with self._cond:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def subscribe(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener(call)`` for every call recorded from now on, in arrival order.

        It runs on the request's thread while the fake holds its lock, before the answer
        is sent: keep it short and do not call back into the fake's server.
        """
        with self._cond:
            self._listeners.append(listener)

    def mount(self, prefix: str, route: Route) -> None:
        """Serve requests whose path starts with ``prefix`` (other than ``/api/`` and
        ``/response/``) with ``route``; the longest matching prefix wins.

        Example::

            fake.mount("/hello", lambda request: WebResponse(body=b"hi", content_type="text/plain"))
        """
        with self._cond:
            self._routes[prefix] = route

    def _route_for(self, path: str) -> Route | None:
        with self._cond:
            matching = [p for p in self._routes if path.startswith(p)]
            return self._routes[max(matching, key=len)] if matching else None

    def reset(self) -> None:
        """Forget recorded calls (faults and delays stay)."""
        with self._cond:
            self._calls.clear()

    # -- views for assertions -----------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every recorded call, oldest first (a copy)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to one method, including refused ones."""
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Top-level messages posted (no ``thread_ts``), as their params plus ``ts``."""
        return [
            m
            for m in self._posted()
            if not m.get("thread_ts") and (channel is None or m.get("channel") == channel)
        ]

    def thread_replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Messages posted in the thread of ``thread_ts``, as their params plus ``ts``."""
        return [
            m
            for m in self._posted()
            if m.get("channel") == channel and m.get("thread_ts") == thread_ts
        ]

    def updates(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Params of successful ``chat.update`` calls on one message, oldest first."""
        return [
            dict(c.params)
            for c in self.calls_to("chat.update")
            if c.ok and c.params.get("channel") == channel and c.params.get("ts") == ts
        ]

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Params of successful ``chat.postEphemeral`` calls plus ``message_ts``."""
        return [
            {**c.params, "message_ts": c.response["message_ts"]}
            for c in self.calls_to("chat.postEphemeral")
            if c.ok and (user is None or c.params.get("user") == user)
        ]

    def responses(self) -> list[dict[str, Any]]:
        """JSON bodies posted to response_urls, each with its ``_url``."""
        return [dict(c.params) for c in self.calls_to("response_url") if c.status == 200]

    def wait_for(self, predicate: Callable[[FakeSlack], T], timeout: float = 5.0) -> T:
        """Block until ``predicate(fake)`` is truthy and return its value.

        Re-checked on every recorded call; raises AssertionError listing the recorded
        calls when ``timeout`` seconds pass first.

        Example::

            [announcement] = fake.wait_for(lambda f: f.messages("C0TRIVIA"))
        """
        with self._cond:
            result = self._cond.wait_for(lambda: predicate(self), timeout=timeout)
            if not result:
                raise AssertionError(
                    f"condition not met within {timeout}s; recorded calls:\n{self._summary()}"
                )
            return result

    # -- the server side ---------------------------------------------------------------

    def _posted(self) -> list[dict[str, Any]]:
        """Messages posted, and files shared (a message with ``files``), in order."""
        return [
            {**c.params, "ts": c.response["ts"]}
            if c.method == "chat.postMessage"
            else c.response["message"]
            for c in self._calls
            if c.ok and c.method in ("chat.postMessage", "files.completeUploadExternal")
        ]

    def file_content(self, file_id: str) -> bytes | None:
        """The bytes uploaded for ``file_id`` (None: no such file, or not uploaded)."""
        with self._cond:
            return self._files.get(file_id, {}).get("content")

    def files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared (in ``channel``): each with its ``content`` bytes and the
        ``thread_ts`` it went to."""
        shared = []
        for message in self._posted():
            if "files" not in message or channel not in (None, message["channel"]):
                continue
            for f in message["files"]:
                shared.append(
                    {
                        **f,
                        **self._files.get(f["id"], {}),
                        "thread_ts": message.get("thread_ts"),
                        "ts": message["ts"],
                    }
                )
        return shared

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A channel's top-level messages, newest first, or a thread's (its parent
        first); ``metadata`` only with ``include_all_metadata``, as Slack does."""
        channel, thread = params.get("channel"), params.get("ts")
        found = [
            m
            for m in self._posted()
            if m.get("channel") == channel
            and (
                m["ts"] == thread or m.get("thread_ts") == thread
                if method == "conversations.replies"
                else not m.get("thread_ts")
            )
        ]
        if method == "conversations.history":
            found.reverse()
        limit = int(params.get("limit") or 100)
        metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [
            {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                **{k: v for k, v in m.items() if k in ("ts", "text", "thread_ts", "files")},
                **({"metadata": m["metadata"]} if metadata and "metadata" in m else {}),
            }
            for m in found[:limit]
        ]
        return {"ok": True, "messages": shown, "has_more": len(found) > limit}

    def _summary(self) -> str:
        if not self._calls:
            return "  (none)"
        lines = []
        for c in self._calls:
            shown = {k: v for k, v in c.params.items() if k not in ("blocks", "view")}
            lines.append(f"  {c.method} [{c.status}] {json.dumps(shown, default=str)[:200]}")
        return "\n".join(lines)

    def _next_ts(self) -> str:
        self._ts_counter += 1
        micros = self._ts_counter * 100
        return f"{self._ts_epoch + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _handle(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], Any]:
        """Record one call and decide the answer: (status, extra headers, body)."""
        body: dict[str, Any] | str
        headers: dict[str, str] = {}
        with self._cond:
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
            delay = self._delays.get(method, 0.0)
            if fault is not None and fault.lose_answer:
                status, body = 200, self._answer(method, params)
            elif fault is not None:
                status, body = fault.status, {"ok": False, "error": fault.error}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
            else:
                status, body = 200, self._answer(method, params)
            stored = body if isinstance(body, dict) else {"ok": True}
            call = Call(method, params, token, status, stored)
            self._calls.append(call)
            for listener in self._listeners:
                listener(call)
            self._cond.notify_all()
        if delay:
            self._closed.wait(delay)
        if fault is not None and fault.lose_answer:
            return status, headers, HANG_UP
        return status, headers, body

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any] | str:
        if method == "response_url":
            return "ok"
        if method.startswith(("chat.", "reactions.")):
            return self._message_answer(method, params)
        return self._lookup_answer(method, params)

    def _message_answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": ts,
                **{k: v for k, v in params.items() if k in ("text", "blocks", "thread_ts")},
            }
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": channel,
                "ts": params.get("ts"),
                "text": params.get("text"),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "reactions.add":
            return {"ok": True}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        return {"ok": False, "error": "unknown_method"}

    def _file_answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """files_upload_v2's three steps: an upload URL, the bytes, the share."""
        if method == "files.getUploadURLExternal":
            file_id = f"F0{len(self._files) + 1:08d}"
            self._files[file_id] = {"name": params.get("filename"), "length": params.get("length")}
            return {
                "ok": True,
                "upload_url": f"{self.base_url}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "file_upload":
            found = self._files.get(str(params.get("file_id")))
            if found is None:
                return {"ok": False, "error": "file_not_found"}
            found["content"] = params.pop("_content", b"")
            return {"ok": True}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            if any(f.get("id") not in self._files for f in files):
                return {"ok": False, "error": "file_not_found"}
            shared = [
                {"id": f["id"], "title": f.get("title"), "name": self._files[f["id"]]["name"]}
                for f in files
            ]
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": self._next_ts(),
                "channel": params.get("channel_id"),
                "text": params.get("initial_comment") or "",
                "files": shared,
                **({"thread_ts": params["thread_ts"]} if params.get("thread_ts") else {}),
            }
            return {"ok": True, "files": shared, "message": message}
        return {"ok": False, "error": "unknown_method"}

    def _lookup_answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "skillbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "views.publish":
            view = params.get("view")
            view = view if isinstance(view, dict) else {}
            return {"ok": True, "view": {"id": "V0HOME", "team_id": TEAM_ID, **view}}
        if method == "users.info":
            user_id = str(params.get("user", ""))
            name = self._users.get(user_id, user_id.lower())
            return {
                "ok": True,
                "user": {
                    "id": user_id,
                    "team_id": TEAM_ID,
                    "name": name,
                    "real_name": name,
                    "profile": {"display_name": name, "real_name": name},
                },
            }
        if method == "apps.connections.open":
            if self.socket_mode_url is None:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_mode_url}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, params)
        if method.startswith("files.") or method == "file_upload":
            return self._file_answer(method, params)
        if method == "conversations.info":
            channel_id = str(params.get("channel", ""))
            return {
                "ok": True,
                "channel": {
                    "id": channel_id,
                    "name": self._channels.get(channel_id, channel_id.lower()),
                    "is_member": True,
                },
            }
        return {"ok": False, "error": "unknown_method"}
