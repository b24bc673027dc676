"""Reminder passes with a controlled clock: schedules, content, catch-up, stop, pacing,
failures and crashes, on SQLite (the claim race on PostgreSQL is an integration test)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.store import SqlStore, open_store
from bot.config import SkillsFile, parse_skills
from bot.domain.errors import ConfigError, NotFound, Unavailable
from bot.domain.model import CertificationState
from bot.schedules import ReminderSchedule, build_schedules
from bot.service.reminders import Pacing
from tests.support.fakes import FakeClock, FakeNotifier
from tests.support.reminders import ReminderWorld, seed_certification
from tests.support.users import APPROVER, REQUESTER

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    s = open_store(f"sqlite:///{tmp_path / 'skillbot.db'}")
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def world(store: SqlStore, clock: FakeClock, **kw) -> ReminderWorld:
    return ReminderWorld(store, clock, **kw)


# -- schedules and content ----------------------------------------------------------------


def test_the_first_reminder_comes_one_period_after_the_start_with_everything_to_act(store, clock):
    w = world(store, clock, schedule="24h")
    cert = seed_certification(store, created_at=START)

    w.run_until(START + timedelta(hours=23, minutes=59), step=timedelta(minutes=30))
    assert w.reminders_of(cert) == []

    clock.now = START + timedelta(hours=24)
    w.tick()
    [reminder] = w.reminders_of(cert)
    assert reminder.channel == "C0TRIVIA"
    assert reminder.thread_ts == cert.message_ts  # a reply in the certification's thread
    assert "pending for 1d 0h" in reminder.text
    assert "v3 on PROD2" in reminder.text
    assert f"started by <@{REQUESTER}>" in reminder.text
    assert f"<@{APPROVER}> can react with :white_check_mark:" in reminder.text


def test_a_cron_schedule_is_read_in_the_configured_zone_on_weekdays_only(store, clock):
    # 10:00 in Berlin is 09:00 UTC in March; Friday 6th, then Monday 9th
    friday = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    clock.now = friday
    w = world(store, clock, schedule="0 10 * * MON-FRI", timezone="Europe/Berlin")
    cert = seed_certification(store, created_at=friday)

    sent_at = []
    while clock.now < datetime(2026, 3, 9, 12, 0, tzinfo=UTC):
        before = len(w.reminders_of(cert))
        w.tick()
        if len(w.reminders_of(cert)) > before:
            sent_at.append(clock.now)
        clock.advance(minutes=15)
    assert sent_at == [
        datetime(2026, 3, 6, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
    ]


def test_a_skill_can_override_the_schedule(store, clock):
    w = world(store, clock, schedule="24h", per_skill={"quiz": "2h"})
    trivia = seed_certification(store, skill="trivia", created_at=START)
    quiz = seed_certification(store, skill="quiz", created_at=START, channel="C0QUIZ")

    w.run_until(START + timedelta(hours=6), step=timedelta(minutes=10))

    assert w.reminders_of(trivia) == []
    assert [r.text.split("pending for ")[1][:5] for r in w.reminders_of(quiz)] == [
        "2h 0m",
        "4h 0m",
        "6h 0m",
    ]


def test_a_wrong_or_never_firing_schedule_stops_the_start_naming_the_key():
    raw = {
        "announce_channel": "C0ANNOUNCE",
        "operators": ["U0ALICE"],
        "approvers": ["U0CAROL"],
        "reminder_schedule": "every morning",
        "skills": {"trivia": {"function": "f", "alexa_skill_id": "amzn1.ask.skill.0"}},
    }
    with pytest.raises(ConfigError, match="reminder_schedule: 'every morning' is neither"):
        parse_skills(raw)

    # valid cron syntax, but February has no 30th: refused too, also past the file check
    config = SkillsFile.model_validate({**raw, "reminder_schedule": "24h"})
    broken = config.model_copy(update={"reminder_schedule": "0 10 30 2 *"})
    with pytest.raises(ConfigError, match=r"reminder_schedule: .*'0 10 30 2 \*' never fires"):
        build_schedules(broken.reminder_schedule, broken.timezone, broken.to_skills())


def test_durations_count_from_the_start_of_the_certification():
    every = ReminderSchedule.parse("5s", "UTC")
    assert every.next_after(START, START) == START + timedelta(seconds=5)
    assert every.next_after(START, START + timedelta(seconds=5)) == START + timedelta(seconds=10)
    assert every.next_after(START, START + timedelta(seconds=31)) == START + timedelta(seconds=35)


# -- restarts, stop, missing messages --------------------------------------------------------


def test_slots_missed_while_down_collapse_into_one_reminder_then_the_cadence_goes_on(store, clock):
    w = world(store, clock, schedule="1h")
    cert = seed_certification(store, created_at=START)
    w.run_until(START + timedelta(hours=1, seconds=5))
    assert len(w.reminders_of(cert)) == 1

    # the bot was down for ten slots; a new process (a new service) starts
    clock.now = START + timedelta(hours=11, minutes=20)
    restarted = world(store, clock, schedule="1h", notifier=w.notifier)
    restarted.run_until(START + timedelta(hours=11, minutes=59), step=timedelta(minutes=1))
    assert len(w.reminders_of(cert)) == 2  # one catch-up, not ten

    restarted.run_until(START + timedelta(hours=13, seconds=30))
    texts = [r.text for r in w.reminders_of(cert)]
    assert len(texts) == 4
    assert "pending for 12h 0m" in texts[2] and "pending for 13h 0m" in texts[3]


def test_reminders_stop_at_promote_and_at_cancel(store, clock):
    w = world(store, clock, schedule="1h")
    promoted = seed_certification(store, skill="trivia", created_at=START)
    cancelled = seed_certification(store, skill="quiz", created_at=START, channel="C0QUIZ")
    w.run_until(START + timedelta(hours=1, seconds=5))
    assert len(w.reminders_of(promoted)) == len(w.reminders_of(cancelled)) == 1

    store.end_certification(promoted.id, CertificationState.PROMOTED, APPROVER, clock.now)
    store.end_certification(cancelled.id, CertificationState.CANCELLED, REQUESTER, clock.now)
    w.run_until(START + timedelta(hours=5))

    assert len(w.reminders_of(promoted)) == len(w.reminders_of(cancelled)) == 1
    assert w.row(promoted.id) is None and w.row(cancelled.id) is None


def test_a_certification_ended_after_its_claim_gets_no_reminder(store, clock):
    w = world(store, clock, schedule="1h")
    cert = seed_certification(store, created_at=START)
    clock.now = START + timedelta(hours=1)
    dispatches = w.claim()
    store.end_certification(cert.id, CertificationState.PROMOTED, APPROVER, clock.now)
    w.deliver(dispatches)
    assert w.reminders_of(cert) == []


def test_a_certification_without_a_slack_message_gets_no_reminder_and_a_log_line(
    store, clock, caplog
):
    w = world(store, clock, schedule="1h")
    cert = seed_certification(store, created_at=START, channel=None)
    caplog.set_level(logging.WARNING, logger="bot.reminders")

    w.run_until(START + timedelta(hours=2, seconds=30))

    assert w.notifier.posted == []
    warnings = [r.getMessage() for r in caplog.records if cert.id in r.getMessage()]
    assert len(warnings) == 2  # once per slot, not once per pass
    assert "has no Slack message" in warnings[0]


def test_a_changed_schedule_applies_to_certifications_already_pending(store, clock):
    w = world(store, clock, schedule="24h")
    cert = seed_certification(store, created_at=START)
    w.run_until(START + timedelta(minutes=10))

    restarted = world(store, clock, schedule="1h", notifier=w.notifier)
    restarted.run_until(START + timedelta(hours=1, seconds=2))
    assert len(w.reminders_of(cert)) == 1


@pytest.mark.parametrize("other_overrides", [0, 600], ids=["few overrides", "many overrides"])
def test_a_new_override_applies_to_a_certification_already_pending(store, clock, other_overrides):
    w = world(store, clock, schedule="1h")
    trivia = seed_certification(store, skill="trivia", created_at=START)
    quiz = seed_certification(store, skill="quiz", created_at=START, channel="C0QUIZ")
    w.run_until(START + timedelta(minutes=10))

    per_skill = {"quiz": "3h", **{f"x{i}": "1h" for i in range(other_overrides)}}
    restarted = world(store, clock, schedule="1h", per_skill=per_skill, notifier=w.notifier)
    restarted.run_until(START + timedelta(hours=3, seconds=2))
    assert len(w.reminders_of(trivia)) == 3
    assert len(w.reminders_of(quiz)) == 1


# -- spreading --------------------------------------------------------------------------------


def test_reminders_due_together_are_spread_per_channel_and_overall(store, clock):
    w = world(store, clock, schedule="1h")
    certs = [seed_certification(store, skill=f"a{i}", created_at=START) for i in range(4)]
    certs += [
        seed_certification(store, skill=f"b{i}", created_at=START, channel="C0OTHER")
        for i in range(3)
    ]
    certs += [
        seed_certification(store, skill=f"c{i}", created_at=START, channel=f"C0SOLO{i}")
        for i in range(8)
    ]
    clock.now = START + timedelta(hours=1)

    sends: list[tuple[datetime, str]] = []
    per_pass = []
    for second in range(10):
        clock.now = START + timedelta(hours=1, seconds=second)
        dispatches = w.tick()
        per_pass.append(len(dispatches))
        sends += [(d.send_at, d.channel) for d in dispatches]

    assert sorted(c for _, c in sends) == sorted(c.channel for c in certs)  # each one, once
    assert max(per_pass) <= 5  # a pass hands out what fits in the next 0.8 s
    times = sorted(t for t, _ in sends)
    assert all(b - a >= timedelta(seconds=0.2) for a, b in itertools.pairwise(times))
    for channel in ("C0TRIVIA", "C0OTHER"):
        mine = sorted(t for t, c in sends if c == channel)
        assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(mine))
    assert len(w.notifier.posted) == len(certs)


def test_a_busy_channel_does_not_hold_back_other_channels(store, clock):
    w = world(store, clock, schedule="1h", pacing=Pacing(batch=3))
    for i in range(12):
        seed_certification(store, skill=f"a{i}", created_at=START)
    late = seed_certification(
        store, skill="late", created_at=START + timedelta(seconds=1), channel="C0LATE"
    )
    clock.now = START + timedelta(hours=1, seconds=2)
    w.tick()
    assert len(w.reminders_of(late)) == 1


# -- failures -------------------------------------------------------------------------------


class FlakyNotifier(FakeNotifier):
    """Fails the next posts with the given errors, then posts."""

    def __init__(self, *errors: Exception) -> None:
        super().__init__()
        self.refusals = list(errors)


def _unavailable(*, retry_after: float | None = None, unknown: bool = False) -> Unavailable:
    """What the Slack notifier raises (see tests/unit/test_slack_notifier.py)."""
    return Unavailable(
        "Slack: could not post to C0TRIVIA.", retry_after=retry_after, outcome_unknown=unknown
    )


def test_a_failed_post_is_retried_by_the_outbox_with_growing_pauses_and_sent_once(store, clock):
    notifier = FlakyNotifier(_unavailable(), _unavailable())
    w = world(store, clock, schedule="1h", notifier=notifier)
    cert = seed_certification(store, created_at=START)

    w.run_until(START + timedelta(hours=1))
    w.run_until(START + timedelta(hours=1, seconds=4), step=timedelta(seconds=1))
    assert notifier.attempts == 1 and w.reminders_of(cert) == []
    w.run_until(START + timedelta(hours=1, seconds=5), step=timedelta(seconds=1))
    assert notifier.attempts == 2  # 5 s later
    w.run_until(START + timedelta(hours=1, seconds=14), step=timedelta(seconds=1))
    assert notifier.attempts == 2 and w.reminders_of(cert) == []  # then 10 s later
    w.run_until(START + timedelta(hours=1, seconds=15), step=timedelta(seconds=1))
    assert len(w.reminders_of(cert)) == 1
    w.run_until(START + timedelta(hours=1, minutes=59))
    assert len(w.reminders_of(cert)) == 1 and notifier.attempts == 3
    assert w.row(cert.id).failures == 0
    assert w.store.owed_in("owed") == []


def test_a_refused_post_is_retried_not_left_for_the_next_slot(store, clock):
    notifier = FlakyNotifier(NotFound("Slack: could not post to C0TRIVIA (not_in_channel)."))
    w = world(store, clock, schedule="1h", notifier=notifier)
    cert = seed_certification(store, created_at=START)

    w.run_until(START + timedelta(hours=1))
    w.run_until(START + timedelta(hours=1, seconds=4), step=timedelta(seconds=1))
    assert notifier.attempts == 1 and w.reminders_of(cert) == []
    w.run_until(START + timedelta(hours=1, seconds=6))  # the bot was invited meanwhile
    assert len(w.reminders_of(cert)) == 1
    w.run_until(START + timedelta(hours=1, minutes=59))
    assert len(w.reminders_of(cert)) == 1 and notifier.attempts == 2


def test_a_post_whose_answer_was_lost_is_looked_up_and_made_once(store, clock):
    notifier = FlakyNotifier()
    notifier.lost_answers = 1  # Slack made the post, the answer never came back
    w = world(store, clock, schedule="1h", notifier=notifier)
    cert = seed_certification(store, created_at=START)

    w.run_until(START + timedelta(hours=1, minutes=59))
    assert notifier.attempts == 1 and len(w.reminders_of(cert)) == 1  # found, not reposted
    w.run_until(START + timedelta(hours=2, seconds=2))
    assert notifier.attempts == 2 and len(w.reminders_of(cert)) == 2


def test_a_post_not_made_whose_answer_was_lost_is_made_once(store, clock):
    notifier = FlakyNotifier(_unavailable(unknown=True))  # the request never reached Slack
    w = world(store, clock, schedule="1h", notifier=notifier)
    cert = seed_certification(store, created_at=START)

    w.run_until(START + timedelta(hours=1, minutes=59))
    assert notifier.attempts == 2 and len(w.reminders_of(cert)) == 1


def test_a_rate_limited_post_reports_retry_after_and_is_retried_after_it(store, clock):
    notifier = FlakyNotifier(_unavailable(retry_after=45.0))
    w = world(store, clock, schedule="1h", notifier=notifier)
    cert = seed_certification(store, created_at=START)
    clock.now = START + timedelta(hours=1)
    [dispatch] = w.claim()

    assert w.service.deliver(dispatch) == 45.0  # the sender pauses for as long
    [owed] = w.store.owed_in("owed")
    assert owed.due_at == clock.now + timedelta(seconds=45)
    clock.advance(seconds=44)
    w.outbox.run()
    assert w.reminders_of(cert) == []
    clock.advance(seconds=1)
    w.outbox.run()
    assert len(w.reminders_of(cert)) == 1


# -- crashes and replicas -----------------------------------------------------------------------


def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(store, clock):
    dead = world(store, clock, schedule="1h", owner="dead")
    cert = seed_certification(store, created_at=START)
    clock.now = START + timedelta(hours=1)
    [abandoned] = dead.claim()  # claimed, then killed before posting

    alive = world(store, clock, schedule="1h", notifier=dead.notifier, owner="alive")
    alive.run_until(START + timedelta(hours=1, seconds=29))
    assert dead.reminders_of(cert) == []  # the lease still holds
    alive.run_until(START + timedelta(hours=1, seconds=32))
    assert len(dead.reminders_of(cert)) == 1

    dead.deliver([abandoned])  # a process that was only frozen wakes up: nothing doubles
    assert len(dead.reminders_of(cert)) == 1


def test_a_post_cut_short_by_a_crash_is_not_repeated_and_is_logged(store, clock, caplog):
    w = world(store, clock, schedule="1h", owner="crashed")
    cert = seed_certification(store, created_at=START)
    clock.now = START + timedelta(hours=1)
    [dispatch] = w.claim()
    w.service.book.start(  # what deliver does right before calling Slack; then kill -9
        cert.id,
        dispatch.version,
        next_due_at=START + timedelta(hours=2),
        schedule="1h",
        now=clock.now,
        until=clock.now + timedelta(minutes=10),
    )
    caplog.set_level(logging.WARNING, logger="bot.reminders")

    restarted = world(store, clock, schedule="1h", owner="restarted")
    restarted.run_until(START + timedelta(hours=1, minutes=59))
    assert restarted.reminders_of(cert) == []
    restarted.run_until(START + timedelta(hours=2, seconds=2))
    assert len(restarted.reminders_of(cert)) == 1
    assert any("crashed stopped while posting" in r.getMessage() for r in caplog.records)


def test_two_replicas_sharing_a_database_send_each_slot_once(store, clock):
    first = world(store, clock, schedule="10s", owner="first")
    second_replica = world(store, clock, schedule="10s", notifier=first.notifier, owner="second")
    certs = [
        seed_certification(store, skill=f"s{i}", created_at=START, channel=f"C0S{i}")
        for i in range(3)
    ]
    for second in range(61):
        clock.now = START + timedelta(seconds=second)
        # both passes run before either delivers: their claims interleave
        claims = first.claim() + second_replica.claim()
        first.deliver(claims)

    for cert in certs:
        ages = [r.text.split("pending for ")[1].split(" ")[0] for r in first.reminders_of(cert)]
        assert ages == ["10s", "20s", "30s", "40s", "50s", "1m"]


def test_shutting_down_gives_back_claims_that_were_not_posted(store, clock):
    first = world(store, clock, schedule="1h", owner="first")
    cert = seed_certification(store, created_at=START)
    clock.now = START + timedelta(hours=1)
    unsent = first.claim()
    first.service.release(unsent)

    second = world(store, clock, schedule="1h", notifier=first.notifier, owner="second")
    second.tick()  # at once, without waiting for the lease
    assert len(first.reminders_of(cert)) == 1
