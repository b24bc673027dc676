"""What the demo starts with: three people, two channels, one skill on moto.

The skill's function gets v1 and v2, ``PROD1`` (live) → v1 and ``PROD2`` → v2, the Alexa
trigger on both aliases, and new code on ``$LATEST`` ready to certify::

    client = seed_aws(endpoint_url)
    write_skills_file(data_dir / "skillbot.toml", reminder_schedule="30s")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.devkit.aws import REGION as REGION  # the demo's AWS region
from bot.devkit.aws import create_skill_function, deploy, lambda_client

SKILL = "trivia"
FUNCTION = "trivia-skill"
ALEXA_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000de70"
SKILL_CHANNEL = "C0TRIVIA"
LIVE_ALIAS = "PROD1"
#: how often the demo's bot reads the fake Alexa's review
ALEXA_POLL_EVERY = "5s"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # what the skills file lets them do


OPERATOR = Person("U0OLIVIA", "Olivia", "operator")
APPROVER = Person("U0ARJUN", "Arjun", "approver")
BYSTANDER = Person("U0BEA", "Bea", "bystander")
PEOPLE = (OPERATOR, APPROVER, BYSTANDER)
#: the page offers only channels the bot posts to
CHANNELS = {SKILL_CHANNEL: "trivia"}


def code(release: int) -> str:
    """The source of the function's ``index.py`` for one release of the skill's code."""
    return (
        f"RELEASE = {release}\n\n\n"
        "def handler(event, context):\n"
        f'    return {{"version": "1.0", "response": {{"outputSpeech": '
        f'{{"type": "PlainText", "text": "Trivia release {release}"}}}}}}\n'
    )


def seed_aws(endpoint_url: str | None) -> Any:
    """Create the demo function on ``endpoint_url`` (moto); returns its Lambda client."""
    client = create_skill_function(FUNCTION, endpoint_url, alexa_skill_id=ALEXA_SKILL_ID)
    deploy(client, FUNCTION, code(3))  # what CI just built: the next version to certify
    return client


def keep_skill_id_verification() -> bool:
    """Make the in-process moto keep ``AddPermission``'s ``EventSourceToken``.

    AWS stores it as the statement's ``StringEquals`` condition on
    ``lambda:EventSourceToken`` (skill-id verification); moto drops it, so doctor would
    report every Alexa trigger, even one it has just fixed, as open to any skill.
    Returns False when moto's policy code is not what this expects (nothing changed).
    """
    try:
        from moto.awslambda.policy import Policy
    except ImportError:
        return False
    original = getattr(Policy, "decode_policy", None)
    if original is None:
        return False
    if getattr(original, "keeps_event_source_token", False):
        return True

    def decode_policy(self: Any, obj: dict[str, Any]) -> Any:
        token = obj.get("EventSourceToken")
        policy = original(self, obj)
        if token and policy.statements:
            condition = policy.statements[-1].setdefault("Condition", {})
            condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = token
        return policy

    decode_policy.keeps_event_source_token = True  # type: ignore[attr-defined]
    setattr(Policy, "decode_policy", decode_policy)  # noqa: B010
    return True


def people(approvals: int = 1) -> tuple[Person, ...]:
    """Who is in the demo: with two approvals, Bea approves beside Arjun."""
    if approvals < 2:
        return PEOPLE
    return (OPERATOR, APPROVER, Person(BYSTANDER.id, BYSTANDER.name, "approver"))


def skills_file_text(
    *, reminder_schedule: str = "30s", approvals: int = 1, freeze_from: date | None = None
) -> str:
    """The demo's skills file (TOML): one skill, its channel, and who may do what; with
    ``approvals`` 2, two approvers must react; with ``freeze_from``, a freeze window of
    that day and the next (every change refused; an approver's --override goes past)."""
    approvers = [p.id for p in people(approvals) if p.role == "approver"]
    lines = [
        "# written by skillbot demo",
        f'announce_channel = "{SKILL_CHANNEL}"  # the one skill\'s channel',
        f"operators = {json.dumps([OPERATOR.id])}",
        f"approvers = {json.dumps(approvers)}",
        *([f"approvals = {approvals}"] if approvals > 1 else []),
        *(
            [f'freeze = ["{freeze_from} - {freeze_from + timedelta(days=1)}"]']
            if freeze_from
            else []
        ),
        'promote_reaction = "white_check_mark"',
        f"reminder_schedule = {json.dumps(reminder_schedule)}",
        "# a chart of how each change does, a minute after it (the demo's traffic, below)",
        'health_report = ["1m"]',
        "# the fake Alexa decides a review at a click: read it often, not every 5 minutes",
        f"alexa_poll_every = {json.dumps(ALEXA_POLL_EVERY)}",
        "",
        f"[skills.{SKILL}]",
        f'function = "{FUNCTION}"',
        f'alexa_skill_id = "{ALEXA_SKILL_ID}"',
        'aliases = ["PROD1", "PROD2"]',
        f'live_alias = "{LIVE_ALIAS}"',
    ]
    return "\n".join(lines) + "\n"


def write_skills_file(path: Path, **options: Any) -> Path:
    """:func:`skills_file_text` at ``path``."""
    path.write_text(skills_file_text(**options), encoding="utf-8")
    return path


def deploy_new_code(endpoint_url: str | None, release: int) -> str:
    """Put a new build on ``$LATEST``, as a CI pipeline does; returns its CodeSha256."""
    client = lambda_client(endpoint_url)
    deploy(client, FUNCTION, code(release))
    return str(client.get_function_configuration(FunctionName=FUNCTION)["CodeSha256"])


def publish_traffic(endpoint_url: str | None, at: Sequence[datetime] = ()) -> None:
    """What Lambda would publish for the demo's customers: a few invocations a second on
    each alias's version (one error in fifty), as CloudWatch's per-version figures, at
    each of ``at`` (now, when empty) in one call."""
    import boto3

    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint_url)
    client = lambda_client(endpoint_url)
    moments = list(at) or [datetime.now(UTC)]
    data = []
    for alias in ("PROD1", "PROD2"):
        version = client.get_alias(FunctionName=FUNCTION, Name=alias)["FunctionVersion"]
        dims = [
            {"Name": "FunctionName", "Value": FUNCTION},
            {"Name": "Resource", "Value": f"{FUNCTION}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        calls = 40 if alias == LIVE_ALIAS else 4
        for when in moments:
            for name, value in (("Invocations", calls), ("Errors", calls // 50)):
                data.append(
                    {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": when}
                )
            took = {"Value": 120.0 + int(version), "Unit": "Milliseconds", "Timestamp": when}
            data.append({"MetricName": "Duration", "Dimensions": dims, **took})
    for first in range(0, len(data), 900):  # CloudWatch takes 1,000 values a call
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[first : first + 900])
