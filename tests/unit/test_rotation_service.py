"""The rotation service over the fake Lambda (real AWS semantics) and a SQLite store."""

from __future__ import annotations

import pytest

from bot.adapters.slack.kit import say
from bot.domain.errors import NotAuthorized, NotFound, Refused, StalePlan, Unavailable
from bot.domain.model import CertificationState, FixKind, Outcome
from tests.support.fakes import sha
from tests.support.users import APPROVER, OPERATOR, STRANGER
from tests.support.world import make_world


@pytest.fixture
def w():
    return make_world()


def outcomes(w, op=None):
    return [
        (e.operation, e.outcome)
        for e in reversed(w.store.audit("trivia", 100))
        if op is None or e.operation == op
    ]


def test_hotfix_publishes_latest_and_moves_only_the_live_alias(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash")
    assert (plan.alias, plan.from_version, plan.to_version) == ("PROD1", "1", None)
    assert plan.code_sha256 == sha("code-3")
    assert w.alias("PROD1") == "1", "planning changes nothing"
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert (w.alias("PROD1"), w.alias("PROD2")) == ("3", "2")
    assert change.headline() == "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash"
    assert ("hotfix", Outcome.APPLIED) in outcomes(w)


def test_a_hotfix_confirm_is_two_aws_round_trips(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.calls.clear()
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    # the guarded publish and the alias read side by side, then the guarded alias move
    assert sorted(w.lam.calls[:2]) == ["get_alias PROD1", "publish_version"]
    assert w.lam.calls[2] == "update_alias PROD1 3"
    # after the announcement only reads follow (the App Home refresh)
    assert not [c for c in w.lam.calls[3:] if not c.startswith("get_")]


def test_hotfix_to_a_named_version(w):
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="v2")
    assert plan.to_version == "2"
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.alias("PROD1") == "2"


def test_hotfix_is_a_noop_when_live_already_runs_latest(w):
    w.lam.deploy("trivia-skill", "code-1")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert plan.noop and plan.to_version == "1"
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert change.noop and w.alias("PROD1") == "1"
    assert outcomes(w, "hotfix")[-1] == ("hotfix", Outcome.NOOP)


def test_hotfix_never_points_live_at_latest(w):
    with pytest.raises(Refused, match="published version"):
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="$LATEST")


def test_unknown_version_names_the_versions_that_exist(w):
    with pytest.raises(NotFound) as err:
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="42")
    assert "2, 1" in err.value.hint


def test_unknown_skill_names_the_known_ones(w):
    with pytest.raises(NotFound, match="no skill called 'quiz'") as err:
        w.cases.planning.plan("hotfix", "quiz", actor=OPERATOR)
    assert "trivia" in err.value.hint


def certify_v3(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="new intents")
    return w.cases.applying.apply(plan.id, actor=OPERATOR)


def test_certify_moves_the_candidate_and_records_a_pending_certification(w):
    change = certify_v3(w)
    assert (w.alias("PROD1"), w.alias("PROD2")) == ("1", "3")
    pending = w.store.pending_certification("trivia")
    assert (pending.alias, pending.version, pending.requested_by) == ("PROD2", "3", OPERATOR)
    assert change.certification == pending


def test_hotfix_with_the_candidates_code_is_refused_and_changes_nothing(w):
    certify_v3(w)  # $LATEST holds the candidate's code now
    before = dict(w.lam.functions["trivia-skill"].aliases)
    with pytest.raises(Refused, match="uncertified skill model"):
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    with pytest.raises(Refused):
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, version="3")
    assert w.lam.functions["trivia-skill"].aliases == before
    assert outcomes(w, "hotfix") == [("hotfix", Outcome.REFUSED)] * 2


def test_the_candidate_guard_is_checked_again_at_confirm(w):
    w.lam.deploy("trivia-skill", "code-3")
    hotfix = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)  # before any certification
    certify = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, version="2")
    w.cases.applying.apply(certify.id, actor=OPERATOR)
    w.lam.deploy("trivia-skill", "code-2")
    with pytest.raises(StalePlan):
        w.cases.applying.apply(hotfix.id, actor=OPERATOR)
    assert w.alias("PROD1") == "1"


def test_second_certification_is_refused_while_one_is_pending(w):
    certify_v3(w)
    with pytest.raises(Refused, match="already has a pending certification"):
        w.cases.planning.plan("certify", "trivia", actor=OPERATOR)


def test_promote_swaps_roles_without_moving_an_alias_and_is_idempotent(w):
    certify_v3(w)
    change = w.cases.promotion.promote("trivia", actor=APPROVER)
    assert w.lam.read_live_alias("trivia-skill") == "PROD2"
    assert (w.alias("PROD1"), w.alias("PROD2")) == ("1", "3")
    assert change.headline().startswith("trivia: promoted — live PROD1 v1 → PROD2 v3")
    cert = change.certification
    assert cert.state is CertificationState.PROMOTED and cert.ended_by == APPROVER
    again = w.cases.promotion.promote(actor=APPROVER, certification_id=cert.id)
    assert again.noop and w.lam.read_live_alias("trivia-skill") == "PROD2"


def test_only_approvers_promote_and_the_refusal_says_who_may(w):
    certify_v3(w)
    with pytest.raises(NotAuthorized, match="Only approvers") as err:
        w.cases.promotion.promote("trivia", actor=OPERATOR)
    assert "<@U0CAROL>" in say(err.value.todo)
    assert w.lam.read_live_alias("trivia-skill") is None
    assert outcomes(w, "promote") == [("promote", Outcome.REFUSED)]


