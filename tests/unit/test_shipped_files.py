"""Files the repository ships for deployment agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bot.adapters.lambda_aws as lambda_aws
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def called_lambda_apis() -> set[str]:
    source = Path(lambda_aws.__file__).read_text()
    calls = set(re.findall(r"self\._client\.([a-z_]+)\(", source)) - {"get_paginator"}
    calls |= set(re.findall(r'get_paginator\("([a-z_]+)"\)', source))
    return {"lambda:" + "".join(p.capitalize() for p in name.split("_")) for name in calls}


def test_iam_policy_allows_exactly_the_lambda_calls_the_bot_makes():
    policy = json.loads((ROOT / "iam-policy.json").read_text())
    allowed = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        allowed |= set(actions if isinstance(actions, list) else [actions])
        resources = statement["Resource"]
        for arn in resources if isinstance(resources, list) else [resources]:
            assert ":function:" in arn and "*" not in arn.split(":function:")[0], arn
    assert allowed == called_lambda_apis()


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
