"""Helpers for reminder tests: seeding pending certifications, a clock-driven world,
running the bot as a subprocess, and reading slots back from posted reminders."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.slack_notifier import web_client
from bot.adapters.store import SqlStore
from bot.bootstrap import Services, build_services
from bot.config import Settings, parse_skills
from bot.domain.model import Certification, new_id
from bot.schedules import ReminderSchedule, Schedules
from bot.service.reminders import Dispatch, Pacing, ReminderService
from tests.support.fakes import FakeClock, FakeNotifier

REQUESTER = "U0ALICE"
APPROVER = "U0CAROL"
ROOT = Path(__file__).resolve().parents[2]


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
    owner: str | None = None

    def __post_init__(self) -> None:
        self.service = ReminderService(
            self.store.reminder_book(),
            self.store,
            self.notifier,
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
        dispatches = self.claim()
        self.deliver(dispatches)
        return dispatches

    def run_until(self, end: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        """A pass every ``step`` until the clock reaches ``end``, and one at ``end``."""
        while self.clock.now < end:
            self.tick()
            self.clock.now = min(end, self.clock.now + step)
        self.tick()

    def row(self, cert_id: str) -> Any:
        return self.service.book.row(cert_id)

    def reminders_of(self, cert: Certification) -> list[Any]:
        return self.notifier.thread(cert.message_ts)


def skills_config(skills: dict[str, str], schedule: str, **extra: Any) -> dict[str, Any]:
    """A skills file (as parsed TOML) with one skill per (name -> channel)."""
    return {
        "announce_channel": "C0ANNOUNCE",
        "operators": [REQUESTER],
        "approvers": [APPROVER],
        "reminder_schedule": schedule,
        "timezone": "Europe/Berlin",
        "skills": {
            name: {
                "function": f"{name}-skill",
                "alexa_skill_id": f"amzn1.ask.skill.00000000-0000-0000-0000-{index:012d}",
                "channel": channel,
            }
            for index, (name, channel) in enumerate(skills.items())
        },
        **extra,
    }


def scheduler_services(
    slack_api_url: str, database_url: str, config: dict[str, Any], token: str = "xoxb-test"
) -> Services:
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


# -- subprocesses ----------------------------------------------------------------------


def skills_toml(path: Path, skills: dict[str, str], schedule: str) -> Path:
    """The skills file of :func:`skills_config`, written as TOML."""
    config = skills_config(skills, schedule)
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items() if key != "skills"]
    for name, entry in config["skills"].items():
        lines.append(f"[skills.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bot_env(*, slack_api_url: str, database_url: str, config: Path, token: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "AWS_", "ALEXA_", "SKILLBOT_", "DATABASE_"))
    }
    env.update(
        SLACK_BOT_TOKEN=token,
        SLACK_API_URL=slack_api_url,
        DATABASE_URL=database_url,
        SKILLBOT_CONFIG=str(config),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_bot(role: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python -m bot ROLE`` with its output in ``log_path`` (run where no .env is read)."""
    out = log_path.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", role],
            cwd=log_path.parent,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        out.close()


def stop_bot(proc: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """``kill -9`` when ``hard``, else SIGTERM (a graceful stop); then reap it."""
    if proc.poll() is None:
        if hard:
            proc.kill()
        else:
            proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


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


def wait_for_line(path: Path, text: str, timeout: float = 20.0) -> None:
    """Until a process's log has a line with ``text`` (a log file cannot notify)."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in iter_lines(path)):
        assert time.monotonic() < deadline, f"no {text!r} in {path} within {timeout}s"
        time.sleep(0.05)


def iter_lines(path: Path) -> Iterator[str]:
    if path.exists():
        yield from path.read_text(errors="replace").splitlines()
