"""Alexa's regional endpoints of a skill in three regions (the fake SMAPI over HTTP): the
development stage is re-pointed region by region, each region at its own function's
candidate alias; the publication guard, the check after publishing and doctor's drift
check compare region by region and name, per wrong region, the address it must call."""

from __future__ import annotations

import pytest

from bot.adapters.slack.kit import say
from bot.devkit.fake_smapi import FakeSmapi
from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import Endpoint, StageTarget, misplaced
from bot.domain.errors import Refused
from bot.service.alexa_endpoints import Polling
from tests.support.fakes import SKILL_ID, FakeLambda, Waits
from tests.support.regions import EU, FE, NA, RegionalWorld, make_regional_world
from tests.support.smapi import smapi_client
from tests.support.users import APPROVER, OPERATOR

NA_ARN = f"arn:aws:lambda:eu-west-1:123456789012:function:{NA}"


def arns(alias: str) -> dict[str, str]:
    return {"default": f"{NA_ARN}:{alias}", "EU": f"{EU}:{alias}", "FE": f"{FE}:{alias}"}


@pytest.fixture
def smapi(smapi):
    live = arns("PROD1")
    smapi.set_stage_endpoint(
        SKILL_ID, "development", live["default"], {"EU": live["EU"], "FE": live["FE"]}
    )
    return smapi


