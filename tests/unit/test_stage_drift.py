"""A stage compared place by place: the live stage's drift (doctor), and the words of the
publication guard and of the check after publishing, for a skill in three regions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.adapters.slack.kit import say
from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import (
    Endpoint,
    StageTarget,
    addresses_to_enter,
    describe_misplaced,
    live_stage_drift,
    misplaced,
    name_endpoint,
)
from bot.domain.model import Placement, Roles, Skill

NA = "arn:aws:lambda:us-east-1:123456789012:function:trivia-skill"
EU = "arn:aws:lambda:eu-west-1:123456789012:function:trivia"
FE = "arn:aws:lambda:us-west-2:123456789012:function:trivia"
SKILL = Skill(
    "trivia",
    (Placement("NA", NA), Placement("EU", EU), Placement("FE", FE)),
    "amzn1.ask.skill.1",
    ("PROD1", "PROD2"),
    "PROD1",
    "C0TRIVIA",
)
LIVE = Roles("PROD1", "PROD2")


def target(alias: str) -> StageTarget:
    return StageTarget(
        Endpoint(alias, f"{NA}:{alias}"),
        (("EU", Endpoint(alias, f"{EU}:{alias}")), ("FE", Endpoint(alias, f"{FE}:{alias}"))),
    )


TARGETS = {alias: target(alias) for alias in SKILL.aliases}


def stage(alias: str, **overrides: str) -> SkillEndpoints:
    """Every place calling its own region's ``alias``, but for ``overrides``."""
    regional = {"EU": f"{EU}:{alias}", "FE": f"{FE}:{alias}"}
    default = overrides.pop("default", f"{NA}:{alias}")
    return SkillEndpoints(default, {**regional, **overrides})


def test_a_live_stage_where_each_region_calls_its_own_live_alias_passes():
    drift = live_stage_drift(SKILL, LIVE, stage("PROD1"), TARGETS)
    assert drift.ok
    assert say(drift.detail) == "the live skill calls PROD1, each region its own function's"


def test_a_region_calling_the_default_functions_live_alias_is_drift():
    # the same alias, the live one, but the NA function's: EU's listeners run NA's code
    drift = live_stage_drift(SKILL, LIVE, stage("PROD1", EU=f"{NA}:PROD1"), TARGETS)
    assert not drift.ok
    assert f"region EU calls PROD1 NA (live), not `{EU}:PROD1` (PROD1 EU)" in say(drift.detail)
    assert "the default endpoint" not in say(drift.detail) and "region FE" not in say(drift.detail)
    # promoting would not help: the advice is to enter each region's own address
    assert "/skill promote" not in say(drift.detail)
    assert f"EU `{EU}:PROD1`" in say(drift.detail)
    assert f"the default `{NA}:PROD1`" in say(drift.detail)


def test_a_region_calling_another_regions_candidate_is_named_with_region_and_role():
    drift = live_stage_drift(SKILL, LIVE, stage("PROD1", FE=f"{EU}:PROD2"), TARGETS)
    assert not drift.ok
    assert f"region FE calls PROD2 EU (the candidate), not `{FE}:PROD1` (PROD1 FE)" in (
        say(drift.detail)
    )


def test_a_stage_wholly_on_the_candidate_suggests_promoting_it():
    found = live_stage_drift(SKILL, LIVE, stage("PROD2"), TARGETS)
    drift = replace(found, detail=say(found.detail))
    assert not drift.ok
    assert "the default endpoint calls PROD2 NA (the candidate)" in say(drift.detail)
    assert "region EU calls PROD2 EU (the candidate)" in say(drift.detail)
    assert "region FE calls PROD2 FE (the candidate)" in say(drift.detail)
    assert "PROD1 is recorded as live" in say(drift.detail)
    assert "/skill promote trivia" in say(drift.detail)


def test_a_region_without_its_own_function_must_call_the_defaults():
    # NA is in the manifest but the skill has no NA function: NA calls the default's
    assert live_stage_drift(SKILL, LIVE, stage("PROD1", NA=f"{NA}:PROD1"), TARGETS).ok
    drift = live_stage_drift(SKILL, LIVE, stage("PROD1", NA=f"{EU}:PROD1"), TARGETS)
    assert not drift.ok
    assert f"region NA calls PROD1 EU (live), not `{NA}:PROD1` (PROD1)" in say(drift.detail)


def test_an_unknown_address_is_shown_escaped_and_a_missing_default_is_named():
    drift = live_stage_drift(SKILL, LIVE, stage("PROD1", EU="arn:x<y>"), TARGETS)
    assert "region EU calls `arn:x&lt;y&gt;`, not" in say(drift.detail)
    unset = live_stage_drift(SKILL, LIVE, SkillEndpoints(None, {"EU": f"{EU}:PROD1"}), TARGETS)
    assert not unset.ok
    must = f"the default endpoint is not set (it must call `{NA}:PROD1` (PROD1))"
    assert must in say(unset.detail)


def test_a_skill_never_published_has_no_drift():
    assert live_stage_drift(SKILL, LIVE, None, TARGETS).ok


def test_api_gateway_regional_urls_are_compared_place_by_place():
    def url(region: str, alias: str) -> str:
        return f"https://{region.lower()}api.execute-api.eu-west-1.amazonaws.com/{alias.lower()}"

    targets = {
        a: StageTarget(
            Endpoint(a, url("na", a), "Wildcard"), (("EU", Endpoint(a, url("eu", a), "Wildcard")),)
        )
        for a in SKILL.aliases
    }
    live = SkillEndpoints(url("na", "PROD1"), {"EU": url("na", "PROD1")})
    drift = live_stage_drift(SKILL, LIVE, live, targets)
    assert not drift.ok
    assert f"region EU calls PROD1 NA (live), not `{url('eu', 'PROD1')}` (PROD1 EU)" in (
        say(drift.detail)
    )


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        (stage("PROD2"), []),
        (stage("PROD2", EU=f"{NA}:PROD2"), [("EU", f"{NA}:PROD2", f"{EU}:PROD2", "PROD2 EU")]),
        (stage("PROD2", NA=f"{NA}:PROD1"), [("NA", f"{NA}:PROD1", f"{NA}:PROD2", "PROD2")]),
    ],
)
def test_misplaced_names_each_wrong_place_and_its_own_address(calls, expected):
    found = misplaced(calls, TARGETS["PROD2"])
    assert [(m.place, m.calls, m.expected.uri, m.expected_name) for m in found] == expected


def test_a_refusal_names_per_place_the_address_that_place_must_call():
    names = {
        "PROD1": Endpoint("PROD1", f"{NA}:PROD1"),
        "PROD1 EU": Endpoint("PROD1", f"{EU}:PROD1"),
        "PROD2": Endpoint("PROD2", f"{NA}:PROD2"),
        "PROD2 EU": Endpoint("PROD2", f"{EU}:PROD2"),
    }
    wrong = misplaced(stage("PROD2", EU=f"{EU}:PROD1"), TARGETS["PROD2"])
    assert say(describe_misplaced(wrong, lambda uri: name_endpoint(uri, names, "PROD1"))) == (
        f"region EU calls `{EU}:PROD1` (PROD1 EU, the live alias), not `{EU}:PROD2` (PROD2 EU)"
    )
    assert say(addresses_to_enter(stage("PROD2"), TARGETS["PROD2"])) == (
        f"the default `{NA}:PROD2`, EU `{EU}:PROD2`, FE `{FE}:PROD2`"
    )
