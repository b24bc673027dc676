"""Files the repository ships for deployment agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bot.adapters.apigateway as apigateway
import bot.adapters.cloudwatch as cloudwatch
import bot.adapters.lambda_aws as lambda_aws
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


#: calls IAM cannot scope to a function: they name no resource
ACCOUNT_LEVEL = {"lambda:GetAccountSettings", "cloudwatch:GetMetricData"}


def called_apis(module: object, service: str, client: str = "_client") -> set[str]:
    source = Path(module.__file__).read_text()  # type: ignore[attr-defined]
    # the Lambda adapter calls through the client of the function's region: self._c(function)
    calls = set(re.findall(rf"self\.(?:{client}|_c\(\w*\))\.([a-z_]+)\(", source))
    calls -= {"get_paginator"}
    calls |= set(re.findall(r'get_paginator\("([a-z_]+)"\)', source))
    return {f"{service}:" + "".join(p.capitalize() for p in name.split("_")) for name in calls}


def called_aws_apis() -> set[str]:
    """Every AWS action the adapters call: Lambda's and CloudWatch's by name; API
    Gateway's reads (REST and HTTP APIs, ``client.get_…``) are all ``apigateway:GET``."""
    gateway = Path(apigateway.__file__).read_text()
    reads = set(re.findall(r"\bclient\.([a-z_0-9]+)\b", gateway))
    assert reads and all(r.startswith("get_") for r in reads), reads
    return (
        called_apis(lambda_aws, "lambda")
        | called_apis(apigateway, "lambda", client="_lambda")
        | called_apis(cloudwatch, "cloudwatch")
        | {"apigateway:GET"}
    )


def test_iam_policy_allows_exactly_the_aws_calls_the_bot_makes():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    allowed = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        actions = set(actions if isinstance(actions, list) else [actions])
        allowed |= actions
        resources = statement["Resource"]
        for arn in resources if isinstance(resources, list) else [resources]:
            if arn == "*":
                assert actions <= ACCOUNT_LEVEL, f"{actions - ACCOUNT_LEVEL} on every resource"
            elif all(a.startswith("apigateway:") for a in actions):
                # reads of the REST and HTTP APIs only (in every region a skill is served from)
                assert re.fullmatch(r"arn:aws:apigateway:\*::/(restapis|apis)(/\*)?", arn)
            else:
                # the skill's functions in any region (regional endpoints), of one account
                pattern = r"arn:aws:lambda:\*:ACCOUNT_ID:function:[\w-]+(:\*)?"
                assert re.fullmatch(pattern, arn), arn
    assert allowed == called_aws_apis()


def test_the_bot_may_add_invoke_permissions_for_alexa_and_api_gateway_only():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    [add] = [s for s in policy["Statement"] if s["Action"] == "lambda:AddPermission"]
    principals = add["Condition"]["StringEquals"]["lambda:Principal"]
    assert set(principals) == {apigateway.GATEWAY_PRINCIPAL, lambda_aws.ALEXA_PRINCIPAL}


def test_versions_may_be_deleted_but_never_the_function():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    [statement] = [s for s in policy["Statement"] if "lambda:DeleteFunction" in s["Action"]]
    assert statement["Action"] == "lambda:DeleteFunction"
    assert statement["Resource"].endswith(":function:trivia-skill:*")  # qualified ARNs only


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


def test_pipelines_page_lists_every_command_line_operation():
    from bot.commands import TABLE
    from bot.domain.commands import CLI

    page = (ROOT / "docs" / "pipelines.md").read_text()
    listed = set()
    for line in re.findall(r"^skillbot ([a-z|]+) ", page, flags=re.MULTILINE):
        listed |= set(line.split("|"))
    wanted = {name for name, sub in TABLE.items() if CLI in sub.faces}
    assert wanted <= listed, f"docs/pipelines.md does not list {sorted(wanted - listed)}"
