"""The playground: a Slack-like page served beside the fake Slack Web API.

The bot talks to :class:`~bot.devkit.fake_slack.FakeSlack`; the playground listens to every
call it records and keeps what a Slack client would show (channels, threads, ephemeral
messages, App Home, reactions). What a person does on the page becomes a signed request
to the bot, exactly as Slack would send it::

    playground = Playground(fake, bot_url="http://127.0.0.1:3001", signing_secret=secret,
                            aws_endpoint=moto_url)
    playground.command(OPERATOR.id, "C0TRIVIA", "/skill status")

The page (``static/``) reads ``GET /playground/state?since=REV`` (long polling: the answer
comes as soon as anything changed) and posts its actions to ``/playground/…``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from bot.adapters.lambda_aws import LIVE_ALIAS_TAG
from bot.demo import seed
from bot.devkit.aws import lambda_client
from bot.devkit.fake_slack import BOT_USER_ID, Call, FakeSlack, WebRequest, WebResponse
from bot.devkit.fake_smapi import FakeSmapi
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    post,
    reaction_added_event,
    sign,
    slash_command_body,
)

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20.0
LOG_KEPT = 300
BOT_NAME = "skillbot"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


@dataclass
class Message:
    """One message as a Slack client shows it; ``ephemeral_to`` hides it from others."""

    id: str
    seq: int
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    posted_at: float
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    broadcast: bool = False
    reply_count: int = 0
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False
    rev: int = 0


@dataclass(frozen=True)
class _Origin:
    """Where the answers to one response_url belong."""

    message_id: str  # replaced or deleted by replace_original / delete_original
    channel: str
    user: str
    thread_ts: str | None


class Playground:
    def __init__(
        self,
        slack: FakeSlack,
        *,
        bot_url: str,
        signing_secret: str,
        aws_endpoint: str,
        smapi: FakeSmapi | None = None,
    ) -> None:
        self.slack = slack
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.aws_endpoint = aws_endpoint
        self.smapi = smapi
        self._cond = threading.Condition()
        self._rev = 0
        self._seq = 0
        self._messages: dict[str, Message] = {}
        self._by_ts: dict[tuple[str, str], str] = {}
        self._origins: dict[str, _Origin] = {}
        self._homes: dict[str, dict[str, Any]] = {}
        self._homes_rev = 0
        self._log: list[dict[str, Any]] = []
        self._aws: dict[str, Any] = {}
        self._aws_rev = 0
        self._release = 3  # seed.seed_aws put release 3 on $LATEST
        self._closed = threading.Event()
        self._aws_stale = threading.Event()
        self._aws_stale.set()
        self._aws_reader = threading.Thread(target=self._read_aws, name="aws-view", daemon=True)
        self._aws_reader.start()
        slack.subscribe(self._on_call)
        slack.mount("/", self._serve_static)
        slack.mount("/playground/", self._serve_api)

    def close(self) -> None:
        self._closed.set()
        self._aws_stale.set()
        with self._cond:
            self._cond.notify_all()  # long polls return at once
        self._aws_reader.join(timeout=5)

    # -- what the bot does (every call the fake records) ---------------------------------

    def _on_call(self, call: Call) -> None:
        params = call.params
        with self._cond:
            self._note_call(call)
            if not call.ok:
                self._changed()
                return
            if call.method == "chat.postMessage":
                self._add(
                    channel=str(params.get("channel")),
                    ts=str(call.response["ts"]),
                    user=BOT_USER_ID,
                    text=str(params.get("text") or ""),
                    blocks=_blocks(params.get("blocks")),
                    thread_ts=params.get("thread_ts") or None,
                    broadcast=_truthy(params.get("reply_broadcast")),
                )
                self._aws_stale.set()  # an announcement: AWS changed, most likely
            elif call.method == "chat.update":
                message = self._find(str(params.get("channel")), str(params.get("ts")))
                if message is not None:
                    message.text = str(params.get("text") or message.text)
                    message.blocks = _blocks(params.get("blocks"))
                    self._touch(message)
            elif call.method == "chat.postEphemeral":
                self._add(
                    channel=str(params.get("channel")),
                    ts=str(call.response["message_ts"]),
                    user=BOT_USER_ID,
                    text=str(params.get("text") or ""),
                    blocks=_blocks(params.get("blocks")),
                    thread_ts=params.get("thread_ts") or None,
                    ephemeral_to=str(params.get("user")),
                )
            elif call.method == "views.publish":
                view = params.get("view")
                self._homes[str(params.get("user_id"))] = view if isinstance(view, dict) else {}
                self._homes_rev = self._next_rev()
            elif call.method == "reactions.add":
                message = self._find(str(params.get("channel")), str(params.get("timestamp")))
                if message is not None:
                    users = message.reactions.setdefault(str(params.get("name")), [])
                    if BOT_USER_ID not in users:
                        users.append(BOT_USER_ID)
                    self._touch(message)
            elif call.method == "response_url":
                self._respond(params)
            self._changed()

    def _note_call(self, call: Call) -> None:
        if call.method == "response_url":
            what = "response_url"
        else:
            where = call.params.get("channel") or call.params.get("user_id") or ""
            what = f"{call.method} {where}".rstrip()
        if call.ok:
            self._note("api", f"{what} → ok")
        else:
            error = call.response.get("error", f"HTTP {call.status}")
            self._note("error", f"{what} → {error}")

    def _respond(self, params: dict[str, Any]) -> None:
        """A post to a response_url: replace or delete the original, or add a message."""
        origin = self._origins.get(str(params.get("_url")))
        if origin is None:
            self._note("error", "a response_url that the playground never handed out")
            return
        original = self._messages.get(origin.message_id)
        if _truthy(params.get("delete_original")):
            if original is not None:
                original.deleted = True
                self._touch(original)
            return
        text = str(params.get("text") or "")
        blocks = _blocks(params.get("blocks"))
        in_channel = params.get("response_type") == "in_channel"
        if _truthy(params.get("replace_original")) or (
            original is None and origin.message_id.startswith("cmd:")
        ):
            if original is None:  # the answer overtook the acknowledgement
                self._add(
                    channel=origin.channel,
                    ts=self._local_ts(),
                    user=BOT_USER_ID,
                    text=text,
                    blocks=blocks,
                    thread_ts=origin.thread_ts,
                    ephemeral_to=origin.user,
                    message_id=origin.message_id,
                )
            else:
                original.text, original.blocks, original.deleted = text, blocks, False
                self._touch(original)
            return
        self._add(
            channel=origin.channel,
            ts=self._local_ts(),
            user=BOT_USER_ID,
            text=text,
            blocks=blocks,
            thread_ts=origin.thread_ts,
            ephemeral_to=None if in_channel else origin.user,
        )

    # -- state ---------------------------------------------------------------------------

    def _changed(self) -> None:
        self._cond.notify_all()

    def _next_rev(self) -> int:
        self._rev += 1
        return self._rev

    def _touch(self, message: Message) -> None:
        message.rev = self._next_rev()

    def _local_ts(self) -> str:
        """A ts for what only the playground shows (ephemeral answers, people's posts)."""
        self._seq += 1
        return f"{time.time():.0f}.9{self._seq:05d}"

    def _find(self, channel: str, ts: str) -> Message | None:
        message_id = self._by_ts.get((channel, ts))
        return self._messages.get(message_id) if message_id else None

    def _add(
        self,
        *,
        channel: str,
        ts: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        broadcast: bool = False,
        message_id: str | None = None,
    ) -> Message:
        self._seq += 1
        message = Message(
            id=message_id or (f"eph:{ts}" if ephemeral_to else f"msg:{channel}:{ts}"),
            seq=self._seq,
            channel=channel,
            ts=ts,
            user=user,
            text=text,
            blocks=blocks,
            posted_at=time.time(),
            thread_ts=thread_ts,
            ephemeral_to=ephemeral_to,
            broadcast=broadcast,
        )
        self._messages[message.id] = message
        if ephemeral_to is None:
            self._by_ts[(channel, ts)] = message.id
        self._touch(message)
        if thread_ts:
            parent = self._find(channel, thread_ts)
            if parent is not None and ephemeral_to is None:
                parent.reply_count += 1
                self._touch(parent)
        return message

    def _note(self, level: str, text: str) -> None:
        self._log.append({"rev": self._next_rev(), "at": time.time(), "level": level, "text": text})
        del self._log[:-LOG_KEPT]

    def note(self, level: str, text: str) -> None:
        """Add a line to the page's log pane (``level``: info, api, error, bot)."""
        with self._cond:
            self._note(level, text)
            self._changed()

    def snapshot(self, since: int = 0, wait: float = 0.0) -> dict[str, Any]:
        """Everything that changed after revision ``since``; waits up to ``wait`` seconds
        for a change when nothing has yet."""
        with self._cond:
            if wait > 0:
                self._cond.wait_for(lambda: self._rev > since or self._closed.is_set(), wait)
            messages = [asdict(m) for m in self._messages.values() if m.rev > since]
            messages.sort(key=lambda m: m["seq"])
            return {
                "rev": self._rev,
                "reset": since == 0,
                "messages": messages,
                "homes": self._homes if since == 0 or self._homes_rev > since else None,
                "log": [entry for entry in self._log if entry["rev"] > since],
                "aws": self._aws if since == 0 or self._aws_rev > since else None,
            }

    def messages(self, channel: str | None = None) -> list[Message]:
        """What the page shows, oldest first (for checks and the log)."""
        with self._cond:
            found = [
                m
                for m in self._messages.values()
                if not m.deleted and (channel is None or m.channel == channel)
            ]
            return sorted(found, key=lambda m: m.seq)

    # -- what a person does on the page ----------------------------------------------------

    def command(self, user: str, channel: str, text: str) -> None:
        """Text typed in the composer: ``/skill …`` goes to the bot, other text is a post."""
        text = text.strip()
        if not text:
            return
        if not text.startswith("/"):
            with self._cond:
                self._add(channel=channel, ts=self._local_ts(), user=user, text=text, blocks=None)
                self._changed()
            return
        command, _, rest = text.partition(" ")
        if command != "/skill":
            with self._cond:
                self._add(
                    channel=channel,
                    ts=self._local_ts(),
                    user="USLACKBOT",
                    text=f"`{command}` is not a valid command. This app only has `/skill`.",
                    blocks=None,
                    ephemeral_to=user,
                )
                self._changed()
            return
        with self._cond:
            self._seq += 1
            message_id = f"cmd:{self._seq}"
        url = self.slack.response_url()
        with self._cond:
            self._origins[url] = _Origin(message_id, channel, user, None)
            self._note("info", f"{_name(user)} ran {text}")
            self._changed()
        body = slash_command_body(rest, user_id=user, channel_id=channel, response_url=url)
        status, answer = self._send(body, f"{command} {rest}")
        if status == 200 and answer.strip():
            self._show_ack(message_id, channel, user, answer)

    def _show_ack(self, message_id: str, channel: str, user: str, answer: str) -> None:
        """The HTTP answer to a slash command is shown to its user (unless already replaced)."""
        try:
            parsed = json.loads(answer)
        except json.JSONDecodeError:
            parsed = {"text": answer}
        if not isinstance(parsed, dict):
            return
        with self._cond:
            if message_id in self._messages:
                return  # the final answer came through the response_url first
            self._add(
                channel=channel,
                ts=self._local_ts(),
                user=BOT_USER_ID,
                text=str(parsed.get("text") or ""),
                blocks=_blocks(parsed.get("blocks")),
                ephemeral_to=None if parsed.get("response_type") == "in_channel" else user,
                message_id=message_id,
            )
            self._changed()

    def click(self, user: str, message_id: str, action_id: str, value: str, block_id: str) -> None:
        """A button: a signed ``block_actions`` with a response_url tied to its message."""
        with self._cond:
            message = self._messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id}")
        url = self.slack.response_url()
        with self._cond:
            self._origins[url] = _Origin(message.id, message.channel, user, message.thread_ts)
            self._note("info", f"{_name(user)} clicked {action_id}")
            self._changed()
        body = block_action_body(
            action_id,
            value,
            user_id=user,
            response_url=url,
            message_ts=None if message.ephemeral_to else message.ts,
            channel_id=message.channel,
            block_id=block_id,
        )
        self._send(body, f"click {action_id}")

    def react(self, user: str, message_id: str, name: str) -> None:
        """Toggle a reaction; adding one sends ``reaction_added`` (with a fresh event_id)."""
        with self._cond:
            message = self._messages.get(message_id)
            if message is None or message.ephemeral_to:
                raise LookupError("reactions go on channel messages only")
            users = message.reactions.setdefault(name, [])
            removing = user in users
            if removing:
                users.remove(user)
                if not users:
                    del message.reactions[name]
            else:
                users.append(user)
            self._touch(message)
            self._note("info", f"{_name(user)} {'removed' if removing else 'reacted'} :{name}:")
            self._changed()
        if removing:
            return  # the bot listens to reaction_added only
        event = reaction_added_event(user, name, message.channel, message.ts, message.user)
        self._send(event_body(event, event_id=f"Ev{secrets.token_hex(6).upper()}"), "reaction")

    def open_home(self, user: str) -> None:
        """The App Home tab: Slack sends ``app_home_opened``."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        self._send(event_body(event, event_id=f"Ev{secrets.token_hex(6).upper()}"), "App Home")

    def deploy(self) -> str:
        """New code on ``$LATEST`` (update_function_code), as a CI pipeline would do."""
        with self._cond:
            self._release += 1
            release = self._release
        sha = seed.deploy_new_code(self.aws_endpoint, release)
        self._aws_stale.set()
        self.note("info", f"CI deployed release {release} to $LATEST (code {sha[:10]})")
        return sha

    def alexa_review(self, passed: bool) -> None:
        """What Amazon's certification team decides (the fake SMAPI's latest review)."""
        if self.smapi is None:
            raise LookupError("start the demo with --alexa to use the fake SMAPI")
        status = "SUCCEEDED" if passed else "FAILED"
        self.smapi.set_certification(seed.ALEXA_SKILL_ID, status)
        self.note(
            "info",
            f"Alexa review set to {status}; the bot reads it at its next status check "
            "(every 5 minutes)",
        )

    def _send(self, body: str, what: str) -> tuple[int, str]:
        try:
            status, answer = post(
                f"{self.bot_url}/slack/events", body, sign(body, self.signing_secret), timeout=10
            )
        except OSError as err:
            self.note("error", f"{what}: the bot did not answer ({err})")
            return 0, ""
        if status != 200:
            self.note("error", f"{what}: the bot answered HTTP {status} {answer[:200]}")
        return status, answer

    # -- AWS as the console would show it ------------------------------------------------

    def _read_aws(self) -> None:
        client = None
        while not self._closed.is_set():
            self._aws_stale.wait()
            self._aws_stale.clear()
            if self._closed.is_set():
                return
            try:
                client = client or lambda_client(self.aws_endpoint)
                view = _aws_view(client)
            except Exception as err:  # moto stopping, or not up yet: shown, retried later
                view = {"error": str(err)}
            with self._cond:
                if view != self._aws:
                    self._aws = view
                    self._aws_rev = self._next_rev()
                    self._changed()

    # -- HTTP ------------------------------------------------------------------------------

    def _serve_static(self, request: WebRequest) -> WebResponse:
        name = "index.html" if request.path == "/" else request.path.removeprefix("/static/")
        if "/" in name or name.startswith(".") or request.path not in ("/", f"/static/{name}"):
            return WebResponse(404, b"not found\n", "text/plain; charset=utf-8")
        try:
            data = resources.files("bot.demo").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return WebResponse(404, b"not found\n", "text/plain; charset=utf-8")
        suffix = name[name.rfind(".") :]
        return WebResponse(
            200,
            data,
            STATIC_TYPES.get(suffix, "application/octet-stream"),
            {"Cache-Control": "no-cache"},
        )

    def _serve_api(self, request: WebRequest) -> WebResponse:
        action = request.path.removeprefix("/playground/")
        if request.verb == "GET" and action == "state":
            since = int(request.query.get("since") or 0)
            wait = LONG_POLL_SECONDS if request.query.get("wait") else 0.0
            return WebResponse.json(self.snapshot(since, wait))
        if request.verb == "GET" and action == "config":
            return WebResponse.json(self.config())
        if request.verb != "POST":
            return WebResponse.json({"ok": False, "error": "method_not_allowed"}, 405)
        try:
            data = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            return WebResponse.json({"ok": False, "error": "invalid_json"}, 400)
        handlers: dict[str, Callable[[dict[str, Any]], object]] = {
            "command": lambda d: self.command(d["user"], d["channel"], d["text"]),
            "click": lambda d: self.click(
                d["user"], d["message"], d["action_id"], d.get("value", ""), d.get("block_id", "")
            ),
            "react": lambda d: self.react(d["user"], d["message"], d["name"]),
            "home": lambda d: self.open_home(d["user"]),
            "deploy": lambda d: self.deploy(),
            "alexa": lambda d: self.alexa_review(bool(d["passed"])),
        }
        handler = handlers.get(action)
        if handler is None:
            return WebResponse.json({"ok": False, "error": "unknown_action"}, 404)
        try:
            handler(data)
        except (KeyError, LookupError, TypeError) as err:
            return WebResponse.json({"ok": False, "error": str(err)}, 400)
        except Exception as err:
            log.exception("playground action %s failed", action)
            self.note("error", f"{action} failed: {err}")
            return WebResponse.json({"ok": False, "error": str(err)}, 500)
        return WebResponse.json({"ok": True})

    def config(self) -> dict[str, Any]:
        """Who and where: the people, the channels, the bot, and what the demo offers."""
        return {
            "bot": {"id": BOT_USER_ID, "name": BOT_NAME},
            "people": [asdict(p) for p in seed.PEOPLE],
            "channels": [{"id": k, "name": v} for k, v in seed.CHANNELS.items()],
            "skill_channel": seed.SKILL_CHANNEL,
            "skill": seed.SKILL,
            "function": seed.FUNCTION,
            "alexa": self.smapi is not None,
            "aws_endpoint": self.aws_endpoint,
        }


def _aws_view(client: Any) -> dict[str, Any]:
    """The aliases, the role tag and ``$LATEST``, read from the embedded AWS."""
    fn = client.get_function(FunctionName=seed.FUNCTION)["Configuration"]
    tags = client.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
    aliases = {
        a["Name"]: a["FunctionVersion"]
        for a in client.list_aliases(FunctionName=seed.FUNCTION)["Aliases"]
    }
    versions = client.list_versions_by_function(FunctionName=seed.FUNCTION)["Versions"]
    return {
        "function": seed.FUNCTION,
        "aliases": aliases,
        "live": tags.get(LIVE_ALIAS_TAG),
        "latest_sha": str(fn.get("CodeSha256", ""))[:10],
        "versions": [v["Version"] for v in versions if v["Version"] != "$LATEST"],
    }


def _blocks(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _name(user: str) -> str:
    names: Iterable[seed.Person] = seed.PEOPLE
    return next((p.name for p in names if p.id == user), user)
