"""Configuration: every kind of bad skills file or environment stops the start, named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings, load_skills_file, parse_skills
from bot.domain.errors import ConfigError
from bot.schedules import parse_duration
from tests.support.skills import skills_config

GOOD = """
announce_channel = "C0ANNOUNCE"
operators = ["U0ALICE", "U0BOB"]
approvers = ["U0CAROL"]
promote_reaction = "white_check_mark"
reminder_schedule = "0 10 * * MON-FRI"
timezone = "Europe/Berlin"

[skills.trivia]
function = "trivia-skill"
alexa_skill_id = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
aliases = ["PROD1", "PROD2"]
live_alias = "PROD1"
channel = "C0TRIVIA"

[skills.quiz]
function = "arn:aws:lambda:eu-west-1:123456789012:function:quiz"
alexa_skill_id = "amzn1.ask.skill.11111111-0000-0000-0000-000000000000"
reminder_schedule = "24h"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skillbot.toml"
    path.write_text(text)
    return path


def test_the_example_of_the_spec_loads(tmp_path):
    skills = load_skills_file(write(tmp_path, GOOD)).to_skills()
    trivia, quiz = skills["trivia"], skills["quiz"]
    assert (trivia.aliases, trivia.initial_live_alias, trivia.channel) == (
        ("PROD1", "PROD2"),
        "PROD1",
        "C0TRIVIA",
    )
    assert (quiz.aliases, quiz.initial_live_alias, quiz.channel) == (
        ("PROD1", "PROD2"),
        "PROD1",
        "C0ANNOUNCE",
    )
    assert quiz.reminder_schedule == "24h"


