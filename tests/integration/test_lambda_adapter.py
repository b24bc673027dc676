"""The boto3 adapter on moto, and its guards with botocore's Stubber for what moto lacks."""

from __future__ import annotations

import json

import pytest

from bot.adapters.lambda_aws import LambdaAdapter
from bot.devkit.aws import create_skill_function, deploy
from bot.domain.errors import Busy, Forbidden, NotFound, StalePlan, Unavailable
from tests.support.aws import adapter
from tests.support.fakes import SKILL_ID
from tests.support.faults import refuse_revision

FN = "trivia-skill"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:trivia-skill"


def test_reads_aliases_latest_and_versions(aws):
    lam = adapter(create_skill_function())
    prod1 = lam.get_alias(FN, "PROD1")
    assert (prod1.name, prod1.version, prod1.routing) == ("PROD1", "1", {})
    assert prod1.revision_id
    assert lam.get_alias(FN, "PROD9") is None
    latest = lam.get_latest(FN)
    assert latest.code_sha256 == lam.get_version(FN, "2").code_sha256
    assert lam.get_version(FN, "99") is None
    assert [v.number for v in lam.list_versions(FN)] == ["1", "2"]


def test_publishes_and_moves_an_alias(aws):
    client = create_skill_function()
    lam = adapter(client)
    deploy(client, FN, "VERSION = 3\n")
    latest = lam.wait_until_updated(FN)
    v3 = lam.publish_version(FN, latest.code_sha256, "hotfix by U1")
    assert (v3.number, v3.code_sha256) == ("3", latest.code_sha256)
    moved = lam.update_alias(
        FN, "PROD1", "3", lam.get_alias(FN, "PROD1").revision_id, clear_routing=True
    )
    assert moved.version == "3"
    assert client.get_alias(FunctionName=FN, Name="PROD1")["FunctionVersion"] == "3"


def test_alexa_trigger_is_added_to_the_alias_qualified_arn(aws):
    client = create_skill_function()
    lam = adapter(client)
    assert lam.alexa_triggers(FN, "PROD1") == []
    lam.add_alexa_trigger(FN, "PROD1", SKILL_ID)
    policy = json.loads(client.get_policy(FunctionName=FN, Qualifier="PROD1")["Policy"])
    [statement] = policy["Statement"]
    assert statement["Resource"].endswith(":trivia-skill:PROD1")
    assert "alexa-appkit.amazon.com" in json.dumps(statement["Principal"])
    # moto shares one policy across qualifiers: PROD2 must not see PROD1's statement
    assert lam.alexa_triggers(FN, "PROD2") == []
    assert [t.alias for t in lam.alexa_triggers(FN, "PROD1")] == ["PROD1"]


def test_live_role_is_a_tag_on_the_function(aws):
    client = create_skill_function()
    lam = adapter(client)
    assert lam.read_live_alias(FN) is None
    lam.write_live_alias(FN, "PROD2")
    assert client.list_tags(Resource=ARN)["Tags"]["skillbot:live-alias"] == "PROD2"
    assert adapter(client).read_live_alias(FN) == "PROD2"  # a fresh process reads it back


# -- what moto does not enforce: real AWS answers through botocore's Stubber ----------


def test_revision_mismatch_on_update_alias_is_a_stale_plan(stubbed):
    lam, stub = stubbed
    refuse_revision(stub, FunctionName=FN, Name="PROD1", FunctionVersion="3", RevisionId="rev-old")
    with pytest.raises(StalePlan, match="alias changed in AWS") as err:
        lam.update_alias(FN, "PROD1", "3", "rev-old", clear_routing=False)
    assert "Nothing was changed" in err.value.hint


def test_code_hash_mismatch_on_publish_is_a_stale_plan(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "publish_version",
        "InvalidParameterValueException",
        "CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST (def). "
        "Please try again with the CodeSHA256 in $LATEST.".replace("SHA256", "Sha256"),
        400,
        expected_params={"FunctionName": FN, "CodeSha256": "abc", "Description": "d"},
    )
    with pytest.raises(StalePlan, match=r"code in \$LATEST"):
        lam.publish_version(FN, "abc", "d")


def test_update_in_progress_is_busy(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "publish_version",
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress.",
        409,
    )
    with pytest.raises(Busy, match="still applying another change"):
        lam.publish_version(FN, "abc", "d")


def test_throttling_after_retries_is_unavailable(stubbed):
    lam, stub = stubbed
    stub.add_client_error("get_alias", "TooManyRequestsException", "Rate exceeded", 429)
    with pytest.raises(Unavailable, match="throttled"):
        lam.get_alias(FN, "PROD1")


def test_missing_permission_points_at_the_iam_policy(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "get_function_configuration",
        "AccessDeniedException",
        "not authorized to perform: lambda:GetFunctionConfiguration",
        403,
    )
    with pytest.raises(Forbidden) as err:
        lam.get_latest(FN)
    assert "iam-policy.json" in err.value.hint


def test_missing_function_is_not_found(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "get_function_configuration", "ResourceNotFoundException", "Function not found", 404
    )
    with pytest.raises(NotFound, match="no such resource"):
        lam.get_latest(FN)


def test_duplicate_alias_is_reported_as_created_meanwhile(stubbed):
    lam, stub = stubbed
    stub.add_client_error(
        "create_alias", "ResourceConflictException", f"Alias already exists: {ARN}:PROD2", 409
    )
    with pytest.raises(StalePlan, match="created meanwhile"):
        lam.create_alias(FN, "PROD2", "1")


def test_real_aws_policy_with_skill_id_verification_is_understood(stubbed):
    lam, stub = stubbed
    policy = {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [
            {
                "Sid": "a",
                "Effect": "Allow",
                "Principal": {"Service": "alexa-appkit.amazon.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": f"{ARN}:PROD1",
                "Condition": {"StringEquals": {"lambda:EventSourceToken": SKILL_ID}},
            },
            {
                "Sid": "b",
                "Effect": "Allow",
                "Principal": {"Service": "alexa-appkit.amazon.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": f"{ARN}:PROD1",
            },
            {
                "Sid": "c",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": f"{ARN}:PROD1",
            },
        ],
    }
    stub.add_response(
        "get_policy",
        {"Policy": json.dumps(policy), "RevisionId": "r"},
        {"FunctionName": FN, "Qualifier": "PROD1"},
    )
    lam = LambdaAdapter(lam._client)
    lam._arns[FN] = ARN
    triggers = lam.alexa_triggers(FN, "PROD1")
    assert [(t.statement_id, t.skill_id) for t in triggers] == [("a", SKILL_ID), ("b", None)]


def test_add_trigger_sends_the_event_source_token(stubbed):
    lam, stub = stubbed
    stub.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": FN,
            "Qualifier": "PROD2",
            "StatementId": "skillbot-alexa-PROD2",
            "Action": "lambda:InvokeFunction",
            "Principal": "alexa-appkit.amazon.com",
            "EventSourceToken": SKILL_ID,
        },
    )
    assert lam.add_alexa_trigger(FN, "PROD2", SKILL_ID).skill_id == SKILL_ID
