"""The endpoint rules: what Alexa must call per alias, manifests re-pointed, stages
compared, API Gateway routes resolved, doctor's findings, and the skills file's keys."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.adapters.slack.kit import say
from bot.config import parse_skills
from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import (
    Endpoint,
    GatewayPermission,
    GatewayRoute,
    StageTarget,
    describe_misplaced,
    invoked_function,
    live_stage_drift,
    manifest_endpoints,
    misplaced,
    name_endpoint,
    parse_execute_api_url,
    permits_api,
    placement_endpoint,
    repointed,
)
from bot.domain.errors import ConfigError
from bot.domain.gateway_findings import gateway_findings
from bot.domain.model import FixKind, Placement, Roles
from tests.support.world import trivia_skill

FN_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:trivia-skill"
P1, P2 = f"{FN_ARN}:PROD1", f"{FN_ARN}:PROD2"
URL1 = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod1"
URL2 = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod2"
GATEWAY_SKILL = replace(
    trivia_skill(),
    placements=(Placement("NA", "trivia-skill", (("PROD1", URL1), ("PROD2", URL2))),),
    ssl_certificate_type="Wildcard",
)


def manifest(default, regions=None, **endpoint_extra):
    custom = {"interfaces": [{"type": "AUDIO_PLAYER"}]}
    if default:
        custom["endpoint"] = {"uri": default, **endpoint_extra}
    if regions:
        custom["regions"] = {r: {"endpoint": {"uri": u}} for r, u in regions.items()}
    return {"manifestVersion": "1.0", "publishingInformation": {"x": 1}, "apis": {"custom": custom}}


def test_the_endpoint_of_an_alias_is_its_arn_or_its_declared_url():
    skill = trivia_skill()

    def arn(function: str, alias: str) -> str:
        return P2 if (function, alias) == (skill.placements[0].function, "PROD2") else "?"

    assert placement_endpoint(skill, skill.placements[0], "PROD2", arn) == Endpoint("PROD2", P2)
    unasked = lambda function, alias: pytest.fail("no ARN is read for an HTTPS endpoint")  # noqa: E731
    first = GATEWAY_SKILL.placements[0]
    assert placement_endpoint(GATEWAY_SKILL, first, "PROD2", unasked) == Endpoint(
        "PROD2", URL2, "Wildcard"
    )
    with pytest.raises(ValueError):
        placement_endpoint(skill, skill.placements[0], "PROD3", arn)


def test_repointing_sets_the_default_and_every_region_and_nothing_else():
    before = manifest(P1, {"EU": P1, "FE": P2})
    after = repointed(before, StageTarget(Endpoint("PROD2", P2)))
    assert manifest_endpoints(after) == SkillEndpoints(P2, {"EU": P2, "FE": P2})
    assert after["publishingInformation"] == before["publishingInformation"]
    assert after["apis"]["custom"]["interfaces"] == [{"type": "AUDIO_PLAYER"}]
    assert manifest_endpoints(before).default == P1  # the original is untouched
    assert repointed(after, StageTarget(Endpoint("PROD2", P2))) is None


def test_an_https_endpoint_carries_its_certificate_type_and_an_arn_none():
    https = repointed(manifest(P1), StageTarget(Endpoint("PROD2", URL2, "Wildcard")))
    assert https["apis"]["custom"]["endpoint"] == {"uri": URL2, "sslCertificateType": "Wildcard"}
    back = repointed(https, StageTarget(Endpoint("PROD1", P1)))
    assert back["apis"]["custom"]["endpoint"] == {"uri": P1}
    # the right URL with the wrong certificate type still needs writing
    assert repointed(
        manifest(URL2, sslCertificateType="Trusted"),
        StageTarget(Endpoint("PROD2", URL2, "Wildcard")),
    )


def test_a_manifest_without_an_endpoint_gets_one_and_one_without_a_custom_api_refuses():
    assert (
        manifest_endpoints(repointed(manifest(None), StageTarget(Endpoint("PROD2", P2)))).default
        == P2
    )
    with pytest.raises(ValueError):
        repointed({"apis": {"smartHome": {}}}, StageTarget(Endpoint("PROD2", P2)))


def test_wrong_endpoints_are_named_with_their_alias_and_role():
    by_alias = {"PROD1": Endpoint("PROD1", P1), "PROD2": Endpoint("PROD2", P2)}
    stage = SkillEndpoints(P2, {"EU": P1, "FE": "arn:x<y>"})
    wrong = misplaced(stage, StageTarget(by_alias["PROD2"]))
    assert [(m.place, m.calls) for m in wrong] == [("EU", P1), ("FE", "arn:x<y>")]
    name = lambda uri: name_endpoint(uri, by_alias, "PROD1")  # noqa: E731
    text = say(describe_misplaced(wrong, name, before=True))
    assert text == (
        f"region EU called `{P1}` (PROD1, the live alias); "
        "region FE called `arn:x&lt;y&gt;` (neither alias)"
    )
    unset = misplaced(SkillEndpoints(None), StageTarget(by_alias["PROD2"]))
    assert [(m.place, m.calls) for m in unset] == [("default", None)]


def test_drift_compares_the_live_stage_with_the_endpoint_of_the_live_alias():
    roles = Roles("PROD1", "PROD2")
    targets = {
        a: StageTarget(Endpoint(a, u, "Wildcard")) for a, u in [("PROD1", URL1), ("PROD2", URL2)]
    }
    assert live_stage_drift(GATEWAY_SKILL, roles, SkillEndpoints(URL1), targets).ok
    drift = live_stage_drift(GATEWAY_SKILL, roles, SkillEndpoints(URL2), targets)
    detail = say(drift.detail)
    assert not drift.ok and "PROD2 (the candidate)" in detail and URL1 in detail


def test_execute_api_urls_are_taken_apart_and_other_hosts_are_not():
    assert parse_execute_api_url(URL1).api_id == "abc123"
    assert parse_execute_api_url("https://alexa.example.com/prod1") is None
    assert parse_execute_api_url("http://abc.execute-api.eu-west-1.amazonaws.com/x") is None


@pytest.mark.parametrize(
    ("uri", "variables", "expected"),
    [
        (f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{P1}/invocations", {}, P1),
        (
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
            f"{FN_ARN}:${{stageVariables.alias}}/invocations",
            {"alias": "PROD2"},
            P2,
        ),
        (P2, {}, P2),  # an HTTP API integrates the ARN directly
        ("https://example.com/backend", {}, None),
        (None, {}, None),
    ],
)
def test_the_invoked_function_is_read_from_the_integration(uri, variables, expected):
    route = GatewayRoute("REST API", "abc123", "prod1", "POST /", uri, variables)
    assert invoked_function(route) == expected


def test_a_permission_counts_for_its_api_only():
    url = parse_execute_api_url(URL1)
    assert permits_api(GatewayPermission("s", "PROD1", None), url)  # any API
    for source, allowed in [
        ("arn:aws:execute-api:eu-west-1:123456789012:abc123/*", True),
        ("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod1/POST/", True),
        ("arn:aws:execute-api:eu-west-1:123456789012:other/*", False),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/*", False),
    ]:
        assert permits_api(GatewayPermission("s", "PROD1", source), url) is allowed


def route_to(alias_or_arn: str) -> GatewayRoute:
    return GatewayRoute("HTTP API", "abc123", "$default", "POST /prod1", alias_or_arn)


def test_gateway_findings_name_each_fault():
    allowed = [GatewayPermission("s", "PROD1", "arn:aws:execute-api:eu-west-1:1:abc123/*")]
    ok = gateway_findings(GATEWAY_SKILL, "PROD1", FN_ARN, route_to(P1), None, allowed)
    assert [f.ok for f in ok] == [True, True]

    crossed, _ = gateway_findings(GATEWAY_SKILL, "PROD1", FN_ARN, route_to(P2), None, allowed)
    assert not crossed.ok and crossed.fix is None and "crossed" in say(crossed.detail)

    unqualified, _ = gateway_findings(GATEWAY_SKILL, "PROD1", FN_ARN, route_to(FN_ARN), None, [])
    assert "unqualified function ($LATEST)" in say(unqualified.detail)

    missing_route, missing = gateway_findings(
        GATEWAY_SKILL, "PROD1", FN_ARN, None, "HTTP API abc123 has no route for POST /prod1.", []
    )
    assert not missing_route.ok and "no route for POST /prod1" in say(missing_route.detail)
    assert not missing.ok and missing.fix is FixKind.ADD_GATEWAY_PERMISSION
    assert missing.alias == "PROD1"


def test_a_regions_gateway_findings_are_checked_against_that_regions_function():
    eu_arn = "arn:aws:lambda:eu-central-1:123456789012:function:trivia"
    eu_url = "https://eu456.execute-api.eu-central-1.amazonaws.com/prod1"
    skill = replace(
        GATEWAY_SKILL,
        placements=(
            *GATEWAY_SKILL.placements,
            Placement("EU", eu_arn, (("PROD1", eu_url), ("PROD2", eu_url + "x"))),
        ),
    )
    eu_api = [GatewayPermission("s", "PROD1", "arn:aws:execute-api:eu-central-1:1:eu456/*")]
    ok = gateway_findings(skill, "PROD1", eu_arn, route_to(f"{eu_arn}:PROD1"), None, eu_api, "EU")
    assert [(f.check, f.ok) for f in ok] == [
        ("EU: API Gateway integration of PROD1", True),
        ("EU: API Gateway may invoke PROD1", True),
    ]
    # EU's URL invoking the default function's PROD1: the right alias, the wrong region
    wrong, unpermitted = gateway_findings(skill, "PROD1", eu_arn, route_to(P1), None, [], "EU")
    assert not wrong.ok and wrong.fix is None
    assert f"invokes `{P1}`, another function than EU's function `{eu_arn}`" in say(wrong.detail)
    assert eu_url in say(wrong.detail)
    # the default API's permission does not let EU's API invoke EU's function
    default_api = [GatewayPermission("s", "PROD1", "arn:aws:execute-api:eu-west-1:1:abc123/*")]
    _, still = gateway_findings(skill, "PROD1", eu_arn, route_to(P1), None, default_api, "EU")
    assert not still.ok and still.fix is FixKind.ADD_GATEWAY_PERMISSION
    shown = say(still.detail)
    assert f"PROD1 of EU's function `{eu_arn}`" in shown and "eu456" in shown
    assert unpermitted.check == "EU: API Gateway may invoke PROD1"


BASE = {"announce_channel": "C0A", "operators": ["U0A"], "approvers": ["U0B"]}


def skills_with(**entry):
    return {
        **BASE,
        "skills": {"t": {"function": "f", "alexa_skill_id": "amzn1.ask.skill.1", **entry}},
    }


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"endpoints": {"PROD1": URL1}}, "the keys must be the skill's two aliases"),
        ({"endpoints": {"PROD1": URL1, "PROD3": URL2}}, "the keys must be the skill's two aliases"),
        ({"endpoints": {"PROD1": "http://a/1", "PROD2": URL2}}, "is not an https:// URL"),
        ({"endpoints": {"PROD1": URL1, "PROD2": URL1}}, "two different URLs"),
        (
            {"endpoints": {"PROD1": "https://a.example/1", "PROD2": "https://a.example/2"}},
            "ssl_certificate_type is required",
        ),
        ({"ssl_certificate_type": "Wildcard"}, "only together with endpoints"),
        (
            {"endpoints": {"PROD1": URL1, "PROD2": URL2}, "ssl_certificate_type": "Cheap"},
            "ssl_certificate_type",
        ),
    ],
)
def test_the_skills_file_refuses_wrong_endpoints(entry, problem):
    with pytest.raises(ConfigError) as err:
        parse_skills(skills_with(**entry))
    assert "skills.t" in err.value.message and problem in err.value.message


def test_the_skills_file_takes_endpoints_per_alias():
    [skill] = (
        parse_skills(skills_with(endpoints={"PROD1": URL1, "PROD2": URL2})).to_skills().values()
    )
    assert dict(skill.placements[0].endpoints) == {"PROD1": URL1, "PROD2": URL2}
    assert skill.ssl_certificate_type == "Wildcard"
    custom = {"PROD1": "https://a.example/1", "PROD2": "https://a.example/2"}
    [skill] = (
        parse_skills(skills_with(endpoints=custom, ssl_certificate_type="Trusted"))
        .to_skills()
        .values()
    )
    assert skill.ssl_certificate_type == "Trusted"
