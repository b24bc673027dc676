"""A lock holds for every replica sharing the database and survives a restart, on a
SQLite file and on PostgreSQL; two people locking at once get one lock."""

from __future__ import annotations

import threading

import pytest

from bot.adapters.store import open_store
from bot.domain.errors import Refused
from tests.support.fakes import FakeNotifier
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import compose_over, make_world


def url_of(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def replicas(store):
    """Two replicas over one database (each its own store, as two processes have)."""
    first = make_world(store=store)
    other_store = open_store(url_of(store))
    other = compose_over(first.lam, other_store, first.clock, FakeNotifier())
    yield first, other.cases
    other_store.close()


def test_a_lock_taken_on_one_replica_refuses_changes_on_the_other(replicas):
    first, other = replicas
    first.lam.deploy("trivia-skill", "code-3")
    plan = other.planning.plan("hotfix", "trivia", actor=OPERATOR)
    first.cases.locking.lock("trivia", actor=OPERATOR, reason="incident 42")
    with pytest.raises(Refused, match="trivia is locked by U0ALICE"):
        other.planning.plan("certify", "trivia", actor=OPERATOR)
    with pytest.raises(Refused, match="trivia is locked by U0ALICE"):
        other.applying.apply(plan.id, actor=OPERATOR)
    assert first.lam.functions["trivia-skill"].aliases["PROD1"].version == "1"
    other.locking.unlock("trivia", actor=APPROVER)
    assert first.cases.applying.apply(plan.id, actor=OPERATOR).to_version == "3"


def test_two_people_locking_at_once_get_one_lock(replicas):
    first, other = replicas
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def lock(cases, actor: str) -> None:
        start.wait()
        try:
            cases.locking.lock("trivia", actor=actor, reason=actor)
            outcomes.append("locked")
        except Refused:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=lock, args=(first.cases, OPERATOR)),
        threading.Thread(target=lock, args=(other, APPROVER)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["locked", "refused"]
    held = first.cases.reading.status("trivia").lock
    assert held is not None and held.reason == held.locked_by  # the winner's own reason
    history = [e for e in first.cases.reading.history("trivia") if e.operation == "lock"]
    assert sorted(e.outcome.value for e in history) == ["applied", "refused"]


def test_a_lock_survives_a_restart(store):
    first = make_world(store=store)
    first.cases.locking.lock("trivia", actor=OPERATOR, reason="launch on Monday")
    url = url_of(store)
    store.close()  # the process stops
    again = open_store(url)
    try:
        restarted = compose_over(first.lam, again, first.clock, FakeNotifier())
        lock = restarted.cases.reading.status("trivia").lock
        assert lock is not None and (lock.locked_by, lock.reason) == (OPERATOR, "launch on Monday")
        with pytest.raises(Refused, match="launch on Monday"):
            restarted.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="1")
    finally:
        again.close()


def test_the_last_two_approvals_on_two_replicas_at_once_promote_once(store):
    from bot.service.promotion import Reaction

    approvers = {"approvers": [APPROVER, "U0DAVE"], "approvals": 2}
    first = make_world(store=store, **approvers)
    other_store = open_store(url_of(store))
    other_notifier = FakeNotifier()
    other = compose_over(first.lam, other_store, first.clock, other_notifier, **approvers)
    try:
        first.lam.deploy("trivia-skill", "code-3")
        plan = first.cases.planning.plan("certify", "trivia", actor=OPERATOR)
        first.cases.applying.apply(plan.id, actor=OPERATOR)
        [message] = first.notifier.top_level("C0TRIVIA")
        start = threading.Barrier(2)

        def react(cases, user: str) -> None:
            start.wait()
            event = Reaction(user, "white_check_mark", "C0TRIVIA", message.ts, event_id=f"E{user}")
            cases.promotion.by_reaction(event, bot_user="U0BOT")

        threads = [
            threading.Thread(target=react, args=(first.cases, APPROVER)),
            threading.Thread(target=react, args=(other.cases, "U0DAVE")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        posted = first.notifier.top_level("C0TRIVIA") + other_notifier.top_level("C0TRIVIA")
        assert len([p for p in posted if "promoted" in p.text]) == 1, [p.text for p in posted]
        assert first.cases.reading.status("trivia").roles.live_alias == "PROD2"
    finally:
        other_store.close()


def test_a_scheduled_promotion_runs_once_when_two_replicas_find_it_due(store):
    first = make_world(store=store)
    other_store = open_store(url_of(store))
    other_notifier = FakeNotifier()
    other = compose_over(first.lam, other_store, first.clock, other_notifier)
    try:
        first.lam.deploy("trivia-skill", "code-3")
        plan = first.cases.planning.plan("certify", "trivia", actor=OPERATOR)
        first.cases.applying.apply(plan.id, actor=OPERATOR)
        first.cases.promotion.schedule("trivia", actor=APPROVER, at="10:00")
        first.clock.advance(hours=1)
        start = threading.Barrier(2)
        ran: list[int] = []

        def run(runtime) -> None:
            start.wait()
            ran.append(runtime.promotion.run_due())

        threads = [
            threading.Thread(target=run, args=(first.services.runtime,)),
            threading.Thread(target=run, args=(other.runtime,)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(ran) == [0, 1]
        posted = first.notifier.top_level("C0TRIVIA") + other_notifier.top_level("C0TRIVIA")
        assert len([p for p in posted if "promoted" in p.text]) == 1
    finally:
        other_store.close()
