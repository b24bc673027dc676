"""The whole rotation on moto, asserting AWS state after every step (both stores)."""

from __future__ import annotations

import threading

import pytest

from bot.adapters.store import open_store
from bot.devkit.aws import create_skill_function, deploy
from bot.domain.errors import Refused, StalePlan
from bot.domain.model import Outcome
from tests.support.aws import adapter, alias_version, aliases, live_tag
from tests.support.fakes import FakeClock
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import compose_over

FN = "trivia-skill"


def service_for(client, store, clock=None):
    return compose_over(adapter(client), store, clock or FakeClock(), lock_timeout=20).cases


def test_whole_rotation(aws, store, clock):
    client = create_skill_function(FN)
    svc = service_for(client, store, clock)
    assert aliases(client) == ("1", "2")

    deploy(client, FN, "VERSION = 3  # new interaction model\n")
    plan = svc.planning.plan("certify", "trivia", actor=OPERATOR, reason="adds the quiz intent")
    svc.applying.apply(plan.id, actor=OPERATOR)
    assert aliases(client) == ("1", "3")
    pending = store.pending_certification("trivia")
    assert (pending.alias, pending.version) == ("PROD2", "3")

    clock.advance(days=3)
    svc.promotion.promote("trivia", actor=APPROVER, reason="certification passed")
    assert aliases(client) == ("1", "3"), "promotion moves no alias"
    assert live_tag(client) == "PROD2"
    assert store.pending_certification("trivia") is None

    deploy(client, FN, "VERSION = 4  # fix for the quiz intent\n")
    plan = svc.planning.plan("hotfix", "trivia", actor="U0BOB", reason="quiz crashes")
    assert plan.alias == "PROD2"
    svc.applying.apply(plan.id, actor="U0BOB")
    assert aliases(client) == ("1", "4")

    plan = svc.planning.plan("rollback", "trivia", actor=OPERATOR, reason="v4 is slower")
    assert (plan.from_version, plan.to_version) == ("4", "3")
    svc.applying.apply(plan.id, actor=OPERATOR)
    assert aliases(client) == ("1", "3")

    applied = [
        (e.operation, e.actor, e.reason, e.alias, e.from_version, e.to_version)
        for e in reversed(store.audit("trivia", 100))
        if e.outcome is Outcome.APPLIED
    ]
    assert applied == [
        ("certify", OPERATOR, "adds the quiz intent", "PROD2", "2", "3"),
        ("promote", APPROVER, "certification passed", "PROD2", "1", "3"),
        ("hotfix", "U0BOB", "quiz crashes", "PROD2", "3", "4"),
        ("rollback", OPERATOR, "v4 is slower", "PROD2", "4", "3"),
    ]


def test_a_hotfix_with_the_candidates_code_changes_nothing(aws, store):
    client = create_skill_function(FN)
    svc = service_for(client, store)
    deploy(client, FN, "VERSION = 3\n")
    svc.applying.apply(svc.planning.plan("certify", "trivia", actor=OPERATOR).id, actor=OPERATOR)
    versions = client.list_versions_by_function(FunctionName=FN)["Versions"]
    with pytest.raises(Refused, match="uncertified"):
        svc.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="oops")
    assert aliases(client) == ("1", "3")
    assert client.list_versions_by_function(FunctionName=FN)["Versions"] == versions
    assert store.audit("trivia", 1)[0].outcome is Outcome.REFUSED


def test_two_concurrent_hotfixes_one_applies_the_other_is_told(aws, store, tmp_path):
    """Two replicas (two stores on one database) confirm plans made from the same state."""
    client = create_skill_function(FN)
    url = store.engine.url.render_as_string(hide_password=False)
    replica_a, replica_b = service_for(client, store), service_for(client, open_store(url))
    deploy(client, FN, "VERSION = 3\n")
    plan_a = replica_a.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="a")
    plan_b = replica_b.planning.plan("hotfix", "trivia", actor="U0BOB", reason="b", version="2")
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def confirm(name, svc, plan, actor):
        start.wait()
        try:
            results[name] = svc.applying.apply(plan.id, actor=actor)
        except StalePlan as err:
            results[name] = err

    threads = [
        threading.Thread(target=confirm, args=("a", replica_a, plan_a, OPERATOR)),
        threading.Thread(target=confirm, args=("b", replica_b, plan_b, "U0BOB")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stale = [k for k, v in results.items() if isinstance(v, StalePlan)]
    assert len(results) == 2 and len(stale) == 1, results
    winner = "b" if stale == ["a"] else "a"
    assert "PROD1 moved from v1" in str(results[stale[0]])
    assert alias_version(client, FN, "PROD1") == ("3" if winner == "a" else "2")
    events = [(e.operation, e.outcome) for e in store.audit("trivia", 100)]
    assert events.count(("hotfix", Outcome.APPLIED)) == 1
    assert events.count(("hotfix", Outcome.REFUSED)) == 1


def test_provenance_survives_the_database_in_the_versions_descriptions(aws, tmp_path):
    client = create_skill_function("trivia-skill")
    first_store = open_store(f"sqlite:///{tmp_path / 'first.db'}")
    cases = service_for(client, first_store)
    old, new = "abc1234" + "0" * 33, "def5678" + "1" * 33
    for code, commit in (("VERSION = 3\n", old), ("VERSION = 4\n", new)):
        deploy(client, "trivia-skill", code)
        plan = cases.planning.plan(
            "hotfix", "trivia", actor=OPERATOR, commit=commit, repo="acme/trivia"
        )
        cases.applying.apply(plan.id, actor=OPERATOR)
    first_store.close()
    described = client.get_function_configuration(FunctionName="trivia-skill", Qualifier="4")
    assert described["Description"].endswith(f"commit={new} repo=acme/trivia")

    # a new, empty database: what Lambda keeps still says where each version came from
    fresh = service_for(client, open_store(f"sqlite:///{tmp_path / 'fresh.db'}"))
    rollback = fresh.planning.plan("rollback", "trivia", actor=OPERATOR, version="3")
    assert rollback.commits == "def5678 → abc1234"
