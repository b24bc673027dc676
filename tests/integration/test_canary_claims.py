"""Canaries are checked and ended once across replicas, on SQLite files and PostgreSQL:
every change of a canary's row is conditional on the version it read."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.adapters.store import open_store
from bot.domain.canary import Canary, CanaryState
from bot.domain.errors import Refused
from tests.support.canary import FakeMetrics
from tests.support.db import postgres_schema_url
from tests.support.fakes import FakeClock, FakeNotifier
from tests.support.users import OPERATOR
from tests.support.world import compose_over, make_world


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        with postgres_schema_url() as pg:
            yield pg


def canary(skill: str = "trivia", **values) -> Canary:
    clock = FakeClock()
    return Canary(
        id=values.pop("id", "c1"),
        skill=skill,
        alias="PROD1",
        old_version="1",
        new_version="3",
        weight=0.1,
        seconds=600,
        requested_by=OPERATOR,
        reason="",
        plan_id="p1",
        created_at=clock(),
        **values,
    )


def test_one_active_canary_per_skill_and_conditional_changes(url):
    store = open_store(url)
    book = store.canary_book()
    book.add(canary())
    with pytest.raises(Refused, match="already has a canary running"):
        book.add(canary(id="c2"))
    book.add(canary("quiz", id="c3"))
    assert book.change("c1", 0, state=CanaryState.RUNNING)
    assert not book.change("c1", 0, state=CanaryState.ENDING), "the version moved on"
    assert book.get("c1").state is CanaryState.RUNNING and book.get("c1").version == 1
    store.close()


def test_replicas_racing_check_once_and_end_once(url):
    world = make_world(open_store(url))
    notifier, metrics, clock = world.notifier, world.metrics, world.clock
    replicas = [world.services] + [
        compose_over(world.lam, open_store(url), clock, notifier, metrics=metrics) for _ in range(2)
    ]
    world.lam.deploy("trivia-skill", "code-3")
    offer = world.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    world.cases.applying.apply(offer.plan.id, actor=OPERATOR)

    def race() -> None:
        barrier = threading.Barrier(len(replicas))

        def one(services) -> None:
            barrier.wait()
            services.runtime.canary_pass.run_pass()

        threads = [threading.Thread(target=one, args=(s,)) for s in replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    clock.advance(seconds=31)
    race()
    assert metrics.reads == 1
    metrics.record(clock(), "3", 40, 20)
    clock.advance(seconds=31)
    race()
    assert metrics.reads == 2
    alias = world.lam.functions["trivia-skill"].aliases["PROD1"]
    assert (alias.version, alias.routing) == ("1", {})
    ends = [p for p in notifier.top_level("C0TRIVIA") if "canary aborted" in p.text]
    assert len(ends) == 1
    assert [e.operation for e in world.store.audit("trivia", 10)].count("canary-abort") == 1
    for services in replicas:
        services.close()


def test_message_posted_once_by_racing_replicas(url):
    notifier, metrics, clock = FakeNotifier(), FakeMetrics(), FakeClock()
    world = make_world(open_store(url), clock)
    world.lam.deploy("trivia-skill", "code-3")
    offer = world.cases.offers.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600)
    # applied and recorded, but its process died before posting the canary message
    world.services.cases.applying.apply_only(offer.plan.id, actor=OPERATOR)
    replicas = [
        compose_over(world.lam, open_store(url), clock, notifier, metrics=metrics) for _ in range(3)
    ]
    for services in replicas:
        services.runtime.canary_pass.run_pass()
    assert len(notifier.top_level("C0TRIVIA")) == 1
    assert world.services.runtime.store.canary_book().active("trivia").message_ts
    for services in replicas:
        services.close()
