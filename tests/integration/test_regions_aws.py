"""A skill in three AWS regions on moto (in-process, one boto3 client per region, routed by
the function ARN's region inside the Lambda adapter): a whole hotfix, a fault in the second
region's ``UpdateAlias`` that a second Confirm finishes, and the per-region guards moto does
not enforce (``CodeSha256`` on publish, ``RevisionId`` on update_alias) through botocore's
Stubber answering with AWS's real errors."""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from bot.domain.errors import SkillbotError, StalePlan
from tests.support.aws import deploy_everywhere
from tests.support.faults import inject, refuse_revision
from tests.support.regions import (
    regional_on_moto,
    stub_eu_publish,
)
from tests.support.users import OPERATOR

REGIONS = ("NA", "EU", "FE")


@pytest.fixture
def regional(aws):
    return regional_on_moto()


def state(functions, alias="PROD1"):
    return {
        r: client.get_alias(FunctionName=fn, Name=alias)["FunctionVersion"]
        for r, (fn, client) in functions.items()
    }


def code(functions, alias="PROD1"):
    return {
        client.get_function_configuration(FunctionName=fn, Qualifier=alias)["CodeSha256"]
        for fn, client in functions.values()
    }


def version_counts(functions):
    return {
        r: len(client.list_versions_by_function(FunctionName=fn)["Versions"])
        for r, (fn, client) in functions.items()
    }


def announcements(notifier):
    return [p.text for p in notifier.posted if not p.thread_ts]


def test_a_hotfix_moves_the_live_alias_in_every_aws_region(regional):
    services, notifier, functions = regional
    deploy_everywhere(functions)
    plan = services.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert state(functions) == {"NA": "3", "EU": "3", "FE": "3"}
    assert len(code(functions)) == 1
    assert state(functions, "PROD2") == {"NA": "2", "EU": "2", "FE": "2"}
    [announced] = announcements(notifier)
    assert "PROD1 v1 → v3 (NA), EU v1 → v3, FE v1 → v3" in announced


@pytest.mark.parametrize("kind", ["throttle", "5xx", "conflict", "timeout", "lost"])
def test_the_second_regions_update_alias_failing_is_reported_and_a_retry_converges(regional, kind):
    services, notifier, functions = regional
    deploy_everywhere(functions)
    plan = services.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="crash")
    eu_client = functions["EU"][1]
    with inject(eu_client, "UpdateAlias", kind) as hits, pytest.raises(SkillbotError) as err:
        services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert hits[0] == 1
    assert "Moved: NA v1 → v3, FE v1 → v3" in err.value.message
    assert "Not moved: EU" in err.value.message and "Press Confirm again" in err.value.hint
    moved = state(functions)
    assert moved["NA"] == moved["FE"] == "3"
    assert moved["EU"] == ("3" if kind == "lost" else "1"), "a lost answer moved it all the same"
    assert announcements(notifier) == [], "not announced while a region is behind"
    counts = version_counts(functions)

    services.cases.applying.apply(plan.id, actor=OPERATOR)  # Confirm again
    assert state(functions) == {"NA": "3", "EU": "3", "FE": "3"}
    assert len(code(functions)) == 1
    assert version_counts(functions) == counts, "nothing published again"
    [announced] = announcements(notifier)
    assert "(NA), EU v1 → v3, FE v1 → v3 by <@U0ALICE> — crash" in announced


def test_an_eu_publish_refused_for_its_code_hash_moves_no_region(regional):
    services, notifier, functions = regional
    deploy_everywhere(functions)
    plan = services.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    eu_fn, eu_client = functions["EU"]
    alias = eu_client.get_alias(FunctionName=eu_fn, Name="PROD1")
    with Stubber(eu_client) as stub:
        stub.add_response("get_alias", alias, {"FunctionName": eu_fn, "Name": "PROD1"})
        stub.add_client_error(
            "publish_version",
            service_error_code="InvalidParameterValueException",
            service_message="CodeSha256 (abc) is different from current CodeSha256 in $LATEST",
            http_status_code=400,
            expected_params={"FunctionName": eu_fn, "CodeSha256": ANY, "Description": ANY},
        )
        with pytest.raises(StalePlan) as stale:
            services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert stale.value.message.startswith("EU: The code in $LATEST changed")
    assert state(functions) == {"NA": "1", "EU": "1", "FE": "1"}
    assert announcements(notifier) == []


def test_an_eu_alias_moved_meanwhile_is_caught_by_its_revision_id_and_replanned(regional):
    services, notifier, functions = regional
    deploy_everywhere(functions)
    plan = services.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    eu_fn, _eu_client = functions["EU"]
    [eu_move] = [m for m in plan.regions if m.region == "EU"]
    stub, revision = stub_eu_publish(functions, eu_move.code_sha256 or "")
    with stub:
        refuse_revision(
            stub, FunctionName=eu_fn, Name="PROD1", FunctionVersion="3", RevisionId=revision
        )
        with pytest.raises(StalePlan) as stale:
            services.cases.applying.apply(plan.id, actor=OPERATOR)
    assert "Moved: NA v1 → v3, FE v1 → v3" in stale.value.message
    assert "Not moved: EU" in stale.value.message
    assert state(functions) == {"NA": "3", "EU": "1", "FE": "3"}
    assert announcements(notifier) == []
    status = services.cases.reading.status("trivia")
    assert status.disagreement and "PROD1 serves" in status.disagreement

    again = services.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    assert [(m.region, m.noop) for m in again.regions] == [("EU", False), ("FE", True)]
    services.cases.applying.apply(again.id, actor=OPERATOR)
    assert state(functions) == {"NA": "3", "EU": "3", "FE": "3"}
    assert len(code(functions)) == 1
    assert services.cases.reading.status("trivia").disagreement is None
