"""Reminder tests: seeding pending certifications, a clock-driven world, the scheduler's
services in process, and reading slots back from posted reminders."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.slack.notifier import SlackPresenter, web_client
from bot.adapters.store import SqlStore
from bot.bootstrap import Composed, build_services
from bot.config import Settings, parse_skills
from bot.domain.model import Certification, new_id
from bot.ports import ReminderRow
from bot.schedules import ReminderSchedule, Schedules
from bot.service.outbox import Outbox
from bot.service.reminders import Dispatch, Pacing, ReminderService, default_owner
from tests.support.fakes import FakeClock, FakeNotifier
from tests.support.users import APPROVER, REQUESTER


def seed_certification(
    store: SqlStore,
    *,
    skill: str = "trivia",
    created_at: datetime,
    channel: str | None = "C0TRIVIA",
    message_ts: str | None = None,
    version: str = "3",
) -> Certification:
    """A pending certification of ``skill`` with (unless ``channel`` is None) a message."""
    cert = Certification(
        id=new_id(),
        skill=skill,
        alias="PROD2",
        version=version,
        code_sha256="c0de" * 16,
        requested_by=REQUESTER,
        note="",
        created_at=created_at,
    )
    store.add_certification(cert)
    if channel is not None:
        ts = message_ts or f"1700000000.{abs(hash(cert.id)) % 1_000_000:06d}"
        store.set_certification_message(cert.id, channel, ts)
    found = store.get_certification(cert.id)
    assert found is not None
    return found


@dataclass
class ReminderWorld:
    """One "replica": a service over a store, with a fake clock and a fake Slack.

    :meth:`tick` is what the scheduler and the sender do together, with time simulated:
    a pass at the clock's time, then each claim delivered at its send time.
    """

    store: SqlStore
    clock: FakeClock
    notifier: Any = field(default_factory=FakeNotifier)
    schedule: str = "1h"
    per_skill: dict[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    pacing: Pacing = field(default_factory=Pacing)
    owner: str = field(default_factory=default_owner)

    def __post_init__(self) -> None:
        #: the one outbox the reminders are owed in (refused ones are tried again there)
        self.outbox = Outbox(self.store, self.notifier, SlackPresenter(), self.clock)
        self.service = ReminderService(
            self.store.reminder_book(),
            self.store,
            self.outbox,
            Schedules(
                ReminderSchedule.parse(self.schedule, self.timezone),
                {k: ReminderSchedule.parse(v, self.timezone) for k, v in self.per_skill.items()},
            ),
            clock=self.clock,
            approvers=[APPROVER],
            reaction="white_check_mark",
            pacing=self.pacing,
            owner=self.owner,
        )

    def claim(self) -> list[Dispatch]:
        return self.service.run_pass()

    def deliver(self, dispatches: Sequence[Dispatch]) -> None:
        for dispatch in dispatches:
            if dispatch.send_at > self.clock.now:
                self.clock.now = dispatch.send_at
            self.service.deliver(dispatch)

    def tick(self) -> list[Dispatch]:
        """A pass, its claims delivered, then the outbox's pass (as the scheduler runs)."""
        dispatches = self.claim()
        self.deliver(dispatches)
        self.outbox.run()
        return dispatches

    def run_until(self, end: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        """A pass every ``step`` until the clock reaches ``end``, and one at ``end``."""
        while self.clock.now < end:
            self.tick()
            self.clock.now = min(end, self.clock.now + step)
        self.tick()

    def row(self, cert_id: str) -> ReminderRow | None:
        return self.service.book.row(cert_id)

    def reminders_of(self, cert: Certification) -> list[Any]:
        return self.notifier.thread(cert.message_ts)


def scheduler_services(
    slack_api_url: str, database_url: str, config: dict[str, Any], token: str = "xoxb-test"
) -> Composed:
    """What ``python -m bot scheduler`` builds, in process, against a fake Slack."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, slack_bot_token=token, database_url=database_url
    )
    return build_services(
        settings,
        parse_skills(config),
        lambda_client=object(),  # the scheduler makes no AWS calls
        slack_client=web_client(token, slack_api_url),
    )


_PENDING_FOR = re.compile(r"pending for (\d+)s\b")


def pending_seconds(text: str) -> int:
    """The age a reminder states, in seconds (reminders younger than a minute)."""
    match = _PENDING_FOR.search(text)
    assert match, f"no 'pending for Ns' in {text!r}"
    return int(match.group(1))


def slots_of(messages: Sequence[dict[str, Any]], period: int) -> list[int]:
    """Which slot (1 = first period after the start) each reminder was sent for.

    A reminder is posted less than a period after its slot, so the age it states,
    divided by the period, is its slot.
    """
    return [pending_seconds(m["text"]) // period for m in messages]