def test_certify_and_submit_points_each_region_at_its_own_candidate(smapi):
    w = make_regional_world(
        FakeLambda(),
        smapi=smapi_client(smapi),
        polling=Polling(build_timeout=5, sleep=lambda s: None),
    )
    w.deploy("code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    change = w.cases.applying.apply(plan.id, actor=OPERATOR, submit=True)
    assert smapi.stage_uris(SKILL_ID, "development") == arns("PROD2")
    assert any("Pointed the development stage at" in say(n) for n in change.notes), change.notes
    assert w.aliases("PROD2") == {"NA": "3", "EU": "4", "FE": "3"}


def test_a_region_calling_another_regions_alias_is_wrong():
    target = StageTarget(
        Endpoint("PROD2", arns("PROD2")["default"]),
        (("EU", Endpoint("PROD2", arns("PROD2")["EU"])),),
    )
    calls = SkillEndpoints(
        default=arns("PROD2")["default"],
        regional={"NA": arns("PROD2")["default"], "EU": arns("PROD2")["default"]},
    )
    assert [(m.place, m.calls) for m in misplaced(calls, target)] == [
        ("EU", arns("PROD2")["default"])
    ]


# -- each region compared with its own region's address -----------------------------------


@pytest.fixture
def world(smapi):
    return make_regional_world(FakeLambda(), smapi=smapi_client(smapi), polling=Waits().polling())


def drift(w: RegionalWorld):
    report = w.cases.planning.doctor("trivia", actor=OPERATOR)
    [finding] = [f for f in report.findings if f.check == "live Alexa endpoint"]
    return finding


def test_doctor_reports_a_region_calling_the_default_functions_live_alias(world, smapi):
    live = arns("PROD1")
    smapi.set_live_endpoint(SKILL_ID, live["default"], {"EU": live["EU"], "FE": live["FE"]})
    assert drift(world).ok
    # EU's endpoint calls the live alias, but the NA function's: EU's customers run NA's code
    smapi.set_live_endpoint(SKILL_ID, live["default"], {"EU": live["default"], "FE": live["FE"]})
    finding = drift(world)
    assert not finding.ok
    assert f"region EU calls PROD1 NA (live), not `{live['EU']}` (PROD1 EU)" in say(finding.detail)
    assert "region FE" not in say(finding.detail) and "the default endpoint" not in say(
        finding.detail
    )


def test_doctor_names_a_region_left_on_the_candidate(world, smapi):
    live, candidate = arns("PROD1"), arns("PROD2")
    smapi.set_live_endpoint(SKILL_ID, live["default"], {"EU": live["EU"], "FE": candidate["FE"]})
    finding = drift(world)
    assert not finding.ok
    assert f"region FE calls PROD2 FE (the candidate), not `{live['FE']}`" in say(finding.detail)
    assert "PROD1 is recorded as live" in say(finding.detail)
    # only FE moved: promoting would put the other regions on the candidate too
    assert "/skill promote" not in say(finding.detail)
    assert f"enter the default `{live['default']}`, EU `{live['EU']}`, FE `{live['FE']}`" in (
        say(finding.detail)
    )


def certify_and_submit(w: RegionalWorld, smapi: FakeSmapi) -> None:
    w.deploy("code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    w.cases.applying.apply(plan.id, actor=OPERATOR, submit=True)
    assert smapi.stage_uris(SKILL_ID, "certification") == arns("PROD2")
    smapi.set_certification(SKILL_ID, "SUCCEEDED", published_countries=["DE", "JP", "US"])


def test_publication_is_refused_naming_the_address_the_wrong_region_must_call(world, smapi):
    certify_and_submit(world, smapi)
    candidate, live = arns("PROD2"), arns("PROD1")
    # someone put EU back on the live alias in the version in certification
    smapi.set_stage_endpoint(
        SKILL_ID,
        "certification",
        candidate["default"],
        {"EU": live["EU"], "FE": candidate["FE"]},
    )
    with pytest.raises(Refused) as refused:
        world.cases.promotion.promote("trivia", actor=APPROVER)
    message = refused.value.message
    assert (
        f"region EU calls `{live['EU']}` (PROD1 EU, the live alias), not "
        f"`{candidate['EU']}` (PROD2 EU)" in message
    )
    assert "the default endpoint" not in message and "region FE" not in message
    assert "Nothing was published; the roles are unchanged." in message
    hint = refused.value.hint
    assert f"EU `{candidate['EU']}`" in hint and f"the default `{candidate['default']}`" in hint
    assert smapi.skill(SKILL_ID).publications == []
    assert world.cases.reading.status("trivia").roles.live_alias == "PROD1"


def test_after_publishing_a_region_left_behind_is_named_with_its_own_address(world, smapi):
    certify_and_submit(world, smapi)
    candidate, live = arns("PROD2"), arns("PROD1")
    smapi.live_follows_publication = False  # EU's part of the publication never arrives
    smapi.set_live_endpoint(
        SKILL_ID, candidate["default"], {"EU": live["EU"], "FE": candidate["FE"]}
    )
    change = world.cases.promotion.promote("trivia", actor=APPROVER)
    [alert] = map(say, change.alerts)
    assert (
        f"region EU calls `{live['EU']}` (PROD1 EU, the live alias), not "
        f"`{candidate['EU']}` (PROD2 EU)" in alert
    )
    assert "the default endpoint" not in alert and "region FE" not in alert
    assert f"EU `{candidate['EU']}`" in alert
    assert len(smapi.skill(SKILL_ID).publications) == 1
    finding = drift(world)  # doctor keeps naming it, now that PROD2 is live
    assert not finding.ok and "region EU calls PROD1 EU (the candidate)" in say(finding.detail)


def test_a_development_stage_without_eus_endpoint_gets_one_calling_eus_candidate(smapi):
    w = make_regional_world(
        FakeLambda(),
        smapi=smapi_client(smapi),
        polling=Polling(build_timeout=5, sleep=lambda s: None),
    )
    live = arns("PROD1")
    # the skill was published before EU had its own function: only FE has an endpoint
    smapi.set_stage_endpoint(SKILL_ID, "development", live["default"], {"FE": live["FE"]})
    w.deploy("code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    change = w.cases.applying.apply(plan.id, actor=OPERATOR, submit=True)
    assert smapi.stage_uris(SKILL_ID, "development") == arns("PROD2"), "EU added, on EU's own"
    [note] = [say(n) for n in change.notes if "Pointed the development stage at" in say(n)]
    assert "region EU had none" in note


def test_doctor_reports_a_live_skill_without_an_endpoint_for_a_region_with_its_own_function(
    world, smapi
):
    live = arns("PROD1")
    smapi.set_live_endpoint(SKILL_ID, live["default"], {"FE": live["FE"]})
    finding = drift(world)
    detail = say(finding.detail)
    assert not finding.ok
    assert "the live skill has no endpoint for EU" in detail
    assert f"Alexa sends EU customers to the default endpoint `{live['default']}`" in detail
    assert f"enter EU `{live['EU']}`" in detail
