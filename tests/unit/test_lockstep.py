"""A skill served from three regions (NA, EU, FE) rotates in lockstep: every operation
moves every region's function, refuses before anything moves when the regions are out of
sync, and a region left behind by a failure is finished by confirming again."""

from __future__ import annotations

import pytest

from bot.adapters.slack import plans, reports
from bot.domain.errors import NotFound, PartlyApplied, Refused, StalePlan, Unavailable
from bot.domain.model import FixKind, Outcome
from tests.support.fakes import sha
from tests.support.regions import EU, FE, NA, FlakyLambda, make_regional_world
from tests.support.users import APPROVER, OPERATOR


@pytest.fixture
def w():
    return make_regional_world(FlakyLambda())


def announcements(w):
    return [p.text for p in w.notifier.posted if p.channel == "C0TRIVIA" and not p.thread_ts]


def versions(w):
    return {f: len(w.lam.functions[f].versions) for f in (NA, EU, FE)}


def test_a_hotfix_moves_every_region_and_is_announced_once_naming_each(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash")
    text, body = plans.plan_message(plan)
    assert text == (
        "Plan: hotfix trivia: PROD1 NA v1 → a new version from $LATEST, "
        "EU v2 → a new version, FE v1 → a new version"
    )
    for line in ("*NA*: v1 → a new version", "*EU*: v2 → a new version", "*FE*: v1 → a new"):
        assert line in str(body)
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}, "planning moves nothing"
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    # each region publishes its own version number, all with the same code
    assert w.aliases("PROD1") == {"NA": "3", "EU": "4", "FE": "3"}
    assert w.codes("PROD1") == {sha("code-3")}
    assert w.aliases("PROD2") == {"NA": "2", "EU": "3", "FE": "2"}
    [announced] = announcements(w)
    assert announced.startswith(
        "trivia: hotfix PROD1 v1 → v3 (NA), EU v2 → v4, FE v1 → v3 by <@U0ALICE> — crash"
    )
    assert change.headline() in announced


def test_regions_whose_latest_code_differs_are_refused_before_anything_moves(w):
    w.deploy("code-3")
    w.lam.deploy(EU, "code-3-eu")
    before = versions(w)
    with pytest.raises(Refused) as refused:
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert f"EU has code {sha('code-3-eu')[:4]}… deployed 23 h ago" in refused.value.message
    assert f"NA has {sha('code-3')[:4]}…" in refused.value.message
    assert "Deploy the same code to every region" in refused.value.hint
    assert versions(w) == before
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}


def test_code_deployed_in_one_region_after_the_plan_moves_no_region(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.deploy(FE, "code-4")
    with pytest.raises(StalePlan) as stale:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert stale.value.message.startswith("FE: The code in $LATEST changed")
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}
    assert announcements(w) == []


def test_one_regions_alias_moved_meanwhile_refuses_the_plan_in_every_region(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.point(EU, "PROD1", "1")  # someone moved EU's live alias in the console
    with pytest.raises(StalePlan) as stale:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert stale.value.message.startswith("EU: PROD1 moved from v2 to v1")
    assert w.aliases("PROD1") == {"NA": "1", "EU": "1", "FE": "1"}
    assert announcements(w) == []


def test_a_named_version_is_found_in_each_region_by_its_code(w):
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="2")
    assert [(m.region, m.to_version) for m in plan.regions] == [("EU", "3"), ("FE", "2")]
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.aliases("PROD1") == {"NA": "2", "EU": "3", "FE": "2"}
    assert w.codes("PROD1") == {sha("code-2")}


def test_a_version_a_region_lacks_is_refused_naming_the_region(w):
    w.lam.deploy(NA, "code-9")
    w.lam.publish_now(NA)  # v3 in NA only
    with pytest.raises(NotFound) as missing:
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="3")
    assert missing.value.message.startswith("EU: EU has no version with the code of v3")
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}


