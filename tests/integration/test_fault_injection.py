"""Every AWS call site of every operation, under throttling, 5xx, a timeout, a conflict and
a lost answer: the person gets a clear message, the audit log records the failure, AWS is
either unchanged or fully changed, and a retry succeeds without doing anything twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.adapters.store import open_store
from bot.bootstrap import UseCases
from bot.devkit.aws import create_skill_function, deploy
from bot.domain.errors import SkillbotError
from bot.domain.model import FixKind, Outcome
from tests.support.aws import adapter
from tests.support.fakes import FakeClock
from tests.support.faults import FAULTS, inject
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import compose_over

FN = "trivia-skill"
# a publish refused while a deployment is still being applied waits for it and publishes
ABSORBED = {("PublishVersion", "conflict")}
MUTATING = {"PublishVersion", "UpdateAlias", "TagResource", "AddPermission", "CreateAlias"}


@dataclass
class Case:
    operation: str
    call_sites: tuple[str, ...]
    prepare: Callable[[UseCases, object], Callable[[], object]]


def snapshot(client, svc) -> dict:
    aliases = {}
    for alias in ("PROD1", "PROD2"):
        try:
            aliases[alias] = client.get_alias(FunctionName=FN, Name=alias)["FunctionVersion"]
        except client.exceptions.ResourceNotFoundException:
            aliases[alias] = None
    arn = client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    try:
        statements = json.loads(client.get_policy(FunctionName=FN)["Policy"])["Statement"]
    except client.exceptions.ResourceNotFoundException:
        statements = []
    versions = client.list_versions_by_function(FunctionName=FN)["Versions"]
    return {
        "aliases": aliases,
        "live": client.list_tags(Resource=arn)["Tags"].get("skillbot:live-alias"),
        "triggers": sorted(s["Resource"].rsplit(":", 1)[-1] for s in statements),
        "versions": len(versions),
        "pending": [(c.alias, c.version) for c in svc.reading.ctx.store.pending_certifications()],
    }


def apply_plan(svc, plan):
    return lambda: svc.applying.apply(plan.id, actor=OPERATOR)


def hotfix_latest(svc, client):
    deploy(client, FN, "VERSION = 3\n")
    return apply_plan(svc, svc.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash"))


def hotfix_version(svc, client):
    return apply_plan(svc, svc.planning.plan("hotfix", "trivia", actor=OPERATOR, version="2"))


def certify(svc, client):
    deploy(client, FN, "VERSION = 3\n")
    return apply_plan(
        svc, svc.planning.plan("certify", "trivia", actor=OPERATOR, reason="new model")
    )


def rollback(svc, client):
    return apply_plan(svc, svc.planning.plan("rollback", "trivia", actor=OPERATOR, version="2"))


def promote(svc, client):
    deploy(client, FN, "VERSION = 3\n")
    svc.applying.apply(svc.planning.plan("certify", "trivia", actor=OPERATOR).id, actor=OPERATOR)
    return lambda: svc.promotion.promote("trivia", actor=APPROVER)


def fix(kind: FixKind, before: Callable | None = None):
    def prepare(svc, client):
        if before:
            before(client)
        report = svc.planning.doctor("trivia", actor=OPERATOR)
        plan = next(p for p in report.fixes if p.fix is kind)
        return apply_plan(svc, plan)

    return prepare


def drop_prod2(client):
    client.delete_alias(FunctionName=FN, Name="PROD2")


CASES = [
    Case("hotfix", ("GetAlias", "PublishVersion", "UpdateAlias"), hotfix_latest),
    Case("hotfix-version", ("GetAlias", "UpdateAlias"), hotfix_version),
    Case("certify", ("GetAlias", "PublishVersion", "UpdateAlias"), certify),
    Case("rollback", ("GetAlias", "UpdateAlias"), rollback),
    Case("promote", ("ListTags", "GetAlias", "TagResource"), promote),
    Case("fix-trigger", ("GetAlias", "GetPolicy", "AddPermission"), fix(FixKind.ADD_TRIGGER)),
    Case("fix-create-alias", ("GetAlias", "CreateAlias"), fix(FixKind.CREATE_ALIAS, drop_prod2)),
    Case("fix-roles", ("ListTags", "TagResource"), fix(FixKind.RECORD_ROLES)),
]
POINTS = [
    (case, site, kind)
    for case in CASES
    for site in case.call_sites
    for kind in (*FAULTS, "timeout", *(["lost"] if site in MUTATING else []))
]


_expected: dict[str, dict] = {}


def expected_state(case: Case, tmp_path) -> dict:
    """The state the operation reaches without any fault (computed once, on a fresh world)."""
    if case.operation in _expected:
        return _expected[case.operation]
    client = create_skill_function(FN)
    svc = service(client, tmp_path / "clean.db")
    case.prepare(svc, client)()
    state = snapshot(client, svc)
    client.delete_function(FunctionName=FN)
    _expected[case.operation] = state
    return state


def service(client, db_path) -> UseCases:
    store = open_store(f"sqlite:///{db_path}")
    return compose_over(adapter(client), store, FakeClock(), function=FN, lock_timeout=5).cases


@pytest.mark.parametrize(
    ("case", "site", "kind"),
    POINTS,
    ids=[f"{c.operation}-{site}-{kind}" for c, site, kind in POINTS],
)
def test_fault_point(aws, tmp_path, case, site, kind):
    want = expected_state(case, tmp_path)
    client = create_skill_function(FN)
    svc = service(client, tmp_path / "bot.db")
    attempt = case.prepare(svc, client)
    before = snapshot(client, svc)

    if (site, kind) in ABSORBED:
        with inject(client, site, kind) as hits:
            attempt()
        assert hits[0] == 1, f"{site} is not called by {case.operation}"
        assert snapshot(client, svc) == want, "waited out, then done once"
        return
    with inject(client, site, kind) as hits, pytest.raises(SkillbotError) as err:
        attempt()
    assert hits[0] == 1, f"{site} is not called by {case.operation}"
    assert err.value.message and err.value.hint, "the person is told what happened and what to do"
    assert "Traceback" not in str(err.value)
    assert svc.reading.ctx.store.audit("trivia", 1)[0].outcome is Outcome.FAILED

    after = snapshot(client, svc)
    in_aws = {k: after[k] for k in ("aliases", "live", "triggers")}
    assert in_aws in ({k: before[k] for k in in_aws}, {k: want[k] for k in in_aws}), (
        "AWS is either unchanged or fully changed"
    )

    attempt()  # the retry succeeds
    assert snapshot(client, svc) == want, "converges, nothing done twice"
