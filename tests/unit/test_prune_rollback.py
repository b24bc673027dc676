"""Prune never deletes where ``rollback`` would go: the live alias's previous version in
the record, in every region (by its code there)."""

from __future__ import annotations

from tests.support.fakes import sha
from tests.support.regions import EU, FE, NA, make_regional_world
from tests.support.users import OPERATOR
from tests.support.world import make_world

FN = "trivia-skill"


def hotfix(w, code: str) -> None:
    w.lam.deploy(FN, code)
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason=code)
    w.cases.applying.apply(plan.id, actor=OPERATOR)


def test_prune_keeps_the_version_rollback_returns_to_and_rollback_still_works():
    w = make_world()
    for n in range(3, 10):  # v3..v9, nothing points at them
        w.lam.deploy(FN, f"code-{n}")
        w.lam.publish_now(FN)
    hotfix(w, "code-10")  # PROD1 v1 → v10
    hotfix(w, "code-11")  # PROD1 v10 → v11: rollback returns to v10
    assert w.alias("PROD1") == "11"

    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    doomed = [v.number for v in offer.versions]
    assert "10" not in doomed and doomed == ["1", "3", "4", "5", "6", "7", "8", "9"]
    change = w.cases.applying.apply(offer.plan.id, actor=OPERATOR)
    assert not change.noop
    assert sorted(w.lam.functions[FN].versions, key=int) == ["2", "10", "11"]

    back = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, reason="v11 is slow")
    w.cases.applying.apply(back.id, actor=OPERATOR)
    assert w.alias("PROD1") == "10"


def test_each_region_keeps_its_version_with_the_rollback_targets_code():
    w = make_regional_world()
    for code in ("code-3", "code-4"):
        w.deploy(code)
        for function in (NA, EU, FE):
            w.lam.publish_now(function)
    for code in ("code-5", "code-6"):  # two hotfixes: rollback returns to code-5
        w.deploy(code)
        plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason=code)
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    live = w.aliases("PROD1")
    target = {
        region: next(
            n for n, v in w.lam.functions[fn].versions.items() if v.code_sha256 == sha("code-5")
        )
        for region, fn in (("NA", NA), ("EU", EU), ("FE", FE))
    }
    offer = w.cases.pruning.plan_prune("trivia", actor=OPERATOR, keep=1)
    for part in offer.regions:
        doomed = {v.number for v in part.versions}
        assert target[part.region] not in doomed, (part.region, doomed)
        assert live[part.region] not in doomed
        assert doomed  # something else does go