@pytest.mark.parametrize(
    "error, lost",
    [
        (Unavailable("AWS throttled move alias PROD1 even after retries."), False),
        (Unavailable("AWS did not answer move alias PROD1 in time."), True),
    ],
    ids=["throttled", "answer lost"],
)
def test_a_region_failing_midway_is_reported_and_a_second_confirm_finishes_it(w, error, lost):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash")
    w.lam.fail_update(EU, error, lost=lost)
    with pytest.raises(PartlyApplied) as partly:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    message = partly.value.message
    assert "Moved: NA v1 → v3, FE v1 → v3" in message
    assert f"Not moved: EU: {error.message}" in message
    assert "Press Confirm again" in partly.value.hint
    assert announcements(w) == [], "nothing is announced until every region moved"
    [failed] = [e for e in w.services.runtime.store.audit("trivia") if e.outcome is Outcome.FAILED]
    assert "Moved: NA v1 → v3, FE v1 → v3" in failed.detail
    status = w.cases.reading.status("trivia")
    if not lost:
        assert status.disagreement and "PROD1 serves" in status.disagreement
        assert "the regions disagree" in reports.status_text(status)
    moves_before = [c for c in w.lam.calls if c.startswith("update_alias")]

    change = w.cases.applying.apply(plan.id, actor=OPERATOR)  # Confirm again
    assert w.aliases("PROD1") == {"NA": "3", "EU": "4", "FE": "3"}
    moves_after = [c for c in w.lam.calls if c.startswith("update_alias")][len(moves_before) :]
    assert moves_after == ([] if lost else ["update_alias PROD1 4"]), "NA and FE stay put"
    assert w.cases.reading.status("trivia").disagreement is None
    [announced] = announcements(w)
    assert "(NA), EU v2 → v4, FE v1 → v3" in announced
    assert change.headline() in announced


def test_a_region_changed_by_someone_else_midway_needs_a_new_plan_for_it_only(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.fail_update(EU, StalePlan("PreconditionFailedException: revision id mismatch"))
    with pytest.raises(StalePlan) as stale:
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert "Moved: NA v1 → v3, FE v1 → v3" in stale.value.message
    assert "the new plan moves only the regions still behind (EU)" in stale.value.hint
    again = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert not again.noop and again.to_version == "3" and again.from_version == "3"
    assert [(m.region, m.noop) for m in again.regions] == [("EU", False), ("FE", True)]
    w.cases.applying.apply(again.id, actor=OPERATOR)
    assert w.aliases("PROD1") == {"NA": "3", "EU": "4", "FE": "3"}
    assert w.codes("PROD1") == {sha("code-3")}


def test_certify_promote_and_rollback_move_every_region_together(w):
    w.deploy("code-3")
    certify = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="new model")
    w.cases.applying.apply(certify.id, actor=OPERATOR)
    assert w.aliases("PROD2") == {"NA": "3", "EU": "4", "FE": "3"}
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}
    promoted = w.cases.promotion.promote("trivia", actor=APPROVER)
    tags = {f: w.lam.functions[f].tags.get("skillbot:live-alias") for f in (NA, EU, FE)}
    assert tags == {NA: "PROD2", EU: "PROD2", FE: "PROD2"}
    assert "PROD2 v3 (NA), EU v2 → v4, FE v1 → v3" in promoted.headline()
    rollback = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    w.cases.applying.apply(rollback.id, actor=OPERATOR)
    assert w.aliases("PROD2") == {"NA": "2", "EU": "3", "FE": "2"}
    assert w.codes("PROD2") == {sha("code-2")}


def test_doctor_reports_a_region_recording_another_live_alias_and_fix_aligns_it(w):
    w.lam.write_live_alias(NA, "PROD1")
    w.lam.write_live_alias(EU, "PROD2")
    w.lam.write_live_alias(FE, "PROD1")
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    [problem] = [f for f in report.findings if f.check == "EU: role record"]
    assert not problem.ok and "EU's function records PROD2 as live, NA's PROD1" in problem.detail
    [fix] = [p for p in report.fixes if p.region == "EU" and p.fix is FixKind.RECORD_ROLES]
    assert [p.region for p in report.fixes if p.fix is FixKind.ADD_TRIGGER] == [
        None,
        None,
        "EU",
        "EU",
        "FE",
        "FE",
    ], "every region's aliases lack the Alexa trigger"
    change = w.cases.applying.apply(fix.id, actor=OPERATOR)
    assert w.lam.functions[EU].tags["skillbot:live-alias"] == "PROD1"
    assert "record PROD1 as live on the function in EU" in change.headline()


def test_recovery_finishes_a_regional_plan_a_crash_cut_short(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.fail_update(EU, Unavailable("no answer"))
    with pytest.raises(PartlyApplied):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    # as if the process had died while applying: the plan is left "applying"
    assert w.services.runtime.store.claim_plan(plan.id)
    report = w.services.runtime.recovery.run()
    assert report.completed == [plan.summary()]
    assert w.aliases("PROD1") == {"NA": "3", "EU": "4", "FE": "3"}
    [announced] = announcements(w)
    assert "(NA), EU v2 → v4, FE v1 → v3" in announced


def test_recovery_leaves_a_regional_plan_no_region_of_which_moved_to_be_confirmed(w):
    w.deploy("code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert w.services.runtime.store.claim_plan(plan.id)  # died before any AWS change
    report = w.services.runtime.recovery.run()
    assert report.interrupted == [plan.summary()]
    assert w.aliases("PROD1") == {"NA": "1", "EU": "2", "FE": "1"}
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.aliases("PROD1") == {"NA": "3", "EU": "4", "FE": "3"}
