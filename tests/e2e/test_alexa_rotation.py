"""The Alexa side of the rotation through the real process (``python -m bot`` over
moto_server, the fake Slack and the fake SMAPI): two full certification cycles with no
manual step, a publication refused because the certification stage calls the live alias,
and doctor's API Gateway findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import REGION, create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.fake_smapi import FakeSmapi
from bot.devkit.json_server import free_port
from tests.support.aws import live_tag
from tests.support.e2e import Bot
from tests.support.gateway import allow_gateway, gateway_statements, rest_api_for_aliases
from tests.support.messages import button_value
from tests.support.process import bot_env, start_bot
from tests.support.skills import CHANNEL, alexa_skill_id, skills_config, write_skills_file
from tests.support.smapi import smapi_calls
from tests.support.users import APPROVER

FN = "trivia-skill"
SKILL = alexa_skill_id(1)


def start(
    fake: FakeSlack, moto: str, tmp_path: Path, smapi: FakeSmapi | None = None, **skill_keys: Any
) -> Bot:
    config = write_skills_file(
        tmp_path / "skillbot.toml", skills_config(skill_keys={"trivia": skill_keys})
    )
    port = free_port()
    env = bot_env(tmp_path, fake.api_url, moto, port=port, config=config)
    env.update(smapi.env() if smapi else {})
    return Bot(f"http://127.0.0.1:{port}", fake, start_bot(env, cwd=tmp_path))


@pytest.fixture
def with_smapi(moto_endpoint, tmp_path, smapi) -> Iterator[tuple[Bot, Any, FakeSmapi]]:
    client = create_skill_function(FN, moto_endpoint)
    with FakeSlack() as fake:
        bot = start(fake, moto_endpoint, tmp_path, smapi)
        try:
            yield bot, client, smapi
        finally:
            bot.process.kill()


def arn(client, alias: str) -> str:
    return f"{client.get_function_configuration(FunctionName=FN)['FunctionArn']}:{alias}"


def certify_and_submit(b: Bot, client, code: str, alias: str) -> dict:
    deploy(client, FN, code)
    plan = b.command("certify -- next model")
    assert f"at `{arn(client, alias)}` ({alias})" in str(plan["blocks"])
    result = b.click(kit.CONFIRM_AND_SUBMIT, button_value(plan, kit.CONFIRM_AND_SUBMIT))
    assert "Submitted to Alexa" in result["text"], result["text"]
    [message] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if f"certify {alias}" in m["text"]]
    )
    return message


def promote(b: Bot, message: dict, new_live: str) -> dict:
    b.react(APPROVER, message["ts"])
    [promoted] = b.fake.wait_for(
        lambda f: [
            m
            for m in f.messages(CHANNEL)
            if "promoted — live" in m["text"] and f"→ {new_live}" in m["text"]
        ],
        timeout=20,
    )
    return promoted


def test_two_cycles_certify_and_publish_the_right_alias_each_time(with_smapi):
    b, client, smapi = with_smapi
    p1, p2 = arn(client, "PROD1"), arn(client, "PROD2")
    # today's skill: every stage, and every region, calls the live alias
    smapi.set_stage_endpoint(SKILL, "development", p1, {"EU": p1, "FE": p1})
    smapi.set_live_endpoint(SKILL, p1, {"EU": p1, "FE": p1})

    # cycle 1: PROD2 is certified, then published and made live
    mark = len(smapi.requests)
    message = certify_and_submit(b, client, "VERSION = 3\n", "PROD2")
    assert smapi.stage_uris(SKILL, "certification") == {"default": p2, "EU": p2, "FE": p2}
    smapi.set_certification(SKILL, "SUCCEEDED", published_countries=["US"])
    promoted = promote(b, message, "PROD2")
    assert ":rotating_light:" not in promoted["text"]
    assert smapi.stage_uris(SKILL, "live") == {"default": p2, "EU": p2, "FE": p2}
    assert live_tag(client) == "PROD2"
    assert smapi_calls(smapi, mark) == [
        "GET /stages/development/manifest",
        "PUT /stages/development/manifest",
        "GET /status?resource=manifest",
        "POST /submit",
        "GET /stages/certification/manifest",
        "POST /publications",
        "GET /stages/live/manifest",
    ]

    # cycle 2: PROD1 is the candidate now, and the development stage follows it
    message = certify_and_submit(b, client, "VERSION = 4\n", "PROD1")
    assert smapi.stage_uris(SKILL, "certification") == {"default": p1, "EU": p1, "FE": p1}
    smapi.set_certification(SKILL, "SUCCEEDED", published_countries=["US"])
    promote(b, message, "PROD1")
    assert smapi.stage_uris(SKILL, "live") == {"default": p1, "EU": p1, "FE": p1}
    assert live_tag(client) == "PROD1"
    assert len(smapi.skill(SKILL).submissions) == 2
    assert len(smapi.skill(SKILL).publications) == 2

    report = b.command("doctor")
    assert ":white_check_mark: live Alexa endpoint: the live skill calls PROD1" in str(
        report["blocks"]
    )


def test_a_certification_calling_the_live_alias_is_never_published(with_smapi):
    b, client, smapi = with_smapi
    message = certify_and_submit(b, client, "VERSION = 3\n", "PROD2")
    # someone re-pointed the submitted version at the live alias in the console
    smapi.set_stage_endpoint(SKILL, "certification", arn(client, "PROD1"))
    smapi.set_certification(SKILL, "SUCCEEDED", published_countries=["US"])
    b.react(APPROVER, message["ts"])
    [told] = b.fake.wait_for(
        lambda f: [
            r for r in f.thread_replies(CHANNEL, message["ts"]) if "Could not promote" in r["text"]
        ],
        timeout=20,
    )
    assert f"<@{APPROVER}>" in told["text"]
    assert f"`{arn(client, 'PROD1')}` (PROD1, the live alias)" in told["text"]
    assert "/skill cancel trivia" in told["text"]
    assert smapi.skill(SKILL).publications == []
    assert live_tag(client) is None  # the role stays with the skills file's PROD1
    assert not [m for m in b.fake.messages(CHANNEL) if "promoted" in m["text"]]


def test_doctor_checks_the_api_gateway_variant(moto_endpoint, tmp_path):
    client = create_skill_function(FN, moto_endpoint)
    urls = rest_api_for_aliases(client, FN, moto_endpoint)
    for alias, url in urls.items():
        allow_gateway(client, FN, alias, url)
    with FakeSlack() as fake:
        b = start(fake, moto_endpoint, tmp_path, endpoints=urls)
        try:
            report = str(b.command("doctor")["blocks"])
            for alias in ("PROD1", "PROD2"):
                assert f":white_check_mark: API Gateway integration of {alias}" in report
                assert f":white_check_mark: API Gateway may invoke {alias}" in report

            # break it: PROD1's stage now invokes PROD2, and PROD2's permission is gone
            gateway = boto3.client("apigateway", region_name=REGION, endpoint_url=moto_endpoint)
            api_id = urls["PROD1"].split("//", 1)[1].split(".", 1)[0]
            gateway.update_stage(
                restApiId=api_id,
                stageName="prod1",
                patchOperations=[{"op": "replace", "path": "/variables/alias", "value": "PROD2"}],
            )
            client.remove_permission(
                FunctionName=FN, Qualifier="PROD2", StatementId="apigateway-PROD2"
            )
            doctor = b.command("doctor")
            report = str(doctor["blocks"])
            assert ":x: API Gateway integration of PROD1" in report
            assert "invokes PROD2, not PROD1: the endpoints are crossed" in report
            assert (
                ":x: API Gateway may invoke PROD2: PROD2 has no resource policy statement" in report
            )

            done = b.click(kit.FIX_ALL, button_value(doctor, kit.FIX_ALL))
            assert "let its API Gateway endpoint invoke PROD2" in done["text"]
            [added] = gateway_statements(client, FN, "PROD2")
            assert added["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api_id}/*")
            report = str(b.command("doctor")["blocks"])
            assert ":white_check_mark: API Gateway may invoke PROD2" in report
            assert ":x: API Gateway integration of PROD1" in report  # left to a person
        finally:
            b.process.kill()
