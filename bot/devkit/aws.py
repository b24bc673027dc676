"""Lambda functions on moto for integration and end-to-end tests, and for the demo."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from bot.adapters.lambda_aws import LambdaAdapter, lambda_client_config

REGION = "us-east-1"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        # a fixed timestamp: the same source is the same package (and CodeSha256) whenever
        # and wherever it is deployed, as a reproducible build makes it
        zf.writestr(zipfile.ZipInfo("index.py", date_time=(2026, 1, 1, 0, 0, 0)), source)
    return buf.getvalue()


def lambda_client(endpoint_url: str | None = None, region: str = REGION) -> Any:
    return boto3.client(
        "lambda", region_name=region, endpoint_url=endpoint_url, config=lambda_client_config(2, 5)
    )


def create_skill_function(
    name: str = "trivia-skill",
    endpoint_url: str | None = None,
    *,
    with_aliases: bool = True,
    alexa_skill_id: str | None = None,
    region: str = REGION,
) -> Any:
    """A function with v1 (code 1) and v2 (code 2); PROD1 → v1, PROD2 → v2.

    With ``alexa_skill_id`` both aliases also get the Alexa Skills Kit trigger for it.
    """
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint_url)
    try:
        role = iam.get_role(RoleName="skill-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="skill-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    client = lambda_client(endpoint_url, region)
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": zipped("VERSION = 1\n")},
    )
    client.publish_version(FunctionName=name)
    deploy(client, name, "VERSION = 2\n")
    client.publish_version(FunctionName=name)
    if with_aliases:
        client.create_alias(FunctionName=name, Name="PROD1", FunctionVersion="1")
        client.create_alias(FunctionName=name, Name="PROD2", FunctionVersion="2")
        if alexa_skill_id is not None:
            for alias in ("PROD1", "PROD2"):
                add_alexa_trigger(client, name, alias, alexa_skill_id)
    return client


def add_alexa_trigger(client: Any, name: str, alias: str, skill_id: str) -> None:
    """The Alexa Skills Kit trigger on one alias, with skill-id verification."""
    client.add_permission(
        FunctionName=name,
        Qualifier=alias,
        StatementId=LambdaAdapter.alexa_trigger_id(alias),
        Action="lambda:InvokeFunction",
        Principal="alexa-appkit.amazon.com",
        EventSourceToken=skill_id,
    )


def deploy(client: Any, name: str, source: str) -> None:
    answer = client.update_function_code(FunctionName=name, ZipFile=zipped(source))
    _stamp_the_update(answer)


def _stamp_the_update(answer: dict[str, Any]) -> None:
    """Lambda sets ``LastModified`` on every code update; moto keeps the function's creation
    time. Where moto runs in this process (the demo, in-process tests) its record gets the
    update's time, so "deployed 2 min ago" is about this deploy, not the first one."""
    try:
        from moto.awslambda.models import lambda_backends
        from moto.core.utils import iso_8601_datetime_with_nanoseconds
    except ImportError:  # a real AWS, or moto in another process: nothing to correct
        return
    _, _, _, region, account, *_ = answer["FunctionArn"].split(":")
    try:
        function = lambda_backends[account][region].get_function(answer["FunctionName"])
    except Exception:
        return
    if function.code_sha_256 == answer["CodeSha256"]:
        function.last_modified = iso_8601_datetime_with_nanoseconds()
