"""What the playground shows, kept from every call the bot makes to the fake Slack:
messages per channel, threads, ephemeral messages, in-place updates, App Home views and a
log; readers wait for a new revision (long polling)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.demo import seed
from bot.devkit.fake_slack import BOT_USER_ID
from bot.devkit.fake_slack_http import Call

log = logging.getLogger(__name__)

LOG_KEPT = 300
BOT_NAME = "skillbot"


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
    #: files it shares (a chart): their names, titles and where the page reads them
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Origin:
    """Where the answers to one response_url belong."""

    message_id: str  # replaced or deleted by replace_original / delete_original
    channel: str
    user: str
    thread_ts: str | None


class Timeline:
    """The page's state; every change bumps a revision that waiting readers see."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rev = 0
        self._seq = 0
        self._messages: dict[str, Message] = {}
        self._by_ts: dict[tuple[str, str], str] = {}
        self._origins: dict[str, Origin] = {}
        self._homes: dict[str, dict[str, Any]] = {}
        self._homes_rev = 0
        self._log: list[dict[str, Any]] = []
        self._aws: dict[str, Any] = {}
        self._aws_rev = 0
        self._closed = threading.Event()
        # set when AWS may have changed: the console view is read again
        self._aws_stale = threading.Event()
        self._aws_stale.set()

    # -- what the bot does (every call the fake records) ---------------------------------

    def _on_call(self, call: Call) -> None:
        params = call.params
        with self._cond:
            self._note_call(call)
            if not call.ok:
                self._changed()
                return
            if call.method in ("chat.postMessage", "chat.postEphemeral"):
                ephemeral = call.method == "chat.postEphemeral"
                self._add(
                    channel=str(params.get("channel")),
                    ts=str(call.response["message_ts" if ephemeral else "ts"]),
                    text=str(params.get("text") or ""),
                    blocks=blocks_of(params.get("blocks")),
                    thread_ts=params.get("thread_ts") or None,
                    ephemeral_to=str(params.get("user")) if ephemeral else None,
                    broadcast=truthy(params.get("reply_broadcast")) and not ephemeral,
                )
                if not ephemeral:
                    self._aws_stale.set()  # an announcement: AWS changed, most likely
            elif call.method == "files.completeUploadExternal":
                shared = call.response.get("message") or {}
                share = self._add(
                    channel=str(shared.get("channel")),
                    ts=str(shared.get("ts")),
                    text=str(shared.get("text") or ""),
                    thread_ts=shared.get("thread_ts") or None,
                )
                share.files = [
                    {"name": f.get("name"), "title": f.get("title"),
                     "url": f"/playground/file/{f.get('id')}"}
                    for f in shared.get("files") or []
                ]  # fmt: skip
            elif call.method == "chat.update":
                message = self._find(str(params.get("channel")), str(params.get("ts")))
                if message is not None:
                    message.text = str(params.get("text") or message.text)
                    message.blocks = blocks_of(params.get("blocks"))
                    self._touch(message)
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
        if truthy(params.get("delete_original")):
            if original is not None:
                original.deleted = True
                self._touch(original)
            return
        text = str(params.get("text") or "")
        blocks = blocks_of(params.get("blocks"))
        # a command's answer may overtake its acknowledgement: it then stands in for it
        replacing = truthy(params.get("replace_original")) or (
            original is None and origin.message_id.startswith("cmd:")
        )
        if replacing and original is not None:
            original.text, original.blocks, original.deleted = text, blocks, False
            self._touch(original)
            return
        in_channel = params.get("response_type") == "in_channel" and not replacing
        self._add(
            channel=origin.channel,
            text=text,
            blocks=blocks,
            thread_ts=origin.thread_ts,
            ephemeral_to=None if in_channel else origin.user,
            message_id=origin.message_id if replacing else None,
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
        text: str,
        ts: str | None = None,
        user: str = BOT_USER_ID,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        broadcast: bool = False,
        message_id: str | None = None,
    ) -> Message:
        """A message in ``channel``: the bot's unless ``user``, at a local ts unless ``ts``."""
        ts = ts or self._local_ts()
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


def blocks_of(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else None


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def person_name(user: str) -> str:
    names: Iterable[seed.Person] = seed.PEOPLE
    return next((p.name for p in names if p.id == user), user)
