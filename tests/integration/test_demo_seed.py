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
    assert config.skills[seed.SKILL].channel == seed.SKILL_CHANNEL