def test_promote_refuses_when_the_candidate_no_longer_serves_the_certified_version(w):
    certify_v3(w)
    w.lam.point("trivia-skill", "PROD2", "1")  # someone moved it in the console
    with pytest.raises(Refused, match="uncertified code live"):
        w.cases.promotion.promote("trivia", actor=APPROVER)
    assert w.lam.read_live_alias("trivia-skill") is None


def test_promote_after_a_crash_between_tag_and_record_completes_the_record(w):
    change = certify_v3(w)
    w.lam.write_live_alias("trivia-skill", "PROD2")  # the tag was written, then the bot died
    done = w.cases.promotion.promote("trivia", actor=APPROVER)
    assert not done.noop and done.certification.state is CertificationState.PROMOTED
    assert done.certification.id == change.certification.id


def test_a_plan_made_before_a_promotion_is_stale_after_it(w):
    certify_v3(w)
    w.lam.deploy("trivia-skill", "code-4")
    hotfix = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)  # for PROD1, live now
    w.cases.promotion.promote("trivia", actor=APPROVER)
    with pytest.raises(StalePlan, match="roles rotated"):
        w.cases.applying.apply(hotfix.id, actor=OPERATOR)
    assert w.alias("PROD1") == "1"


def test_rollback_returns_live_to_its_previous_version(w):
    w.lam.deploy("trivia-skill", "code-3")
    w.cases.applying.apply(
        w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR).id, actor=OPERATOR
    )
    plan = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, reason="v3 is slow")
    assert (plan.from_version, plan.to_version) == ("3", "1")
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.alias("PROD1") == "1"


def test_rollback_without_history_asks_for_a_version(w):
    with pytest.raises(Refused, match="No earlier version") as err:
        w.cases.planning.plan("rollback", "trivia", actor=OPERATOR)
    assert "rollback trivia VERSION" in err.value.hint


def test_cancel_ends_the_pending_certification(w):
    certify_v3(w)
    plan = w.cases.planning.plan("cancel", "trivia", actor=OPERATOR, reason="model bug")
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert change.certification.state is CertificationState.CANCELLED
    assert w.store.pending_certification("trivia") is None
    with pytest.raises(Refused, match="no pending certification"):
        w.cases.planning.plan("cancel", "trivia", actor=OPERATOR)


def test_a_plan_applies_once_even_when_confirmed_twice(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    with pytest.raises(Refused, match="already handled"):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.lam.calls.count("publish_version") == 1


def test_a_stale_plan_is_refused_with_the_reason(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.point("trivia-skill", "PROD1", "2")  # moved elsewhere meanwhile
    with pytest.raises(StalePlan, match="PROD1 moved from v1 to v2"):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    # publishing ran beside the alias read: additive and harmless, no alias moved to it
    assert w.alias("PROD1") == "2" and w.alias("PROD2") == "2"
    assert not [c for c in w.lam.calls if c.startswith("update_alias")]
    assert w.store.plan_status(plan.id) == "stale"


def test_new_code_since_the_plan_is_refused_before_publishing(w):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    w.lam.deploy("trivia-skill", "code-4")
    with pytest.raises(StalePlan, match=r"code in \$LATEST changed"):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert "3" not in w.lam.functions["trivia-skill"].versions


def test_strangers_can_neither_plan_nor_confirm(w):
    with pytest.raises(NotAuthorized, match="Only operators") as err:
        w.cases.planning.plan("hotfix", "trivia", actor=STRANGER)
    assert "<@U0ALICE>" in say(err.value.todo)
    plan = w.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    with pytest.raises(NotAuthorized):
        w.cases.applying.apply(plan.id, actor=STRANGER)
    assert w.alias("PROD1") == "1"
    assert [e.actor for e in w.store.audit("trivia") if e.outcome is Outcome.REFUSED] == [
        STRANGER,
        STRANGER,
    ]


def test_a_transient_failure_leaves_the_plan_confirmable(w, monkeypatch):
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    real = w.lam.update_alias

    def throttled(*a, **k):
        raise Unavailable("AWS throttled")

    monkeypatch.setattr(w.lam, "update_alias", throttled)
    with pytest.raises(Unavailable):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.alias("PROD1") == "1"
    assert outcomes(w, "hotfix")[-1] == ("hotfix", Outcome.FAILED)
    monkeypatch.setattr(w.lam, "update_alias", real)
    w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.alias("PROD1") == "3"


def test_doctor_fixes_each_missing_piece_with_one_change(w):
    fn = w.lam.functions["trivia-skill"]
    del fn.aliases["PROD2"]
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    assert not report.healthy
    kinds = sorted((p.fix.value, p.alias) for p in report.fixes)
    assert kinds == [
        ("add_trigger", "PROD1"),
        ("create_alias", "PROD2"),
        ("record_roles", "PROD1"),
    ]
    for plan in report.fixes:
        w.lam.calls.clear()
        w.cases.applying.apply(plan.id, actor=OPERATOR)
        changes = [c for c in w.lam.calls if not c.startswith("get_")]
        assert len(changes) == 1, changes
    assert w.alias("PROD2") == "1"
    # the trigger on the newly created alias is the next doctor run's fix
    second = w.cases.planning.doctor("trivia", actor=OPERATOR)
    assert [(p.fix, p.alias) for p in second.fixes] == [(FixKind.ADD_TRIGGER, "PROD2")]
    w.cases.applying.apply(second.fixes[0].id, actor=OPERATOR)
    assert w.cases.planning.doctor("trivia", actor=OPERATOR).healthy


def test_status_shows_roles_versions_and_the_pending_certification(w):
    certify_v3(w)
    view = w.cases.reading.status("trivia")
    assert [(a.name, a.role, a.state.version) for a in view.aliases] == [
        ("PROD1", "live", "1"),
        ("PROD2", "candidate", "3"),
    ]
    assert view.pending.version == "3" and not view.roles.recorded
    assert view.aliases[1].last_change.operation == "certify"
