"""The pure rules of the rotation, with no I/O at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import rotation
from bot.domain.errors import Refused, StalePlan
from bot.domain.model import (
    AlexaTrigger,
    AliasState,
    AuditEvent,
    Certification,
    FixKind,
    Move,
    Operation,
    Outcome,
    Plan,
)
from tests.support.fakes import SKILL_ID
from tests.support.world import trivia_skill

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def cert(sha: str = "abc", version: str = "3") -> Certification:
    return Certification("c1", "trivia", "PROD2", version, sha, "U0ALICE", "", NOW)


def move(op: str, old: str, new: str) -> AuditEvent:
    return AuditEvent(
        "e",
        NOW,
        "trivia",
        op,
        Outcome.APPLIED,
        "U",
        alias="PROD1",
        from_version=old,
        to_version=new,
    )


def test_recorded_role_wins_over_the_skills_file():
    roles = rotation.resolve_roles(trivia_skill(), "PROD2")
    assert (roles.live_alias, roles.candidate_alias, roles.recorded) == ("PROD2", "PROD1", True)


def test_unknown_recorded_role_falls_back_to_the_skills_file():
    roles = rotation.resolve_roles(trivia_skill(), "PROD9")
    assert (roles.live_alias, roles.recorded) == ("PROD1", False)


@pytest.mark.parametrize("version", ["$LATEST", "latest", "", "7b"])
def test_only_published_versions_may_be_targets(version):
    with pytest.raises(Refused, match="published version"):
        rotation.check_published(version, "PROD1")


def test_candidate_code_is_refused_on_live():
    with pytest.raises(Refused, match="uncertified skill model") as err:
        rotation.check_not_candidate_code("abc", "v3", cert("abc"))
    assert "Promote" in err.value.hint


def test_other_code_passes_the_candidate_guard():
    rotation.check_not_candidate_code("def", "v4", cert("abc"))
    rotation.check_not_candidate_code("abc", "v4", None)


def test_second_certification_is_refused_while_one_is_pending():
    with pytest.raises(Refused, match="already has a pending certification"):
        rotation.check_no_pending(cert(), "trivia")


def test_previous_version_steps_back_through_history():
    moves = [move("hotfix", "3", "4"), move("hotfix", "1", "3")]
    assert rotation.previous_version("4", moves) == "3"
    rolled = [move("rollback", "4", "3"), *moves]
    assert rotation.previous_version("3", rolled) == "1"
    assert rotation.previous_version("9", moves) is None


def test_a_plan_is_stale_when_its_alias_moved():
    move = Move("NA", "trivia-skill", "7", None, "abc", "rev-1")
    plan = Plan("p", "trivia", Operation.HOTFIX, "PROD1", "U", "", NOW, moves=(move,))
    rotation.check_fresh(plan, AliasState("PROD1", "7", "rev-1"))
    with pytest.raises(StalePlan, match="moved from v7 to v8"):
        rotation.check_fresh(plan, AliasState("PROD1", "8", "rev-2"))
    with pytest.raises(StalePlan, match="configuration changed"):
        rotation.check_fresh(plan, AliasState("PROD1", "7", "rev-2"))


def healthy_inputs():
    skill = trivia_skill()
    aliases = {"PROD1": AliasState("PROD1", "1", "r1"), "PROD2": AliasState("PROD2", "2", "r2")}
    triggers = {a: [AlexaTrigger("s", a, SKILL_ID)] for a in aliases}
    return skill, aliases, triggers


def test_doctor_finds_nothing_on_a_healthy_skill():
    skill, aliases, triggers = healthy_inputs()
    roles = rotation.resolve_roles(skill, "PROD1")
    findings = rotation.diagnose(skill, roles, "PROD1", aliases, triggers, None)
    assert all(f.ok for f in findings), findings
    assert {f.check for f in findings} >= {"role record", "Alexa trigger on PROD2"}


def test_doctor_offers_one_fix_per_missing_piece():
    skill, aliases, triggers = healthy_inputs()
    aliases["PROD2"] = None
    aliases["PROD1"] = AliasState("PROD1", "1", "r1", routing={"2": 0.1})
    triggers = {"PROD1": [AlexaTrigger("s", "PROD1", None)]}
    roles = rotation.resolve_roles(skill, None)
    findings = rotation.diagnose(skill, roles, None, aliases, triggers, "2")
    fixes = {(f.fix, f.alias) for f in findings if f.fix}
    assert fixes == {
        (FixKind.CREATE_ALIAS, "PROD2"),
        (FixKind.CLEAR_ROUTING, "PROD1"),
        (FixKind.ADD_TRIGGER, "PROD1"),
        (FixKind.RECORD_ROLES, "PROD1"),
    }
    create = next(f for f in findings if f.fix is FixKind.CREATE_ALIAS)
    assert create.fix_version == "1"  # the live alias's version: same code as live
    unverified = next(f for f in findings if f.fix is FixKind.ADD_TRIGGER)
    assert "no skill-id verification" in unverified.detail


def test_doctor_flags_an_alias_on_latest_without_an_automatic_fix():
    skill, aliases, triggers = healthy_inputs()
    aliases["PROD1"] = AliasState("PROD1", "$LATEST", "r1")
    findings = rotation.diagnose(
        skill, rotation.resolve_roles(skill, "PROD1"), "PROD1", aliases, triggers, None
    )
    bad = [f for f in findings if not f.ok]
    assert [(f.check, f.fix) for f in bad] == [("PROD1 on a published version", None)]
