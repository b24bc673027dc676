"""Alexa's regional endpoints of a skill in three regions (the fake SMAPI over HTTP): the
development stage is re-pointed region by region, each region at its own function's
candidate alias; the publication guard and the drift check compare region by region."""

from __future__ import annotations

import pytest

from bot.adapters.smapi import SmapiClient, SmapiCredentials
from bot.devkit.fake_smapi import FakeSmapi
from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import Endpoint, StageTarget, wrong_endpoints
from bot.service.alexa_endpoints import Polling
from tests.support.fakes import SKILL_ID, FakeLambda
from tests.support.regions import EU, FE, NA, make_regional_world
from tests.support.users import OPERATOR

NA_ARN = f"arn:aws:lambda:eu-west-1:123456789012:function:{NA}"


def arns(alias: str) -> dict[str, str]:
    return {"default": f"{NA_ARN}:{alias}", "EU": f"{EU}:{alias}", "FE": f"{FE}:{alias}"}


@pytest.fixture
def smapi():
    with FakeSmapi() as fake:
        fake.add_skill(SKILL_ID)
        live = arns("PROD1")
        fake.set_stage_endpoint(
            SKILL_ID, "development", live["default"], {"EU": live["EU"], "FE": live["FE"]}
        )
        yield fake


def test_certify_and_submit_points_each_region_at_its_own_candidate(smapi):
    env = smapi.env()
    client = SmapiClient(
        SmapiCredentials(
            env["ALEXA_LWA_CLIENT_ID"],
            env["ALEXA_LWA_CLIENT_SECRET"],
            env["ALEXA_LWA_REFRESH_TOKEN"],
        ),
        base_url=env["ALEXA_SMAPI_URL"],
        token_url=env["ALEXA_LWA_TOKEN_URL"],
    )
    w = make_regional_world(
        FakeLambda(),
        smapi=client,
        polling=Polling(build_timeout=5, sleep=lambda s: None),
    )
    w.deploy("code-3")
    plan = w.service.plan_certify("trivia", actor=OPERATOR)
    change = w.service.apply(plan.id, actor=OPERATOR, submit=True)
    assert smapi.stage_uris(SKILL_ID, "development") == arns("PROD2")
    assert any("Pointed the development stage at" in n for n in change.notes), change.notes
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
    assert wrong_endpoints(calls, target) == [("EU", arns("PROD2")["default"])]
