"""A canary of a skill in three AWS regions on moto: weights on every region's live alias,
each region's figures read from its own region's CloudWatch (the functions share a name,
so reading one region would miss another's errors), and AWS's real refusal of a stale
``RevisionId`` in one region (Stubber: moto does not enforce it) taking back the weights
already set elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bot.adapters.cloudwatch import CloudWatchMetrics
from bot.devkit.aws import deploy
from bot.domain.errors import SkillbotError, StalePlan
from tests.support import aws as aws_state
from tests.support.aws import REGIONAL, in_every_region
from tests.support.canary import publish_lambda_metrics
from tests.support.faults import KINDS, inject, refuse_revision
from tests.support.regions import (
    regional_on_moto,
    stub_eu_publish,
)
from tests.support.users import OPERATOR

DEFAULT_REGION = "us-east-1"


@pytest.fixture
def regional(aws):
    metrics = CloudWatchMetrics(
        boto3.client("cloudwatch", region_name=DEFAULT_REGION),
        regional_client=lambda region: boto3.client("cloudwatch", region_name=region),
    )
    services, notifier, functions = regional_on_moto(metrics=metrics)
    services.runtime.clock.now = datetime.now(UTC).replace(microsecond=0)  # CloudWatch's time
    for fn, client in functions.values():
        deploy(client, fn, "VERSION = 3\n")
    return services, notifier, functions


def routing(functions):
    return in_every_region(functions, aws_state.routing)


def put(region, at, version, invocations, errors):
    """Lambda's figures of ``trivia`` (the same name in every region) in ``region``."""
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    publish_lambda_metrics(cloudwatch, version, invocations, errors, at=at, function="trivia")


def test_errors_in_eus_own_cloudwatch_abort_the_canary_in_every_region(regional):
    services, notifier, functions = regional
    plan = services.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600
    ).plan
    services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert routing(functions) == {r: ("1", {"3": 0.1}) for r in functions}

    at = services.runtime.clock() + timedelta(seconds=5)
    put(DEFAULT_REGION, at, "1", 900, 0)
    put(DEFAULT_REGION, at, "3", 100, 0)
    put(REGIONAL["EU"], at, "1", 90, 0)
    put(REGIONAL["EU"], at, "3", 20, 8)  # only eu-west-1 sees the errors
    services.runtime.clock.advance(seconds=31)
    assert services.runtime.canary_pass is not None
    services.runtime.canary_pass.run_pass()

    assert routing(functions) == {r: ("1", {}) for r in functions}
    ended = [p.text for p in notifier.posted if "canary aborted" in p.text]
    assert len(ended) == 1 and "in EU, the new version's error rate" in ended[0]
    assert "8 errors in 20 invocations" in ended[0]


def test_a_stale_revision_in_eu_takes_back_the_weights_set_in_na_and_fe(regional):
    services, _notifier, functions = regional
    plan = services.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600
    ).plan
    eu_fn, _eu_client = functions["EU"]
    [eu_move] = [m for m in plan.regions if m.region == "EU"]
    stub, revision = stub_eu_publish(functions, eu_move.code_sha256 or "")
    with stub:
        refuse_revision(
            stub,
            FunctionName=eu_fn,
            Name="PROD1",
            FunctionVersion="1",
            RevisionId=revision,
            RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
        )
        with pytest.raises(StalePlan) as stale:
            services.cases.applying.apply(plan.id, actor=OPERATOR)
        stub.assert_no_pending_responses()
    assert "was not started: EU changed since the plan was shown" in stale.value.message
    assert routing(functions) == {r: ("1", {}) for r in functions}, "NA and FE taken back"
    assert services.runtime.store.canary_book().active("trivia") is None


@pytest.mark.parametrize("kind", KINDS)
def test_eus_weights_failing_at_the_start_are_reported_and_confirm_again_converges(regional, kind):
    services, notifier, functions = regional
    plan = services.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600
    ).plan
    eu_client = functions["EU"][1]
    with inject(eu_client, "UpdateAlias", kind) as hits, pytest.raises(SkillbotError) as err:
        services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert hits[0] == 1
    assert "Weights set: NA (v3 at 10%), FE (v3 at 10%)" in err.value.message
    assert "Not set: EU: " in err.value.message and "Press Confirm again" in err.value.hint
    weights = routing(functions)
    assert weights["NA"] == weights["FE"] == ("1", {"3": 0.1})
    assert weights["EU"] == ("1", {"3": 0.1} if kind == "lost" else {}), "a lost answer set it"
    assert not [p for p in notifier.posted if "canary" in p.text], "no canary message yet"

    services.cases.applying.apply(plan.id, actor=OPERATOR)  # Confirm again
    assert routing(functions) == {r: ("1", {"3": 0.1}) for r in functions}
    assert len([p for p in notifier.posted if p.text.startswith("trivia: canary PROD1")]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_an_abort_failing_in_fe_is_finished_by_the_next_check(regional, kind):
    services, notifier, functions = regional
    plan = services.cases.offers.propose_canary(
        "trivia", actor=OPERATOR, weight=0.1, seconds=600
    ).plan
    services.cases.applying.apply(plan.id, actor=OPERATOR)
    canary = services.runtime.store.canary_book().active("trivia")
    with inject(functions["FE"][1], "UpdateAlias", kind), pytest.raises(SkillbotError) as err:
        services.cases.offers.end_canary(canary.id, actor=OPERATOR, complete=False)
    assert "decided (abort), but ending it failed for now: FE: " in err.value.message
    assert routing(functions)["NA"] == routing(functions)["EU"] == ("1", {})
    assert not [p for p in notifier.posted if "canary aborted" in p.text]

    services.runtime.clock.advance(minutes=3)  # the button's claim on the end has run out
    assert services.runtime.canary_pass is not None
    services.runtime.canary_pass.run_pass()
    assert routing(functions) == {r: ("1", {}) for r in functions}
    assert len([p for p in notifier.posted if "canary aborted" in p.text]) == 1
