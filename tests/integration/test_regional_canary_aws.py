"""A canary of a skill in three AWS regions on moto: weights on every region's live alias,
each region's figures read from its own region's CloudWatch (the functions share a name,
so reading one region would miss another's errors), and AWS's real refusal of a stale
``RevisionId`` in one region (Stubber: moto does not enforce it) taking back the weights
already set elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from bot.adapters.cloudwatch import CloudWatchMetrics
from bot.adapters.lambda_aws import LambdaAdapter
from bot.devkit.aws import REGIONAL, create_regional_functions, deploy
from bot.domain.errors import SkillbotError, StalePlan
from tests.support.faults import KINDS, inject
from tests.support.regions import compose_regional
from tests.support.users import OPERATOR

DEFAULT_REGION = "us-east-1"


@pytest.fixture
def regional(aws):
    functions = create_regional_functions("trivia")
    clients = {client.meta.region_name: client for _, client in functions.values()}
    adapter = LambdaAdapter(
        functions["NA"][1], poll_interval=0.01, regional_client=clients.__getitem__
    )
    metrics = CloudWatchMetrics(
        boto3.client("cloudwatch", region_name=DEFAULT_REGION),
        regional_client=lambda region: boto3.client("cloudwatch", region_name=region),
    )
    services, notifier, _skill = compose_regional(
        adapter,
        metrics=metrics,
        function="trivia",
        regional_functions={r: functions[r][0] for r in ("EU", "FE")},
    )
    services.clock.now = datetime.now(UTC).replace(microsecond=0)  # CloudWatch's time
    for fn, client in functions.values():
        deploy(client, fn, "VERSION = 3\n")
    return services, notifier, functions


def routing(functions):
    out = {}
    for region, (fn, client) in functions.items():
        alias = client.get_alias(FunctionName=fn, Name="PROD1")
        weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
        out[region] = (alias["FunctionVersion"], weights)
    return out


def put(region, at, version, invocations, errors):
    dims = [
        {"Name": "FunctionName", "Value": "trivia"},  # the same name in every region
        {"Name": "Resource", "Value": "trivia:PROD1"},
        {"Name": "ExecutedVersion", "Value": version},
    ]
    boto3.client("cloudwatch", region_name=region).put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": dims,
                "Value": invocations,
                "Timestamp": at,
            },
            {"MetricName": "Errors", "Dimensions": dims, "Value": errors, "Timestamp": at},
        ],
    )


def test_errors_in_eus_own_cloudwatch_abort_the_canary_in_every_region(regional):
    services, notifier, functions = regional
    plan = services.rotation.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600).plan
    services.rotation.apply(plan.id, actor=OPERATOR)
    assert routing(functions) == {r: ("1", {"3": 0.1}) for r in functions}

    at = services.clock() + timedelta(seconds=5)
    put(DEFAULT_REGION, at, "1", 900, 0)
    put(DEFAULT_REGION, at, "3", 100, 0)
    put(REGIONAL["EU"], at, "1", 90, 0)
    put(REGIONAL["EU"], at, "3", 20, 8)  # only eu-west-1 sees the errors
    services.clock.advance(seconds=31)
    assert services.canary_pass is not None
    services.canary_pass.run_pass()

    assert routing(functions) == {r: ("1", {}) for r in functions}
    ended = [p.text for p in notifier.posted if "canary aborted" in p.text]
    assert len(ended) == 1 and "in EU, the new version's error rate" in ended[0]
    assert "8 errors in 20 invocations" in ended[0]


def test_a_stale_revision_in_eu_takes_back_the_weights_set_in_na_and_fe(regional):
    services, _notifier, functions = regional
    plan = services.rotation.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600).plan
    eu_fn, eu_client = functions["EU"]
    alias = eu_client.get_alias(FunctionName=eu_fn, Name="PROD1")
    [eu_move] = [m for m in plan.regions if m.region == "EU"]
    published = {
        "FunctionName": eu_fn,
        "Version": "3",
        "CodeSha256": eu_move.code_sha256,
        "LastModified": "2026-03-01T10:00:00.000+0000",
    }
    with Stubber(eu_client) as stub:
        stub.add_response("get_alias", alias, {"FunctionName": eu_fn, "Name": "PROD1"})
        stub.add_response("publish_version", published)
        stub.add_client_error(
            "update_alias",
            service_error_code="PreconditionFailedException",
            service_message="The Revision Id provided does not match the latest Revision Id.",
            http_status_code=412,
            expected_params={
                "FunctionName": eu_fn,
                "Name": "PROD1",
                "FunctionVersion": "1",
                "RevisionId": alias["RevisionId"],
                "RoutingConfig": {"AdditionalVersionWeights": {"3": 0.1}},
            },
        )
        with pytest.raises(StalePlan) as stale:
            services.rotation.apply(plan.id, actor=OPERATOR)
        stub.assert_no_pending_responses()
    assert "was not started: EU changed since the plan was shown" in stale.value.message
    assert routing(functions) == {r: ("1", {}) for r in functions}, "NA and FE taken back"
    assert services.store.canary_book().active("trivia") is None


@pytest.mark.parametrize("kind", KINDS)
def test_eus_weights_failing_at_the_start_are_reported_and_confirm_again_converges(regional, kind):
    services, notifier, functions = regional
    plan = services.rotation.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600).plan
    eu_client = functions["EU"][1]
    with inject(eu_client, "UpdateAlias", kind) as hits, pytest.raises(SkillbotError) as err:
        services.rotation.apply(plan.id, actor=OPERATOR)
    assert hits[0] == 1
    assert "Weights set: NA (v3 at 10%), FE (v3 at 10%)" in err.value.message
    assert "Not set: EU: " in err.value.message and "Press Confirm again" in err.value.hint
    weights = routing(functions)
    assert weights["NA"] == weights["FE"] == ("1", {"3": 0.1})
    assert weights["EU"] == ("1", {"3": 0.1} if kind == "lost" else {}), "a lost answer set it"
    assert not [p for p in notifier.posted if "canary" in p.text], "no canary message yet"

    services.rotation.apply(plan.id, actor=OPERATOR)  # Confirm again
    assert routing(functions) == {r: ("1", {"3": 0.1}) for r in functions}
    assert len([p for p in notifier.posted if p.text.startswith("trivia: canary PROD1")]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_an_abort_failing_in_fe_is_finished_by_the_next_check(regional, kind):
    services, notifier, functions = regional
    plan = services.rotation.propose_canary("trivia", actor=OPERATOR, weight=0.1, seconds=600).plan
    services.rotation.apply(plan.id, actor=OPERATOR)
    canary = services.store.canary_book().active("trivia")
    with inject(functions["FE"][1], "UpdateAlias", kind), pytest.raises(SkillbotError) as err:
        services.rotation.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert "decided (abort), but ending it failed for now: FE: " in err.value.message
    assert routing(functions)["NA"] == routing(functions)["EU"] == ("1", {})
    assert not [p for p in notifier.posted if "canary aborted" in p.text]

    services.clock.advance(minutes=3)  # the button's claim on the end has run out
    assert services.canary_pass is not None
    services.canary_pass.run_pass()
    assert routing(functions) == {r: ("1", {}) for r in functions}
    assert len([p for p in notifier.posted if "canary aborted" in p.text]) == 1
