"""The demo starts from a healthy rotation: aliases, verified Alexa triggers, new code."""

from __future__ import annotations

import tomllib

import pytest
from moto.awslambda.policy import Policy

from bot.config import parse_skills
from bot.demo import seed
from tests.support.aws import adapter, alias_version


@pytest.fixture
def faithful_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    # restored after the test: other tests rely on moto as it comes
    monkeypatch.setattr(Policy, "decode_policy", Policy.decode_policy)
    assert seed.keep_skill_id_verification()


def test_seeded_function_is_ready_to_certify(aws, faithful_policies) -> None:
    client = seed.seed_aws(None)
    lam = adapter(client)

    assert [alias_version(client, seed.FUNCTION, a) for a in ("PROD1", "PROD2")] == ["1", "2"]
    for alias in ("PROD1", "PROD2"):
        [trigger] = lam.alexa_triggers(seed.FUNCTION, alias)
        assert trigger.skill_id == seed.ALEXA_SKILL_ID
    v2 = client.get_function_configuration(FunctionName=seed.FUNCTION, Qualifier="2")
    latest = client.get_function_configuration(FunctionName=seed.FUNCTION)
    assert latest["CodeSha256"] != v2["CodeSha256"]
    assert seed.deploy_new_code(None, 4) != latest["CodeSha256"]


def test_skills_file_names_the_three_people_and_the_schedule() -> None:
    config = parse_skills(tomllib.loads(seed.skills_file_text(reminder_schedule="5s")))

    assert config.operators == [seed.OPERATOR.id]
    assert config.approvers == [seed.APPROVER.id]
    assert seed.BYSTANDER.id not in config.operators + config.approvers
    assert config.reminder_schedule == "5s"
    skills = config.to_skills()
    assert skills[seed.SKILL].channel == seed.SKILL_CHANNEL
    # the page offers just the channels the bot posts to: none stays empty all along
    assert set(seed.CHANNELS) == {skill.channel for skill in skills.values()}


def test_a_deploy_is_dated_when_it_happened_not_when_the_function_was_made(aws) -> None:
    from datetime import UTC, datetime, timedelta

    from moto.awslambda.models import lambda_backends

    client = seed.seed_aws(None)
    arn = client.get_function_configuration(FunctionName=seed.FUNCTION)["FunctionArn"]
    _, _, _, region, account, *_ = arn.split(":")
    made = lambda_backends[account][region].get_function(seed.FUNCTION)
    made.last_modified = "2026-01-01T00:00:00.000+0000"  # the seed ran long ago
    before = datetime.now(UTC) - timedelta(seconds=1)

    seed.deploy_new_code(None, 4)

    stamp = client.get_function_configuration(FunctionName=seed.FUNCTION)["LastModified"]
    # as Lambda does on every code update (moto alone would keep 2026-01-01)
    assert datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC) >= before.replace(
        microsecond=0
    )


def test_a_plan_says_how_long_ago_its_code_was_deployed() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from bot.adapters.slack.plans import plan_message
    from tests.support.users import OPERATOR
    from tests.support.world import make_world

    w = make_world()
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR)
    moved = replace(plan.moves[0], code_last_modified="2026-03-02T08:57:00.000+0000")
    plan = replace(
        plan, moves=(moved, *plan.moves[1:]), created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    )
    text = str(plan_message(plan))
    assert "deployed 3 min ago" in text and "2026-03-02T08:57" not in text


def test_the_demo_can_freeze_now_and_ask_for_two_approvers() -> None:
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from bot.domain.freeze import frozen_until

    today = date(2026, 12, 7)
    config = parse_skills(tomllib.loads(seed.skills_file_text(approvals=2, freeze_from=today)))
    assert config.approvals == 2
    assert config.approvers == [seed.APPROVER.id, seed.BYSTANDER.id]
    assert [p.role for p in seed.people(2)] == ["operator", "approver", "approver"]
    skill = config.to_skills()[seed.SKILL]
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    found = frozen_until(skill.freeze, now, ZoneInfo(config.timezone))
    assert found is not None and found[1] == datetime(2026, 12, 9, tzinfo=UTC)
    plain = parse_skills(tomllib.loads(seed.skills_file_text()))
    assert plain.approvals == 1 and plain.freeze == []
