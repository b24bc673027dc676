"""The running scheduler (APScheduler, sender thread, real Slack client) on a SQLite file,
against the fake Slack: cadence, cancel, Retry-After, spreading."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Composed, start_scheduler
from bot.devkit.fake_slack import FakeSlack
from bot.domain.errors import ConfigError
from bot.domain.model import CertificationState
from tests.support.reminders import pending_seconds, scheduler_services, seed_certification
from tests.support.skills import skills_config
from tests.support.users import REQUESTER


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def running(fake: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., Composed]]:
    """Start a scheduler over skills (name -> channel) and a schedule; stopped after."""
    stops: list[Callable[[], None]] = []
    built: list[Composed] = []

    def start(skills: dict[str, str], schedule: str, *, scheduler: bool = True) -> Composed:
        services = scheduler_services(
            fake.api_url,
            f"sqlite:///{tmp_path / 'skillbot.db'}",
            skills_config(skills, schedule),
        )
        built.append(services)
        if scheduler:
            stops.append(start_scheduler(services.runtime))
        return services

    yield start
    for stop in stops:
        stop()
    for services in built:
        services.close()


def arrivals(fake: FakeSlack, count: Callable[[FakeSlack], int], n: int, timeout: float = 8):
    """When each of the first ``n`` messages counted by ``count`` arrived (monotonic)."""
    times = []
    for i in range(1, n + 1):
        fake.wait_for(lambda f, i=i: count(f) >= i, timeout)
        times.append(time.monotonic())
    return times


def replies_in(fake: FakeSlack, channel: str) -> list[dict]:
    """Thread replies posted in ``channel``, whatever the thread."""
    return [
        c.params
        for c in fake.calls_to("chat.postMessage")
        if c.ok and c.params.get("channel") == channel and c.params.get("thread_ts")
    ]


def test_reminders_arrive_in_the_thread_on_schedule_and_stop_at_cancel(fake, running):
    services = running({"trivia": "C0TRIVIA"}, "1s", scheduler=False)
    cert = seed_certification(
        services.runtime.store,
        created_at=datetime.now(UTC) - timedelta(seconds=0.5),
        message_ts="1700000000.000100",
    )
    stop = start_scheduler(services.runtime)
    try:

        def thread(f: FakeSlack) -> list[dict]:
            return f.thread_replies("C0TRIVIA", "1700000000.000100")

        times = arrivals(fake, lambda f: len(thread(f)), 2)
        first = thread(fake)[0]
        assert f"started by <@{REQUESTER}>" in first["text"] and "v3 on PROD2" in first["text"]
        ages = [pending_seconds(m["text"]) for m in thread(fake)[:2]]
        # the first slot (a scheduler slow to start sends the latest passed one), then the next
        assert 1 <= ages[0] <= 3 and ages == [ages[0], ages[0] + 1], ages
        assert 0.5 < times[1] - times[0] < 1.8  # one a second, as configured

        services.runtime.store.end_certification(
            cert.id, CertificationState.CANCELLED, REQUESTER, datetime.now(UTC)
        )
        cancelled_with = len(thread(fake))
        time.sleep(2.5)  # nothing to wait for: reminders must *not* come
        assert len(thread(fake)) <= cancelled_with + 1  # one may have been on its way
        assert fake.messages() == []  # only thread replies, never top-level messages
    finally:
        stop()
    assert stop() is None  # stopping twice is harmless


def test_a_429_is_waited_out_for_its_retry_after_and_holds_back_other_reminders(fake, running):
    services = running({"trivia": "C0TRIVIA", "quiz": "C0QUIZ"}, "1h", scheduler=False)
    due_soon = datetime.now(UTC) - timedelta(hours=1) + timedelta(seconds=0.3)
    seed_certification(
        services.runtime.store, skill="trivia", created_at=due_soon, message_ts="1700000000.000100"
    )
    seed_certification(
        services.runtime.store,
        skill="quiz",
        created_at=due_soon + timedelta(milliseconds=1),
        channel="C0QUIZ",
        message_ts="1700000000.000200",
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    stop = start_scheduler(services.runtime)
    try:
        fake.wait_for(lambda f: f.calls_to("chat.postMessage"))
        limited_at = time.monotonic()
        fake.wait_for(lambda f: f.thread_replies("C0TRIVIA", "1700000000.000100"))
        retried_at = time.monotonic()
        fake.wait_for(lambda f: f.thread_replies("C0QUIZ", "1700000000.000200"))
    finally:
        stop()
    assert retried_at - limited_at >= 0.9  # Retry-After: 1 (less the test's own jitter)
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200]
    assert calls[0].params["channel"] == "C0TRIVIA"  # the other reminder waited too
    assert len(fake.thread_replies("C0TRIVIA", "1700000000.000100")) == 1  # not doubled


def test_reminders_due_at_the_same_moment_are_spread_a_second_apart_per_channel(fake, running):
    shared = {f"s{i}": "C0SHARED" for i in range(3)}
    solo = {f"o{i}": f"C0SOLO{i}" for i in range(3)}
    services = running({**shared, **solo}, "1h", scheduler=False)
    due_soon = datetime.now(UTC) - timedelta(hours=1) + timedelta(seconds=0.3)
    for skill, channel in {**shared, **solo}.items():
        seed_certification(
            services.runtime.store, skill=skill, created_at=due_soon, channel=channel
        )
    stop = start_scheduler(services.runtime)
    try:
        shared_times = arrivals(fake, lambda f: len(replies_in(f, "C0SHARED")), 3)
    finally:
        stop()
    gaps = [b - a for a, b in itertools.pairwise(shared_times)]
    assert min(gaps) >= 0.9, gaps  # a second apart (less the test's own jitter)
    for channel in ["C0SHARED", *solo.values()]:
        replies = replies_in(fake, channel)
        assert len({m["thread_ts"] for m in replies}) == len(replies)  # one per certification


def test_a_schedule_that_never_fires_stops_the_start(fake, running):
    before = set(threading.enumerate())
    with pytest.raises(ConfigError, match="never fires"):  # refused with the skills file
        running({"trivia": "C0TRIVIA"}, "0 10 30 2 *", scheduler=False)
    assert set(threading.enumerate()) - before == set()  # nothing was left running
