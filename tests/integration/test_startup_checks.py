"""What a start checks before it says ready: what the standard AWS chain lacks is named
with every other problem of a first run; a Slack or AWS that is briefly unavailable is
tried again, each retry logged, within a budget; a definitive answer stops at once.

The waits run on a clock that moves only when the start sleeps (no test sleeps)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import boto3
import pytest

from bot.adapters.startup_checks import (
    StartRetries,
    StartupFailure,
    aws_problems,
    check_aws,
    check_slack,
)
from bot.config import load_for_start
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from bot.domain.errors import ConfigError
from bot.serve import build_checked
from tests.support.aws import AWS_CHAIN
from tests.support.fakes import Waits
from tests.support.faults import inject
from tests.support.slack_world import TOKEN, settings_for
from tests.support.world import world_config

ROOT = Path(__file__).resolve().parents[2]
RETRIED = "Trying again in"


@pytest.fixture
def no_aws(monkeypatch, tmp_path) -> Path:
    """A machine where the AWS chain finds nothing: no variables, no files, no role."""
    for name in AWS_CHAIN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def retries(waits: Waits) -> StartRetries:
    """The start's retries (30 s budget), on a clock that moves only when they sleep."""
    return StartRetries(sleep=waits.sleep, monotonic=lambda: waits.now)


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if RETRIED in r.getMessage()]


# -- what the AWS chain lacks, named with everything else ---------------------------------


