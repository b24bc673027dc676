"""Files the repository ships for deployment agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bot.adapters.apigateway as apigateway
import bot.adapters.lambda_aws as lambda_aws
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _action(name: str) -> str:
    return "lambda:" + "".join(p.capitalize() for p in name.split("_"))


def called_aws_apis() -> set[str]:
    """Every AWS action the adapters call: Lambda's by name; API Gateway's reads (REST and
    HTTP APIs, ``client.get_…``) are all the one IAM action ``apigateway:GET``."""
    source = Path(lambda_aws.__file__).read_text()
    calls = set(re.findall(r"self\._client\.([a-z_]+)\(", source)) - {"get_paginator"}
    calls |= set(re.findall(r'get_paginator\("([a-z_]+)"\)', source))
    gateway = Path(apigateway.__file__).read_text()
    calls |= set(re.findall(r"self\._lambda\.([a-z_]+)\(", gateway))
    reads = set(re.findall(r"\bclient\.([a-z_0-9]+)\b", gateway))
    assert reads and all(r.startswith("get_") for r in reads), reads
    return {_action(name) for name in calls} | {"apigateway:GET"}


def test_iam_policy_allows_exactly_the_aws_calls_the_bot_makes():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    allowed = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        allowed |= set(actions)
        resources = statement["Resource"]
        for arn in resources if isinstance(resources, list) else [resources]:
            if all(a.startswith("apigateway:") for a in actions):
                # reads of the REST and HTTP APIs only, in the bot's region
                assert re.fullmatch(r"arn:aws:apigateway:REGION::/(restapis|apis)(/\*)?", arn)
            else:
                assert ":function:" in arn and "*" not in arn.split(":function:")[0], arn
    assert allowed == called_aws_apis()


def test_the_bot_may_add_invoke_permissions_for_alexa_and_api_gateway_only():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    [add] = [s for s in policy["Statement"] if s["Action"] == "lambda:AddPermission"]
    principals = add["Condition"]["StringEquals"]["lambda:Principal"]
    assert set(principals) == {apigateway.GATEWAY_PRINCIPAL, lambda_aws.ALEXA_PRINCIPAL}


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert name.upper() in text, f"{name.upper()} missing from .env.example"
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION"):
        assert name in text


def test_procfile_declares_web_and_scheduler():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert lines["web"].strip() == "python -m bot web"
    assert lines["scheduler"].strip() == "python -m bot scheduler"
