"""Prune of a skill served from three regions (fake Lambda): every regional function is
pruned, each region keeping its own references, and doctor's code storage per AWS region."""

from __future__ import annotations

from typing import ClassVar

import pytest

from bot.adapters.slack import plans
from bot.adapters.slack.kit import say
from bot.domain.model import Outcome
from bot.domain.prune import size_label
from tests.support.fakes import FakeLambda
from tests.support.regions import EU, FE, NA, make_regional_world
from tests.support.users import OPERATOR


@pytest.fixture
def w():
    """NA: v1..v6 (PROD1 v1, PROD2 v2); EU: v1..v7 (PROD1 v2, PROD2 v3); FE like NA."""
    w = make_regional_world()
    for code in ("code-3", "code-4", "code-5", "code-6"):
        w.deploy(code)
        for function in (NA, EU, FE):
            w.lam.publish_now(function)
    w.lam.calls.clear()
    return w


def numbers(part):
    return [v.number for v in part.versions]


def left(w, function):
    return sorted(w.lam.functions[function].versions, key=int)


def test_the_plan_lists_each_regions_versions_with_its_own_references_and_totals(w):
    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    parts = {p.region: p for p in offer.regions}
    assert list(parts) == ["NA", "EU", "FE"]
    # each region keeps its own aliases' versions and its own most recent one
    assert numbers(parts["NA"]) == ["3", "4", "5"]
    assert numbers(parts["EU"]) == ["1", "4", "5", "6"]
    assert numbers(parts["FE"]) == ["3", "4", "5"]
    assert parts["EU"].freed == (1 + 4 + 5 + 6) * 1000
    assert offer.freed == (12 + 16 + 12) * 1000
    assert offer.plan.summary() == "prune trivia: delete 10 old version(s)"
    others = offer.plan.moves[1:]
    assert tuple((m.region, m.versions) for m in others) == (
        ("EU", ("1", "4", "5", "6")),
        ("FE", ("3", "4", "5")),
    )
    text, blocks = plans.prune_plan_message(offer.plan, offer.versions, offer.keep, offer.regions)
    assert text == f"Plan: prune trivia: delete 10 old version(s), {size_label(40000)} freed in all"
    shown = str(blocks)
    assert f"*EU* (`{EU}`): 4 version(s), {size_label(16000)} freed" in shown
    assert "*FE*" in shown and "*NA*" in shown
    assert not any(c.startswith("delete_version") for c in w.lam.calls), "a plan deletes nothing"


def test_the_pending_candidates_version_is_kept_in_each_region_by_its_code(w):
    w.deploy("code-7")
    certify = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="new model")
    w.cases.applying.apply(certify.id, actor=OPERATOR)
    assert w.aliases("PROD2") == {"NA": "7", "EU": "8", "FE": "7"}
    # EU's candidate alias is moved by hand; its version with the certification's code stays
    w.lam.point(EU, "PROD2", "3")
    w.deploy("code-8")
    for function in (NA, EU, FE):
        w.lam.publish_now(function)
    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    parts = {p.region: numbers(p) for p in offer.regions}
    assert "8" not in parts["EU"] and "7" in parts["EU"]
    assert "7" not in parts["NA"] and "7" not in parts["FE"]
    assert parts["EU"] == ["1", "4", "5", "6", "7"]


def test_confirm_deletes_one_by_one_per_region_rechecking_each_regions_references(w):
    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    w.lam.point(EU, "qa", "5")  # meanwhile, in EU only
    change = w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert left(w, NA) == ["1", "2", "6"]
    assert left(w, EU) == ["2", "3", "5", "7"]
    assert left(w, FE) == ["1", "2", "6"]
    deletes = [c for c in w.lam.calls if c.startswith("delete_version")]
    assert len(deletes) == 9, "one call per version, never a batch"
    assert change.notes[0] == f"NA: Deleted v3, v4, v5; {size_label(12000)} freed."
    assert f"EU: Deleted v1, v4, v6; {size_label(11000)} freed." in change.notes
    assert "EU: Kept, in use by now: v5 (alias qa points at it)." in change.notes
    assert change.notes[-1] == f"{size_label(35000)} freed in all."
    others = change.plan.moves[1:]
    assert tuple((m.region, m.versions) for m in others) == (
        ("EU", ("1", "4", "6")),
        ("FE", ("3", "4", "5")),
    )
    event = w.services.runtime.store.audit("trivia", 1)[0]
    assert (event.operation, event.outcome) == ("prune", Outcome.APPLIED)


def test_nothing_to_prune_in_any_region_saves_no_plan(w):
    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=10)
    assert offer.plan.noop and offer.freed == 0
    text, _ = plans.prune_plan_message(offer.plan, offer.versions, offer.keep, offer.regions)
    assert text.startswith("Nothing to prune in trivia in any region")
    assert w.services.runtime.store.get_plan(offer.plan.id) is None


class StorageLambda(FakeLambda):
    """Code storage per AWS region, as ``GetAccountSettings`` answers there."""

    used: ClassVar[dict[str, int]] = {"us-east-1": 10, "eu-west-1": 90, "us-west-2": 20}

    def code_storage(self, function=None):
        region = function.split(":")[3] if function and ":" in function else "us-east-1"
        return self.used[region], 100


def test_doctor_reads_code_storage_in_each_aws_region():
    w = make_regional_world(StorageLambda())
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    storage = {f.check: f for f in report.findings if f.check.endswith("code storage")}
    assert set(storage) == {"code storage", "EU: code storage", "FE: code storage"}
    assert storage["code storage"].ok and storage["FE: code storage"].ok
    eu = storage["EU: code storage"]
    detail = say(eu.detail)
    assert not eu.ok and detail.startswith("eu-west-1: ") and "`/skill prune trivia`" in detail


def test_doctor_reads_an_aws_regions_storage_once_when_two_functions_share_it():
    same = "arn:aws:lambda:eu-west-1:123456789012:function:trivia-fe"
    w = make_regional_world(StorageLambda(), regional_functions={"EU": EU, "FE": same})
    w.lam.add_function(same, "code-1")
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    checks = [f.check for f in report.findings if f.check.endswith("code storage")]
    assert checks == ["code storage", "EU: code storage"]
