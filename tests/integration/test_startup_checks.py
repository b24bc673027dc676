"""What a start checks before it says ready: what the standard AWS chain lacks is named
with every other problem of a first run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.adapters.startup_checks import aws_problems
from bot.config import load_for_start
from bot.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
#: everything of the standard chain that could find a region or credentials here
AWS_CHAIN = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture
def no_aws(monkeypatch, tmp_path) -> Path:
    """A machine where the AWS chain finds nothing: no variables, no files, no role."""
    for name in AWS_CHAIN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


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
