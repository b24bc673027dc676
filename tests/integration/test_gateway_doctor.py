"""The API Gateway variant through the real app over moto: doctor checks each alias's
HTTPS endpoint (REST API and HTTP API) and its invoke permission; Fix adds a missing
permission; a crossed integration is named and left to a person."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from botocore.stub import Stubber

from bot.adapters.apigateway import GatewayAdapter
from bot.adapters.slack.kit import say
from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from bot.domain.model import FixKind, Placement
from bot.service.gateway import GatewayChecks
from tests.support.gateway import (
    allow_gateway,
    gateway_statements,
    http_api_for_aliases,
    rest_api_for_aliases,
)
from tests.support.slack_world import make_slack_world
from tests.support.users import OPERATOR
from tests.support.world import trivia_skill

FN = "trivia-skill"


def world_with(tmp_path, client, urls, fake):
    return make_slack_world(
        fake, client, f"sqlite:///{tmp_path / 'bot.db'}", skill_keys={"trivia": {"endpoints": urls}}
    )


@pytest.fixture
def fake_slack():
    with FakeSlack() as fake:
        yield fake


def gateway_findings(report):
    return {f.check: f for f in report.findings if "API Gateway" in f.check}


@pytest.mark.parametrize("make_api", [rest_api_for_aliases, http_api_for_aliases])
def test_a_correct_setup_passes(aws, tmp_path, fake_slack, make_api):
    client = create_skill_function(FN)
    urls = make_api(client, FN)
    for alias, url in urls.items():
        allow_gateway(client, FN, alias, url)
    world = world_with(tmp_path, client, urls, fake_slack)
    try:
        report = world.services.cases.planning.doctor("trivia", actor=OPERATOR)
        found = gateway_findings(report)
        assert set(found) == {
            "API Gateway integration of PROD1",
            "API Gateway integration of PROD2",
            "API Gateway may invoke PROD1",
            "API Gateway may invoke PROD2",
        }
        assert all(f.ok for f in found.values()), [f.detail for f in found.values()]
        assert "invokes PROD2" in say(found["API Gateway integration of PROD2"].detail)
        assert {p.fix for p in report.fixes} == {FixKind.RECORD_ROLES}
        assert not [f for f in report.findings if f.check.startswith("Alexa trigger")]
    finally:
        world.services.close()


def test_a_missing_permission_is_named_and_fix_adds_it(aws, tmp_path, fake_slack):
    client = create_skill_function(FN)
    urls = rest_api_for_aliases(client, FN)
    allow_gateway(client, FN, "PROD1", urls["PROD1"])
    world = world_with(tmp_path, client, urls, fake_slack)
    try:
        cases = world.services.cases
        found = gateway_findings(cases.planning.doctor("trivia", actor=OPERATOR))
        missing = found["API Gateway may invoke PROD2"]
        assert not missing.ok and "PROD2 has no resource policy statement" in say(missing.detail)
        assert found["API Gateway may invoke PROD1"].ok
        report = cases.planning.doctor("trivia", actor=OPERATOR)
        [plan] = [p for p in report.fixes if p.fix is FixKind.ADD_GATEWAY_PERMISSION]
        assert plan.alias == "PROD2"

        change = cases.applying.apply(plan.id, actor=OPERATOR)
        assert not change.noop
        [added] = gateway_statements(client, FN, "PROD2")
        api_id = urls["PROD2"].split("//", 1)[1].split(".", 1)[0]
        source = added["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source == f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*"
        assert added["Sid"] == "skillbot-apigateway-PROD2"
        found = gateway_findings(cases.planning.doctor("trivia", actor=OPERATOR))
        assert all(f.ok for f in found.values())
    finally:
        world.services.close()


def test_a_crossed_integration_is_named_and_not_fixed(aws, tmp_path, fake_slack):
    client = create_skill_function(FN)
    urls = rest_api_for_aliases(client, FN, crossed=True)
    for alias, url in urls.items():
        allow_gateway(client, FN, alias, url)
    world = world_with(tmp_path, client, urls, fake_slack)
    try:
        report = world.services.cases.planning.doctor("trivia", actor=OPERATOR)
        found = gateway_findings(report)
        crossed = found["API Gateway integration of PROD1"]
        assert not crossed.ok and crossed.fix is None
        assert "invokes PROD2, not PROD1: the endpoints are crossed" in say(crossed.detail)
        assert urls["PROD1"] in say(crossed.detail) and "deploy the API" in say(crossed.detail)
        assert "invokes PROD1, not PROD2" in say(found["API Gateway integration of PROD2"].detail)
        assert {p.fix for p in report.fixes} == {FixKind.RECORD_ROLES}  # nothing for the pair
    finally:
        world.services.close()


def test_an_endpoint_whose_api_does_not_exist_is_named(aws, tmp_path, fake_slack):
    client = create_skill_function(FN)
    urls = {
        "PROD1": "https://nope111.execute-api.us-east-1.amazonaws.com/prod1",
        "PROD2": "https://nope111.execute-api.us-east-1.amazonaws.com/prod2",
    }
    world = world_with(tmp_path, client, urls, fake_slack)
    try:
        found = gateway_findings(world.services.cases.planning.doctor("trivia", actor=OPERATOR))
        detail = say(found["API Gateway integration of PROD1"].detail)
        assert "no REST API or HTTP API nope111" in detail and "skills file" in detail
    finally:
        world.services.close()


def test_plans_and_status_name_the_https_endpoint_of_each_alias(aws, tmp_path, fake_slack):
    client = create_skill_function(FN)
    urls = rest_api_for_aliases(client, FN)
    world = world_with(tmp_path, client, urls, fake_slack)
    try:
        world.command("certify")
        plan = world.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
        assert f"Alexa must call `{urls['PROD2']}` (PROD2)" in str(plan["blocks"])
        world.command("status")
        status = world.final_response(lambda r: r.get("blocks") and "trivia" in r["text"])
        assert f"Alexa calls `{urls['PROD1']}`" in str(status["blocks"])
    finally:
        world.services.close()


# -- a permission as AWS shapes it where moto does not: a SourceArn of another API --------


def test_a_permission_for_another_api_does_not_count(aws):
    client = create_skill_function(FN)
    arn = client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    statement = {
        "Sid": "other-api",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{arn}:PROD1",
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:other/*/*"}
        },
    }
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    urls = (
        ("PROD1", "https://abc.execute-api.us-east-1.amazonaws.com/prod1"),
        ("PROD2", "https://abc.execute-api.us-east-1.amazonaws.com/prod2"),
    )
    skill = replace(trivia_skill(), placements=(Placement("NA", "trivia-skill", urls),))
    adapter = GatewayAdapter(client, lambda service, region: None)
    with Stubber(client) as stub:
        stub.add_response(
            "get_policy",
            {"Policy": json.dumps(policy), "RevisionId": "r1"},
            {"FunctionName": FN, "Qualifier": "PROD1"},
        )
        [permission] = adapter.gateway_permissions(FN, "PROD1")
    assert permission.source_arn == "arn:aws:execute-api:us-east-1:123456789012:other/*/*"
    checks = GatewayChecks(adapter, _Arns(arn))
    with Stubber(client) as stub:
        stub.add_response(
            "get_policy",
            {"Policy": json.dumps(policy), "RevisionId": "r1"},
            {"FunctionName": FN, "Qualifier": "PROD1"},
        )
        stub.add_response(
            "add_permission",
            {"Statement": "{}"},
            {
                "FunctionName": FN,
                "Qualifier": "PROD1",
                "StatementId": "skillbot-apigateway-PROD1",
                "Action": "lambda:InvokeFunction",
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc/*",
            },
        )
        assert checks.add_permission(skill, "PROD1") is True
        stub.assert_no_pending_responses()


class _Arns:
    """Just the alias ARNs of the Lambda port."""

    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn

    def alias_arn(self, function: str, alias: str) -> str:
        return f"{self.function_arn}:{alias}"
