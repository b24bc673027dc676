"""Claims under real contention: two replicas (each with its own engine) race for the same
due reminders on a SQLite file and on PostgreSQL (skipped when no server answers)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.store import SqlStore, open_store
from bot.service.reminders import Dispatch, Pacing
from tests.support.db import postgres_schema_url
from tests.support.fakes import FakeClock, FakeNotifier
from tests.support.reminders import ReminderWorld, seed_certification

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# room for every reminder in one pass, so both replicas want all of them at once
GREEDY = Pacing(global_spacing=0.001, batch=100)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'skillbot.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    first, second = open_store(database_url), open_store(database_url)
    yield first, second
    first.close()
    second.close()


def race(worlds: list[ReminderWorld]) -> list[list[Dispatch]]:
    """Every world claims at the same moment, from its own thread."""
    barrier = threading.Barrier(len(worlds))
    results: list[list[Dispatch]] = [[] for _ in worlds]
    errors: list[BaseException] = []

    def claim(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = worlds[index].claim()
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(worlds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_racing_replicas_claim_and_post_every_slot_exactly_once(replicas):
    store_a, store_b = replicas
    clock = FakeClock(START)
    notifier = FakeNotifier()
    certs = [
        seed_certification(store_a, skill=f"s{i}", created_at=START, channel=f"C0S{i:02d}")
        for i in range(30)
    ]
    worlds = [
        ReminderWorld(store, clock, notifier=notifier, schedule="10s", pacing=GREEDY, owner=name)
        for store, name in ((store_a, "a"), (store_b, "b"))
    ]
    worlds[0].claim()  # rows for the new certifications, before the clock starts

    claimed_by: Counter[str] = Counter()
    for slot in range(1, 5):
        clock.now = START + timedelta(seconds=10 * slot)
        results = race(worlds)
        claimed = [d.certification_id for result in results for d in result]
        assert sorted(claimed) == sorted(c.id for c in certs), f"slot {slot}"
        for world, result in zip(worlds, results, strict=True):
            claimed_by[world.service.owner] += len(result)
            world.deliver(result)

    for cert in certs:
        assert len(notifier.thread(cert.message_ts)) == 4
    assert sum(claimed_by.values()) == 4 * len(certs)


def test_a_claim_is_a_conditional_update_that_only_one_replica_wins(replicas):
    store_a, store_b = replicas
    clock = FakeClock(START)
    a = ReminderWorld(store_a, clock, schedule="10s", owner="a")
    b = ReminderWorld(store_b, clock, schedule="10s", owner="b")
    cert = seed_certification(store_a, created_at=START)
    a.claim()
    clock.now = START + timedelta(seconds=10)
    send_at, until = clock.now, clock.now + timedelta(seconds=30)

    # both read the row as due (version 0) before either claims: each claim is made in a
    # unit of work of its own, so only the conditional update can tell them apart
    with a.service.book.claiming() as claims:
        [seen_by_a] = claims.due(clock.now, skip_channels=set(), limit=5)
    with b.service.book.claiming() as claims:
        [seen_by_b] = claims.due(clock.now, skip_channels=set(), limit=5)
    assert seen_by_a.version == seen_by_b.version

    with a.service.book.claiming() as claims:
        won_a = claims.claim(seen_by_a, "a", send_at, until)
    with b.service.book.claiming() as claims:
        won_b = claims.claim(seen_by_b, "b", send_at, until)

    assert (won_a, won_b) == (True, False)
    assert a.row(cert.id).claimed_by == "a"


def test_claims_of_a_unit_of_work_that_fails_are_rolled_back_for_every_replica(replicas):
    store_a, store_b = replicas
    clock = FakeClock(START)
    a = ReminderWorld(store_a, clock, schedule="10s", owner="a")
    b = ReminderWorld(store_b, clock, schedule="10s", owner="b")
    cert = seed_certification(store_a, created_at=START)
    a.claim()
    clock.now = START + timedelta(seconds=10)
    send_at, until = clock.now, clock.now + timedelta(seconds=30)

    with pytest.raises(RuntimeError), a.service.book.claiming() as claims:
        [due] = claims.due(clock.now, skip_channels=set(), limit=5)
        assert claims.claim(due, "a", send_at, until)
        raise RuntimeError("the pass broke off before its claims were committed")

    row = a.row(cert.id)
    assert row is not None and row.claimed_by is None and row.version == due.version
    [dispatch] = b.claim()  # nothing of the broken-off claim holds the row back
    assert (dispatch.certification_id, b.row(cert.id).claimed_by) == (cert.id, "b")
