"""Hand-made fakes of the ports that keep state, for unit tests.

``FakeLambda`` behaves like real AWS where moto does not: ``update_alias`` enforces
``RevisionId`` and issues a new one, ``publish_version`` enforces ``CodeSha256`` and
returns the existing version when the code has not changed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.errors import NotFound, Refused, StalePlan, Unavailable
from bot.domain.model import LATEST, AlexaTrigger, AliasState, LatestCode, Version
from bot.ports import Rendered, SharedFile
from bot.service.alexa_endpoints import Polling
from tests.support.skills import alexa_skill_id

#: trivia's, the first skill of a skills config
SKILL_ID = alexa_skill_id(1)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Waits:
    """The bot's waits for SMAPI, on a clock that only moves when the bot sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def polling(self) -> Polling:
        return Polling(
            build_timeout=30.0, live_timeout=10.0, sleep=self.sleep, monotonic=lambda: self.now
        )


def sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass
class FakeFunction:
    latest_code: str = "code-1"
    versions: dict[str, Version] = field(default_factory=dict)
    aliases: dict[str, AliasState] = field(default_factory=dict)
    triggers: dict[str, list[AlexaTrigger]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    last_update_status: str = "Successful"


class FakeLambda:
    """In-memory Lambda with real AWS semantics for revisions and code hashes."""

    def __init__(self) -> None:
        self.functions: dict[str, FakeFunction] = {}
        self.calls: list[str] = []
        #: bytes used beyond the versions' own, and the quota (GetAccountSettings)
        self.storage_used = 0
        self.storage_limit = 75 * 1024**3
        #: raised by code_storage when set (AWS could not tell)
        self.storage_error: Exception | None = None
        self._revisions = itertools.count(1)
        self._lock = threading.Lock()

    # -- test set-up -----------------------------------------------------------
    def add_function(self, name: str, code: str = "code-1") -> FakeFunction:
        self.functions[name] = FakeFunction(latest_code=code)
        return self.functions[name]

    def deploy(self, name: str, code: str) -> None:
        """New code lands in $LATEST (what a CI pipeline does)."""
        self.functions[name].latest_code = code

    def publish_now(self, name: str) -> str:
        fn = self.functions[name]
        return self.publish_version(name, sha(fn.latest_code), "").number

    def point(self, name: str, alias: str, version: str) -> None:
        fn = self.functions[name]
        fn.aliases[alias] = AliasState(alias, version, self._revision())

    def _revision(self) -> str:
        return f"rev-{next(self._revisions)}"

    def _fn(self, name: str) -> FakeFunction:
        if name not in self.functions:
            raise NotFound(f"Function not found: {name}")
        return self.functions[name]

    # -- the port ------------------------------------------------------------
    def get_alias(self, function: str, alias: str) -> AliasState | None:
        self.calls.append(f"get_alias {alias}")
        return self._fn(function).aliases.get(alias)

    def get_latest(self, function: str) -> LatestCode:
        self.calls.append("get_latest")
        fn = self._fn(function)
        return LatestCode(sha(fn.latest_code), "2026-03-01T10:00:00.000+0000")

    def wait_until_updated(self, function: str) -> LatestCode:
        return self.get_latest(function)

    def get_version(self, function: str, version: str) -> Version | None:
        self.calls.append(f"get_version {version}")
        return self._fn(function).versions.get(version)

    def list_versions(self, function: str) -> list[Version]:
        return list(self._fn(function).versions.values())

    def publish_version(self, function: str, code_sha256: str, description: str) -> Version:
        self.calls.append("publish_version")
        with self._lock:
            fn = self._fn(function)
            if sha(fn.latest_code) != code_sha256:
                raise StalePlan(  # as AWS answers (InvalidParameterValueException), translated
                    "The code in $LATEST changed since this plan was shown."
                )
            if fn.versions:
                newest = max(fn.versions.values(), key=lambda v: int(v.number))
                if newest.code_sha256 == code_sha256:
                    return newest
            number = str(max(map(int, fn.versions), default=0) + 1)
            fn.versions[number] = Version(
                number, code_sha256, "2026-03-01", description, code_size=1000 * int(number)
            )
            return fn.versions[number]

    @staticmethod
    def _guarded(fn: FakeFunction, alias: str, revision_id: str) -> AliasState:
        """The alias about to change, checked as Lambda does: it exists, and its
        ``RevisionId`` is the one the caller read."""
        current = fn.aliases.get(alias)
        if current is None:
            raise NotFound(f"no alias {alias}")
        if current.revision_id != revision_id:
            raise StalePlan("PreconditionFailedException: revision id mismatch")
        return current

    def update_alias(
        self, function: str, alias: str, version: str, revision_id: str, *, clear_routing: bool
    ) -> AliasState:
        self.calls.append(f"update_alias {alias} {version}")
        with self._lock:
            fn = self._fn(function)
            current = self._guarded(fn, alias, revision_id)
            if version != LATEST and version not in fn.versions:
                raise NotFound(f"no version {version}")
            routing = {} if clear_routing else current.routing
            fn.aliases[alias] = replace(
                current, version=version, revision_id=self._revision(), routing=routing
            )
            return fn.aliases[alias]

    def create_alias(self, function: str, alias: str, version: str) -> AliasState:
        self.calls.append(f"create_alias {alias}")
        fn = self._fn(function)
        if alias in fn.aliases:
            raise StalePlan("alias exists")
        fn.aliases[alias] = AliasState(alias, version, self._revision())
        return fn.aliases[alias]

    def alias_arn(self, function: str, alias: str) -> str:
        if function.startswith("arn:"):
            return f"{function}:{alias}"
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{function}:{alias}"

    def alexa_triggers(self, function: str, alias: str) -> list[AlexaTrigger]:
        return list(self._fn(function).triggers.get(alias, []))

    @staticmethod
    def alexa_trigger_id(alias: str) -> str:
        return f"skillbot-alexa-{alias}"

    def add_alexa_trigger(self, function: str, alias: str, skill_id: str) -> AlexaTrigger:
        self.calls.append(f"add_alexa_trigger {alias}")
        trigger = AlexaTrigger(self.alexa_trigger_id(alias), alias, skill_id)
        self._fn(function).triggers.setdefault(alias, []).append(trigger)
        return trigger

    def read_live_alias(self, function: str) -> str | None:
        return self._fn(function).tags.get("skillbot:live-alias")

    def write_live_alias(self, function: str, alias: str) -> None:
        self.calls.append(f"write_live_alias {alias}")
        self._fn(function).tags["skillbot:live-alias"] = alias

    def route(
        self, function: str, alias: str, version: str, weights: dict[str, float], revision_id: str
    ) -> AliasState:
        self.calls.append(f"route {alias} {version} {weights}")
        with self._lock:
            fn = self._fn(function)
            current = self._guarded(fn, alias, revision_id)
            fn.aliases[alias] = replace(
                current, version=version, revision_id=self._revision(), routing=dict(weights)
            )
            return fn.aliases[alias]

    def list_aliases(self, function: str) -> list[AliasState]:
        return list(self._fn(function).aliases.values())

    def delete_version(self, function: str, version: str) -> None:
        """As AWS: a version an alias points at or weights is kept (ResourceConflict)."""
        self.calls.append(f"delete_version {version}")
        fn = self._fn(function)
        if any(a.version == version or version in a.routing for a in fn.aliases.values()):
            raise Refused(f"AWS keeps version {version}: an alias refers to it")
        if fn.versions.pop(version, None) is None:
            raise NotFound(f"no version {version}")

    def code_storage(self, function: str | None = None) -> tuple[int, int]:
        if self.storage_error is not None:
            raise self.storage_error
        used = sum(v.code_size for f in self.functions.values() for v in f.versions.values())
        return used + self.storage_used, self.storage_limit


@dataclass
class Posted:
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    ts: str = ""
    key: str = ""


def _blocks(message: Rendered) -> Any:
    return None if message.blocks is None else json.loads(message.blocks)


class FakeNotifier:
    """The Slack the outbox sends to (:class:`bot.ports.SlackSender`): keeps what was
    posted, per channel and thread, as the presenter rendered it (``posted``, ``homes``)."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.updated: list[Posted] = []
        self.ephemeral: list[Posted] = []
        self.homes: dict[str, dict[str, Any]] = {}
        #: files shared, with the message that shared them
        self.shared: list[tuple[Posted, SharedFile]] = []
        self._ts = itertools.count(1)
        #: errors the next posts raise, one each (Slack refusing, or not answering)
        self.refusals: list[Exception] = []
        #: and the next updates (chat.update)
        self.update_refusals: list[Exception] = []
        #: posts made whose answer is then lost (the next ones, one each)
        self.lost_answers = 0
        self.attempts = 0

    def refuse(self, error: Exception, times: int = 1, *, updates: bool = False) -> None:
        (self.update_refusals if updates else self.refusals).extend([error] * times)

    def post(self, channel: str, message: Rendered, *, key: str, thread_ts: str | None) -> str:
        self.attempts += 1
        if self.refusals:
            raise self.refusals.pop(0)
        ts = f"1700000000.{next(self._ts):06d}"
        self.posted.append(Posted(channel, message.text, _blocks(message), thread_ts, ts, key))
        if self.lost_answers:
            self.lost_answers -= 1
            raise Unavailable("Slack did not answer.", outcome_unknown=True)
        return ts

    def find(self, channel: str, key: str, thread_ts: str | None) -> str | None:
        for p in self.posted:
            if p.channel == channel and p.key == key and p.thread_ts == thread_ts:
                return p.ts
        return None

    def update(self, channel: str, ts: str, message: Rendered) -> None:
        if self.update_refusals:
            raise self.update_refusals.pop(0)
        self.updated.append(Posted(channel, message.text, _blocks(message), None, ts))

    def tell(self, channel: str, user: str, message: Rendered) -> None:
        self.ephemeral.append(Posted(channel, message.text, _blocks(message), None, user))

    def publish_home(self, user: str, view: Rendered) -> None:
        self.homes[user] = json.loads(view.blocks or "{}")

    def share_file(
        self, channel: str, file: SharedFile, *, comment: str, thread_ts: str | None
    ) -> str | None:
        self.attempts += 1
        if self.refusals:
            raise self.refusals.pop(0)
        ts = f"1700000000.{next(self._ts):06d}"
        self.shared.append((Posted(channel, comment, None, thread_ts, ts), file))
        return ts

    def find_file(self, channel: str, filename: str, thread_ts: str | None) -> str | None:
        for posted, file in self.shared:
            if posted.channel == channel and file.filename == filename:
                return posted.ts
        return None

    def top_level(self, channel: str | None = None) -> list[Posted]:
        return [p for p in self.posted if p.thread_ts is None and channel in (None, p.channel)]

    def thread(self, ts: str) -> list[Posted]:
        return [p for p in self.posted if p.thread_ts == ts]


class Recorder:
    """Stands in for Bolt's ``ack`` and ``respond``: keeps every call's keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, text: str | None = None, **kw: Any) -> None:
        self.calls.append({"text": text, **kw})

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]
