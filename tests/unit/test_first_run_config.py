"""The configuration of a first run: ``.env`` reaches boto3, and every missing or
placeholder setting is named in one refusal, with where to fix it."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

from bot.config import EXAMPLE_IDS, load_for_start, load_settings
from bot.domain.errors import ConfigError
from tests.support.aws import AWS_CHAIN

ROOT = Path(__file__).resolve().parents[2]


def clean(monkeypatch, *names: str) -> None:
    """Unset ``names`` for this test, and unset them again afterwards if the code sets them."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def slack_and_config_names() -> list[str]:
    return [
        n for n in os.environ if n.startswith(("SLACK_", "SKILLBOT_", "ALEXA_", "DATABASE_"))
    ] + ["PORT"]


def test_aws_settings_of_dotenv_reach_the_process_environment(monkeypatch, tmp_path):
    clean(monkeypatch, *AWS_CHAIN)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "AWS_ENDPOINT_URL=http://127.0.0.1:4566\nAWS_REGION=eu-west-1\n"
        "AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=example\nSLACK_BOT_TOKEN=xoxb-1\n"
    )
    settings = load_settings(env_file=env_file)
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert os.environ["AWS_REGION"] == "us-west-2", "the environment wins over .env"
    assert settings.aws_region == "us-west-2"
    import boto3

    client = boto3.client("lambda", region_name=settings.aws_region)
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"


def fresh_clone(tmp_path: Path, monkeypatch) -> Path:
    for name in slack_and_config_names():
        monkeypatch.delenv(name, raising=False)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    shutil.copy(ROOT / "skillbot.example.toml", tmp_path / "skillbot.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path / ".env"


def test_every_placeholder_is_named_in_one_refusal(monkeypatch, tmp_path):
    env_file = fresh_clone(tmp_path, monkeypatch)
    with pytest.raises(ConfigError) as err:
        load_for_start("all", env_file=env_file)
    said = err.value.message
    lines = [line for line in said.splitlines() if line.strip().startswith("- ")]
    assert any("SLACK_BOT_TOKEN" in line and "xoxb-..." in line for line in lines), said
    assert any("SLACK_SIGNING_SECRET" in line and "SLACK_APP_TOKEN" in line for line in lines)
    assert any("skills.trivia.alexa_skill_id" in line for line in lines), said
    assert any("operators" in line and "U0ALICE" in line and "U0BOB" in line for line in lines)
    assert any("approvers" in line and "U0CAROL" in line for line in lines)
    assert any("announce_channel" in line and "C0ANNOUNCE" in line for line in lines)
    assert all(".env" in line or "skillbot.toml" in line for line in lines), said
    assert ".env.example" in err.value.hint


def test_a_wrong_skills_file_and_a_missing_token_are_named_together(monkeypatch, tmp_path):
    env_file = fresh_clone(tmp_path, monkeypatch)
    (tmp_path / "skillbot.toml").write_text("operators = [\n")
    env_file.write_text("SLACK_SIGNING_SECRET=s3cret\n")
    with pytest.raises(ConfigError) as err:
        load_for_start("web", env_file=env_file)
    said = err.value.message
    assert "SLACK_BOT_TOKEN is missing" in said and "not valid TOML" in said, said


def test_example_ids_are_fine_against_a_local_stand_in(monkeypatch, tmp_path):
    env_file = fresh_clone(tmp_path, monkeypatch)
    env_file.write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nSLACK_API_URL=http://127.0.0.1:9/api/\n"
    )
    with pytest.raises(ConfigError) as err:
        load_for_start("all", env_file=env_file)
    assert "alexa_skill_id" in err.value.message and "U0ALICE" not in err.value.message
    example = (tmp_path / "skillbot.toml").read_text()
    (tmp_path / "skillbot.toml").write_text(
        example.replace("00000000-0000-0000-0000-000000000000", "1234abcd-0000-0000-0000-0123")
    )
    settings, config = load_for_start("all", env_file=env_file)
    assert config.operators == ["U0ALICE", "U0BOB"] and settings.slack_bot_token == "xoxb-1"


def test_the_scheduler_needs_the_token_but_no_signing_secret(monkeypatch, tmp_path):
    env_file = fresh_clone(tmp_path, monkeypatch)
    env_file.write_text("SLACK_API_URL=http://127.0.0.1:9/api/\n")
    with pytest.raises(ConfigError) as err:
        load_for_start("scheduler", env_file=env_file)
    assert "SLACK_BOT_TOKEN" in err.value.message
    assert "SLACK_SIGNING_SECRET" not in err.value.message


def test_the_example_ids_are_those_of_the_shipped_example():
    example = tomllib.loads((ROOT / "skillbot.example.toml").read_text())
    shipped = {example["announce_channel"], *example["operators"], *example["approvers"]}
    shipped |= {s["channel"] for s in example["skills"].values() if "channel" in s}
    assert shipped <= EXAMPLE_IDS


@pytest.mark.parametrize(
    "name",
    [
        "skillbot.toml",
        ".env",
        "skillbot.db",
        "skillbot.db-wal",
        "skillbot.db-shm",
        "skillbot.db.lock.4242",
    ],
)
def test_a_first_runs_files_are_ignored_by_git(name):
    from fnmatch import fnmatch

    patterns = [p.strip() for p in (ROOT / ".gitignore").read_text().splitlines()]
    assert any(p and not p.startswith("#") and fnmatch(name, p) for p in patterns), name
