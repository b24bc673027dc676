"""The one outbox: every message owed is sent once, whatever Slack does — refusals,
Retry-After, lost answers, a claim left by a dead process, updates owed while the message
they update is not posted yet, and replies waiting for their thread."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.slack.notifier import SlackPresenter
from bot.adapters.store import SqlStore, open_store
from bot.domain.errors import NotFound, Unavailable
from bot.service.outbox import Outbox
from tests.support.fakes import FakeClock, FakeNotifier
from tests.support.reminders import seed_certification

CHANNEL = "C0TRIVIA"
REFUSED = Unavailable("Slack: could not post to C0TRIVIA (service_unavailable).")


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    s = open_store(f"sqlite:///{tmp_path / 'skillbot.db'}")
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack() -> FakeNotifier:
    return FakeNotifier()


def outbox(store: SqlStore, slack: FakeNotifier, clock: FakeClock, owner: str = "one") -> Outbox:
    return Outbox(store, slack, SlackPresenter(), clock, owner=owner)


def test_a_post_is_sent_at_once_and_owing_it_again_sends_nothing(store, slack, clock):
    box = outbox(store, slack, clock)
    first = box.send(box.post("announce:1", CHANNEL, "trivia: hotfix PROD1 v1 → v2"))
    again = box.send(box.post("announce:1", CHANNEL, "trivia: hotfix PROD1 v1 → v2"))
    assert first.posted and first.ts and again.posted and not again.by_us
    [posted] = slack.posted
    assert (posted.key, posted.ts) == ("announce:1", first.ts)
    assert box.run() == 0 and store.owed("announce:1").state == "sent"


def test_a_refused_post_waits_five_seconds_then_doubling_pauses_up_to_five_minutes(
    store, slack, clock
):
    slack.refuse(REFUSED, times=8)
    box = outbox(store, slack, clock)
    delivery = box.send(box.post("announce:1", CHANNEL, "hello"))
    assert not delivery.posted and "service_unavailable" in delivery.reason
    pauses = []
    for _ in range(7):
        due = store.owed("announce:1").due_at
        pauses.append((due - clock.now).total_seconds())
        clock.now = due - timedelta(seconds=1)
        assert box.run() == 0 and slack.attempts == len(pauses), "never before it is due"
        clock.now = due
        box.run()
    assert pauses == [5, 10, 20, 40, 80, 160, 300]
    clock.now = store.owed("announce:1").due_at
    assert box.run() == 1 and [p.text for p in slack.posted] == ["hello"]


def test_retry_after_is_waited_out_exactly(store, slack, clock):
    slack.refuse(Unavailable("Slack: ratelimited.", retry_after=8.0))
    box = outbox(store, slack, clock)
    assert box.send(box.post("a", CHANNEL, "hello")).retry_after == 8.0
    clock.advance(seconds=7.9)
    assert box.run() == 0
    clock.advance(seconds=0.1)
    assert box.run() == 1


def test_a_rate_limited_pass_leaves_the_rest_for_later(store, slack, clock):
    box = outbox(store, slack, clock)
    slack.refuse(REFUSED, times=2)
    box.send(box.post("a", CHANNEL, "first"))
    box.send(box.post("b", CHANNEL, "second"))
    clock.advance(seconds=5)
    slack.refuse(Unavailable("Slack: ratelimited.", retry_after=30.0))
    assert box.run() == 0
    assert slack.attempts == 3, "the pass stopped at Slack's Retry-After"


def test_a_claim_left_by_a_dead_process_is_taken_over_and_looked_up_first(store, slack, clock):
    dead, alive = outbox(store, slack, clock, "dead"), outbox(store, slack, clock, "alive")
    dead.owe([dead.post("announce:1", CHANNEL, "hello")])
    row = store.claim_owed("announce:1", "dead", clock.now, clock.now + dead.lease)
    assert row is not None
    # the dead process had posted it; Slack's answer died with it
    slack.post(CHANNEL, row.message.rendered, key="announce:1", thread_ts=None)
    assert alive.run() == 0, "the claim holds until its lease ends"
    clock.advance(seconds=121)
    assert alive.run() == 1
    assert len(slack.posted) == 1, "found by its key: not posted again"
    assert store.owed("announce:1").ts == slack.posted[0].ts


def test_two_processes_racing_for_one_row_send_it_once(store, slack, clock):
    first, second = outbox(store, slack, clock, "first"), outbox(store, slack, clock, "second")
    first.owe([first.post("announce:1", CHANNEL, "hello")])
    assert first.deliver("announce:1").posted
    assert second.deliver("announce:1").by_us is False
    assert len(slack.posted) == 1


def test_an_update_owed_before_its_message_is_posted_waits_and_only_the_newest_is_sent(
    store, slack, clock
):
    box = outbox(store, slack, clock)
    slack.refuse(NotFound("Slack: could not post to C0TRIVIA (not_in_channel)."))
    assert not box.send(box.post("certification:1", CHANNEL, "pending")).posted
    assert not box.send(box.update(CHANNEL, "promoting", of="certification:1")).posted
    assert not box.send(box.update(CHANNEL, "promoted", of="certification:1")).posted
    assert slack.updated == []
    clock.advance(seconds=5)
    assert box.run() == 2
    [message] = slack.posted
    assert [(u.ts, u.text) for u in slack.updated] == [(message.ts, "promoted")]


def test_an_update_owed_while_the_previous_one_is_sent_is_sent_after_it(store, slack, clock):
    box = outbox(store, slack, clock)
    parent = box.send(box.post("canary:1", CHANNEL, "10 %")).ts
    box.owe([box.update(CHANNEL, "20 %", of="canary:1")])
    row = store.claim_owed("update:canary:1", "one", clock.now, clock.now + box.lease)
    box.owe([box.update(CHANNEL, "aborted", of="canary:1")])  # while "20 %" is on its way
    store.owed_sent("update:canary:1", row.version, None, clock.now)
    assert store.owed("update:canary:1").state == "owed"
    assert box.run() == 1
    assert [u.text for u in slack.updated] == ["aborted"] and slack.updated[0].ts == parent


def test_the_same_update_owed_again_is_not_sent_again(store, slack, clock):
    box = outbox(store, slack, clock)
    box.send(box.post("canary:1", CHANNEL, "10 %"))
    box.send(box.update(CHANNEL, "aborted", of="canary:1"))
    box.send(box.update(CHANNEL, "aborted", of="canary:1"))
    assert [u.text for u in slack.updated] == ["aborted"]


def test_a_reply_waits_for_its_thread_and_the_threads_ts_is_recorded(store, slack, clock):
    cert = seed_certification(store, created_at=clock.now, channel=None)
    box = outbox(store, slack, clock)
    key = f"certification:{cert.id}"
    slack.refuse(REFUSED)
    box.send(box.post(key, CHANNEL, "certify", on_posted=key))
    reply = box.send(box.post("reply:1", CHANNEL, "passed review", thread=key))
    assert not reply.posted and "not posted yet" in reply.reason
    clock.advance(seconds=5)
    assert box.run() == 2
    message, answer = slack.posted
    assert answer.thread_ts == message.ts
    assert store.get_certification(cert.id).message_ts == message.ts


def test_a_private_reply_whose_answer_was_lost_is_not_repeated_and_expires(store, slack, clock):
    box = outbox(store, slack, clock)
    lost = Unavailable("Slack did not answer.", outcome_unknown=True)

    def tell_lost(*args, **kw):
        raise lost

    slack.tell = tell_lost  # type: ignore[method-assign]
    assert box.send(box.tell(CHANNEL, "U0ALICE", "Only approvers promote.")).posted
    assert box.run() == 0

    slack.tell = lambda *a, **kw: (_ for _ in ()).throw(REFUSED)  # type: ignore[method-assign]
    told = box.tell(CHANNEL, "U0BOB", "Only approvers promote.")
    assert not box.send(told).posted
    clock.advance(minutes=11)
    assert box.run() == 0 and store.owed(told.key).state == "expired"


def test_a_post_refused_for_a_week_is_given_up_and_logged(store, slack, clock, caplog):
    box = outbox(store, slack, clock)
    slack.refuse(NotFound("Slack: could not post to C0GONE (channel_not_found)."), times=10**4)
    box.send(box.post("announce:1", "C0GONE", "hello"))
    caplog.set_level(logging.WARNING, logger="bot.service.outbox")
    for _ in range(7 * 24):
        clock.advance(hours=1)
        box.run()
    assert slack.attempts == 1 + 7 * 24, "tried every hour (its pause is 5 min by then)"
    clock.advance(hours=1)
    box.run()
    assert store.owed("announce:1").state == "expired"
    assert any("given up" in r.getMessage() for r in caplog.records)
    attempts = slack.attempts
    clock.advance(days=1)
    box.run()
    assert slack.attempts == attempts


def test_a_home_owed_again_replaces_the_one_still_owed(store, slack, clock):
    from bot.domain.news import HomeView

    box = outbox(store, slack, clock)
    slack.publish_home = lambda *a: (_ for _ in ()).throw(REFUSED)  # type: ignore[method-assign]
    box.send(box.home("U0ALICE", HomeView((), ("first",), None)))
    box.send(box.home("U0ALICE", HomeView((), ("second",), None)))
    del slack.publish_home  # Slack heals
    clock.advance(seconds=5)
    assert box.run() == 1
    assert "second" in str(slack.homes["U0ALICE"]) and "first" not in str(slack.homes)


def test_rows_sent_long_ago_are_forgotten_and_owed_ones_kept(store, slack, clock):
    box = outbox(store, slack, clock)
    box.send(box.post("announce:1", CHANNEL, "sent"))
    slack.refuse(NotFound("Slack: could not post to C0GONE (channel_not_found)."), times=10**4)
    box.send(box.post("announce:2", "C0GONE", "still owed"))
    clock.advance(days=3)
    assert store.prune_outbox(clock.now - timedelta(days=1)) == 1
    assert store.owed("announce:1") is None and store.owed("announce:2").state == "owed"