def test_a_first_run_names_the_missing_aws_region_and_credentials_with_the_rest(
    no_aws, monkeypatch
):
    for name in [n for n in os.environ if n.startswith(("SLACK_", "SKILLBOT_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    shutil.copy(ROOT / ".env.example", no_aws / ".env")
    shutil.copy(ROOT / "skillbot.example.toml", no_aws / "skillbot.toml")
    monkeypatch.chdir(no_aws)

    with pytest.raises(ConfigError) as err:
        load_for_start("all", env_file=no_aws / ".env", aws_problems=aws_problems)

    lines = [line for line in err.value.message.splitlines() if line.startswith("  - ")]
    assert any("SLACK_BOT_TOKEN" in line for line in lines), lines
    assert any("skills.trivia.alexa_skill_id" in line for line in lines), lines
    region = [line for line in lines if "No AWS region" in line]
    credentials = [line for line in lines if "No AWS credentials" in line]
    assert region and "Set AWS_REGION" in region[0], lines
    assert credentials and "AWS_PROFILE" in credentials[0], lines
    assert "AWS_ACCESS_KEY_ID" in credentials[0], lines


def test_the_standard_chain_finds_a_profiles_region_and_keys(no_aws, monkeypatch):
    (no_aws / "aws-config").write_text("[profile skillbot]\nregion = eu-west-1\n")
    (no_aws / "aws-credentials").write_text(
        "[skillbot]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = example\n"
    )
    assert len(aws_problems(None)) == 2
    monkeypatch.setenv("AWS_PROFILE", "skillbot")
    assert aws_problems(None) == []


def test_half_a_key_pair_and_an_unknown_profile_are_named(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    (said,) = aws_problems("eu-west-1")
    assert "AWS_SECRET_ACCESS_KEY" in said and "Set AWS_PROFILE" in said, said
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_PROFILE", "nowhere")
    (said,) = aws_problems("eu-west-1")
    assert "nowhere" in said and "aws configure list-profiles" in said, said


# -- a service briefly unavailable is tried again --------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "error": "service_unavailable"},
        {"status": 429, "error": "ratelimited"},
        {"status": 200, "error": "internal_error"},
        {"status": 200, "lose_answer": True},
    ],
    ids=["5xx", "429", "internal_error", "connection-lost"],
)
def test_a_slack_failing_twice_then_answering_lets_the_bot_start(
    aws, tmp_path, caplog, waits, retries, fault
):
    caplog.set_level(logging.WARNING, "bot.adapters.startup_checks")
    with FakeSlack() as fake:
        fake.fail_next("auth.test", times=2, **fault)
        settings = settings_for(fake, f"sqlite:///{tmp_path / 'bot.db'}", aws_region=aws)
        slack, identity, composed = build_checked(settings, world_config(), retries)
        composed.close()
        asked = len(fake.calls_to("auth.test"))

    assert slack.bot_user_id == "UBOT" and identity.account == "123456789012"
    assert asked == 3
    lines = retry_lines(caplog)
    assert len(lines) == 2 and all(fake.api_url in line for line in lines), lines
    assert [f"try {n} failed" in line for n, line in enumerate(lines, 1)] == [True, True]
    assert len(waits.slept) == 2 and 0.25 <= waits.slept[0] <= 0.5 <= waits.slept[1] <= 1.0


@pytest.mark.parametrize(
    ("kind", "named"),
    [("throttle", "TooManyRequestsException"), ("5xx", "ServiceException"), ("timeout", "")],
)
def test_aws_failing_twice_then_answering_is_waited_for(aws, caplog, waits, retries, kind, named):
    caplog.set_level(logging.WARNING, "bot.adapters.startup_checks")
    session = boto3.session.Session(region_name=aws)
    with inject(session, "GetCallerIdentity", kind, times=2, service="sts") as hits:
        identity = check_aws(aws, retries, session=session)

    assert identity.account == "123456789012" and hits == [2]
    lines = retry_lines(caplog)
    assert len(lines) == 2 and all(named in line and "AWS" in line for line in lines), lines
    assert len(waits.slept) == 2


# -- a definitive answer stops at once --------------------------------------------------------


def test_a_token_slack_refuses_stops_at_once(waits, retries):
    with FakeSlack() as fake:
        fake.fail_next("auth.test", status=200, error="invalid_auth")
        with pytest.raises(StartupFailure) as err:
            check_slack(TOKEN, fake.api_url, retries)
        asked = len(fake.calls_to("auth.test"))

    assert asked == 1 and waits.slept == []
    assert err.value.exit_code == 2 and "invalid_auth" in err.value.message
    assert "SLACK_BOT_TOKEN" in err.value.message and "OAuth & Permissions" in err.value.hint


def test_credentials_aws_refuses_stop_at_once(aws, waits, retries):
    session = boto3.session.Session(region_name=aws)
    refused = inject(session, "GetCallerIdentity", "refused", times=5, service="sts")
    with refused as hits, pytest.raises(StartupFailure) as err:
        check_aws(aws, retries, session=session)

    assert hits == [1] and waits.slept == []
    assert err.value.exit_code == 2 and "InvalidClientTokenId" in err.value.message
    assert "aws sso login" in err.value.hint


def test_no_region_stops_at_once(no_aws, monkeypatch, waits, retries):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(StartupFailure) as err:
        check_aws(None, retries)
    assert err.value.exit_code == 2 and "No AWS region" in err.value.message
    assert "AWS_REGION" in err.value.hint and waits.slept == []


def test_a_refused_token_stops_the_start_while_aws_waits_to_try_again(
    monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # refused
    caplog.set_level(logging.WARNING, "bot.adapters.startup_checks")
    # the real waits, 30 s of budget: only stopping them lets this end soon
    retries = StartRetries()
    with FakeSlack() as fake:
        fake.delay("auth.test", 0.2)  # AWS has failed and is waiting by then
        fake.fail_next("auth.test", status=200, error="invalid_auth")
        settings = settings_for(fake, f"sqlite:///{tmp_path / 'bot.db'}", aws_region="us-east-1")
        with pytest.raises(StartupFailure) as err:
            build_checked(settings, world_config(), retries)

    said = err.value.message
    assert said.startswith("2 problems:") and err.value.exit_code == 2, said
    assert "invalid_auth" in said and "did not answer" in said, said
    assert "Gave up" not in said, "AWS's tries were to stop with the refused token"
    assert len(retry_lines(caplog)) <= 2, retry_lines(caplog)


# -- past the budget, the start gives up ------------------------------------------------------


def test_a_slack_failing_past_the_budget_gives_up_naming_the_last_error(waits, retries):
    with FakeSlack() as fake:
        fake.fail_next("auth.test", status=503, error="service_unavailable", times=100)
        with pytest.raises(StartupFailure) as err:
            check_slack(TOKEN, fake.api_url, retries)
        asked = len(fake.calls_to("auth.test"))

    said = err.value.message
    assert err.value.exit_code == 3 and "HTTP 503, service_unavailable" in said, said
    assert f"Gave up after {asked} tries" in said, said
    assert 4 <= asked < 100 and len(waits.slept) == asked - 1
    assert waits.now <= 30 and max(waits.slept) <= 8, waits.slept
    assert "start again" in err.value.hint


def test_aws_failing_past_the_budget_gives_up_naming_the_last_error(aws, waits, retries):
    session = boto3.session.Session(region_name=aws)
    failing = inject(session, "GetCallerIdentity", "5xx", times=100, service="sts")
    with failing as hits, pytest.raises(StartupFailure) as err:
        check_aws(aws, retries, session=session)

    said = err.value.message
    assert err.value.exit_code == 3 and "ServiceException" in said, said
    assert f"Gave up after {hits[0]} tries" in said and 4 <= hits[0] < 100, said
    assert waits.now <= 30
