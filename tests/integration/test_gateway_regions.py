"""The API Gateway variant of a skill served from three AWS regions, on moto: doctor
checks every region's URLs against that region's function (integration and invoke
permission), names the region of each problem, and Fix adds a missing permission on the
right region's function only."""

from __future__ import annotations

import boto3
import pytest

from bot.adapters.apigateway import GatewayAdapter
from bot.adapters.lambda_aws import LambdaAdapter
from bot.adapters.slack.kit import say
from bot.domain.model import FixKind
from tests.support.aws import REGIONAL, create_regional_functions
from tests.support.gateway import (
    allow_gateway,
    gateway_statements,
    http_api_for_aliases,
    rest_api_for_aliases,
)
from tests.support.regions import compose_regional
from tests.support.users import OPERATOR

AWS_REGION = {"NA": "us-east-1", **REGIONAL}


def make_world(functions, urls):
    """The real composition over moto: Lambda and API Gateway clients per AWS region."""
    clients = {client.meta.region_name: client for _, client in functions.values()}
    na_client = functions["NA"][1]

    def client_for(service, region):
        return clients[region] if service == "lambda" else boto3.client(service, region_name=region)

    services, _notifier, _skill = compose_regional(
        LambdaAdapter(na_client, poll_interval=0.01, regional_client=clients.__getitem__),
        gateway=GatewayAdapter(na_client, client_for),
        function=functions["NA"][0],
        regional_functions={r: functions[r][0] for r in ("EU", "FE")},
        endpoints=urls["NA"],
        regional_endpoints={r: urls[r] for r in ("EU", "FE")},
    )
    return services


def gateway_findings(report):
    return {f.check: f for f in report.findings if "API Gateway" in f.check}


@pytest.fixture
def functions(aws):
    return create_regional_functions("trivia-skill")


@pytest.mark.parametrize("make_api", [rest_api_for_aliases, http_api_for_aliases])
def test_every_region_wired_to_its_own_function_passes(functions, make_api):
    urls = {}
    for region, (function, client) in functions.items():
        urls[region] = make_api(client, function, region=AWS_REGION[region])
        for alias, url in urls[region].items():
            allow_gateway(client, function, alias, url)
    services = make_world(functions, urls)
    try:
        report = services.cases.planning.doctor("trivia", actor=OPERATOR)
    finally:
        services.close()
    found = gateway_findings(report)
    assert len(found) == 12, sorted(found)  # 3 regions × 2 aliases × (integration, permission)
    assert all(f.ok for f in found.values()), [f.detail for f in found.values() if not f.ok]
    assert "FE: API Gateway integration of PROD2" in found
    assert f"of EU's function `{functions['EU'][0]}`" in say(
        found["EU: API Gateway may invoke PROD1"].detail
    )
    assert FixKind.ADD_GATEWAY_PERMISSION not in {p.fix for p in report.fixes}


def test_a_region_integrated_with_another_regions_function_is_named(functions):
    (na_fn, na_client), (eu_fn, eu_client) = functions["NA"], functions["EU"]
    urls = {
        "NA": rest_api_for_aliases(na_client, na_fn),
        # EU's API was copied from NA's: it invokes NA's function from eu-west-1
        "EU": rest_api_for_aliases(na_client, na_fn, region="eu-west-1"),
        "FE": rest_api_for_aliases(functions["FE"][1], functions["FE"][0], region="us-west-2"),
    }
    for region, (function, client) in functions.items():
        for alias, url in urls[region].items():
            allow_gateway(client, function, alias, url)
    services = make_world(functions, urls)
    try:
        found = gateway_findings(services.cases.planning.doctor("trivia", actor=OPERATOR))
    finally:
        services.close()
    wrong = found["EU: API Gateway integration of PROD1"]
    assert not wrong.ok and wrong.fix is None
    na_arn = na_client.get_function_configuration(FunctionName=na_fn)["FunctionArn"]
    assert f"invokes `{na_arn}:PROD1`, another function than EU's function `{eu_fn}`" in (
        say(wrong.detail)
    )
    assert urls["EU"]["PROD1"] in say(wrong.detail) and f"invoke `{eu_fn}:PROD1`" in say(
        wrong.detail
    )
    assert not found["EU: API Gateway integration of PROD2"].ok
    others = {c: f for c, f in found.items() if not c.startswith("EU:")}
    assert all(f.ok for f in others.values()), [f.detail for f in others.values() if not f.ok]
    assert gateway_statements(eu_client, eu_fn, "PROD1")  # the permissions were right


def test_a_missing_permission_in_one_region_is_fixed_on_that_regions_function(functions):
    urls = {}
    for region, (function, client) in functions.items():
        urls[region] = rest_api_for_aliases(client, function, region=AWS_REGION[region])
        for alias, url in urls[region].items():
            if (region, alias) != ("EU", "PROD2"):
                allow_gateway(client, function, alias, url)
    (na_fn, na_client), (eu_fn, eu_client) = functions["NA"], functions["EU"]
    na_before = gateway_statements(na_client, na_fn, "PROD2")
    services = make_world(functions, urls)
    try:
        report = services.cases.planning.doctor("trivia", actor=OPERATOR)
        missing = gateway_findings(report)["EU: API Gateway may invoke PROD2"]
        assert not missing.ok and f"PROD2 of EU's function `{eu_fn}`" in say(missing.detail)
        [plan] = [p for p in report.fixes if p.fix is FixKind.ADD_GATEWAY_PERMISSION]
        assert (plan.alias, plan.region, plan.moves[0].function) == ("PROD2", "EU", eu_fn)
        assert "in EU" in plan.summary()

        change = services.cases.applying.apply(plan.id, actor=OPERATOR)
        assert not change.noop
        [added] = gateway_statements(eu_client, eu_fn, "PROD2")
        api_id = urls["EU"]["PROD2"].split("//", 1)[1].split(".", 1)[0]
        source = added["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source == f"arn:aws:execute-api:eu-west-1:123456789012:{api_id}/*"
        assert added["Sid"] == "skillbot-apigateway-PROD2"
        assert gateway_statements(na_client, na_fn, "PROD2") == na_before  # NA untouched

        again = services.cases.planning.doctor("trivia", actor=OPERATOR)
    finally:
        services.close()
    assert all(f.ok for f in gateway_findings(again).values())
    assert FixKind.ADD_GATEWAY_PERMISSION not in {p.fix for p in again.fixes}