def test_the_shipped_example_file_is_valid():
    example = Path(__file__).resolve().parents[2] / "skillbot.example.toml"
    assert load_skills_file(example).skills


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('announce_channel = "C0ANNOUNCE"\n', ""), "announce_channel: required key is missing"),
        (('function = "trivia-skill"\n', ""), "skills.trivia.function: required key is missing"),
        (('live_alias = "PROD1"', 'live_alias = "PROD3"'), "skills.trivia: live_alias 'PROD3'"),
        (
            ('aliases = ["PROD1", "PROD2"]', 'aliases = ["PROD1", "PROD1"]'),
            "skills.trivia.aliases: the two aliases must differ",
        ),
        (('aliases = ["PROD1", "PROD2"]', 'aliases = ["PROD1"]'), "skills.trivia.aliases"),
        (('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'), "timezone: 'Mars/Olympus'"),
        (("0 10 * * MON-FRI", "every morning"), "reminder_schedule"),
        (
            ('reminder_schedule = "24h"', 'reminder_schedule = "61 * * * *"'),
            "skills.quiz.reminder_schedule",
        ),
        (
            ('alexa_skill_id = "amzn1.ask.skill.0000', 'alexa_skill_id = "skill-0000'),
            "skills.trivia.alexa_skill_id",
        ),
        (('operators = ["U0ALICE", "U0BOB"]', "operators = []"), "operators"),
        (('approvers = ["U0CAROL"]', 'approvers = ["carol"]'), "approvers.0"),
        (('channel = "C0TRIVIA"', 'chanel = "C0TRIVIA"'), "skills.trivia.chanel: unknown key"),
        (("[skills.trivia]", '[skills."Trivia Skill"]'), "skills.Trivia Skill"),
        (
            ("timezone = ", 'alexa_poll_every = "often"\ntimezone = '),
            "alexa_poll_every: 'often' is not a duration such as '5m'",
        ),
    ],
)
def test_a_wrong_file_names_file_key_and_problem(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_skills_file(path)
    assert str(path) in err.value.message
    assert expected in err.value.message


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as err:
        load_skills_file(tmp_path / "nope.toml")
    assert "skillbot.example.toml" in err.value.hint
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_skills_file(write(tmp_path, "operators = [\n"))


def test_no_skills_is_an_error(tmp_path):
    text = GOOD.split("[skills.trivia]")[0]
    with pytest.raises(ConfigError, match="skills: required key is missing"):
        load_skills_file(write(tmp_path, text))


def test_durations():
    assert parse_duration("5s").total_seconds() == 5
    assert parse_duration("24h").total_seconds() == 86400
    assert parse_duration("0s") is None and parse_duration("5 parsecs") is None


def clean_env(monkeypatch):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "PORT",
        "DATABASE_URL",
        "ALEXA_LWA_CLIENT_ID",
        "ALEXA_LWA_CLIENT_SECRET",
        "ALEXA_LWA_REFRESH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_variables_are_named_with_pointers(monkeypatch):
    clean_env(monkeypatch)
    settings = load_settings(env_file=None)
    with pytest.raises(ConfigError) as err:
        settings.require_slack()
    assert "SLACK_BOT_TOKEN" in err.value.message and "SLACK_SIGNING_SECRET" in err.value.message
    assert ".env.example" in err.value.hint and "manifest.yml" in err.value.hint


def test_socket_mode_needs_no_signing_secret(monkeypatch):
    clean_env(monkeypatch)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    settings = load_settings(env_file=None)
    settings.require_slack()
    assert settings.socket_mode and not settings.smapi_enabled


def test_dotenv_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    clean_env(monkeypatch)
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-file\nPORT=4000\n")
    monkeypatch.setenv("PORT", "5000")
    settings = load_settings(env_file=env_file)
    assert (settings.slack_bot_token, settings.port) == ("xoxb-file", 5000)


def test_bad_port_is_named(monkeypatch):
    clean_env(monkeypatch)
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(ConfigError, match="PORT"):
        load_settings(env_file=None)


def test_a_cron_expression_that_never_fires_is_refused(tmp_path):
    path = write(tmp_path, GOOD.replace("0 10 * * MON-FRI", "0 10 30 2 *"))
    with pytest.raises(ConfigError, match="never fires"):
        load_skills_file(path)


ARN_EU = "arn:aws:lambda:eu-west-1:123456789012:function:"
ARN_US = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ({"function": "trivia-skill"}, {"function": "trivia-skill"}, True),
        # a bare name is in the bot's own region, which the ARN may be
        ({"function": "trivia-skill"}, {"function": ARN_EU + "trivia-skill"}, True),
        ({"function": ARN_EU + "trivia"}, {"function": ARN_EU + "trivia"}, True),
        ({"function": "a"}, {"function": "b", "regional_functions": {"EU": ARN_EU + "a"}}, True),
        ({"function": ARN_EU + "trivia"}, {"function": ARN_US + "trivia"}, False),
        (
            {"function": ARN_EU + "trivia"},
            {"function": "arn:aws:lambda:eu-west-1:210987654321:function:trivia"},
            False,
        ),
        ({"function": "trivia-skill"}, {"function": "quiz-skill"}, False),
    ],
)
def test_two_skills_on_one_function_stop_the_start_naming_both(first, second, shared):
    config = skills_config({"trivia": "C0TRIVIA", "quiz": "C0QUIZ"})
    config["skills"]["trivia"].update(first)
    config["skills"]["quiz"].update(second)
    if not shared:
        assert set(parse_skills(config).to_skills()) == {"trivia", "quiz"}
        return
    with pytest.raises(ConfigError) as refused:
        parse_skills(config)
    assert "skills.trivia and skills.quiz both name the Lambda function" in refused.value.message


def test_alexa_poll_every_is_five_minutes_unless_set(tmp_path):
    assert load_skills_file(write(tmp_path, GOOD)).alexa_poll_seconds() == 300
    short = GOOD.replace("timezone = ", 'alexa_poll_every = "10s"\ntimezone = ', 1)
    assert load_skills_file(write(tmp_path, short)).alexa_poll_seconds() == 10
