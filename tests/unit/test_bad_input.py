"""Bad input stops with one message naming what to fix, never a traceback: a skills file
that cannot be read, durations too long to schedule, environment values that are not
what they name, an interrupted apply."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from bot.cli.exit_codes import EXIT_INTERRUPTED
from bot.cli.operations import guarded
from bot.config import load_settings, load_skills_file, parse_skills
from bot.domain.errors import ConfigError
from bot.domain.model import Outcome
from bot.schedules import LONGEST, parse_duration
from tests.support.skills import skills_config
from tests.support.users import OPERATOR
from tests.support.world import make_world


def test_a_skills_file_that_is_a_folder_or_not_utf8_is_named(tmp_path):
    with pytest.raises(ConfigError, match="the skills file cannot be read: Is a directory"):
        load_skills_file(tmp_path)
    latin = tmp_path / "skillbot.toml"
    latin.write_bytes('announce_channel = "C0Ä"\n'.encode("latin-1"))
    with pytest.raises(
        ConfigError, match=r"not UTF-8 text \(invalid continuation byte at byte 22\)"
    ) as err:
        load_skills_file(latin)
    assert "Save the skills file as UTF-8" in err.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("366d", LONGEST),
        ("367d", None),
        ("999999999d", None),
        ("9999999999d", None),  # used to overflow timedelta (OverflowError)
        ("0s", timedelta(0)),
    ],
)
def test_durations_longer_than_a_year_are_refused_by_name(text, expected):
    if expected is None:
        with pytest.raises(ValueError, match=f"'{text}' is longer than 366 days"):
            parse_duration(text)
    elif expected == timedelta(0):
        assert parse_duration(text) is None
    else:
        assert parse_duration(text) == expected


@pytest.mark.parametrize("key", ["reminder_schedule", "skills.trivia.reminder_schedule"])
def test_a_reminder_schedule_too_long_to_fire_stops_the_start(key):
    config = skills_config()
    if key == "reminder_schedule":
        config["reminder_schedule"] = "999999999d"
    else:
        config["skills"]["trivia"]["reminder_schedule"] = "9999999999d"
    with pytest.raises(ConfigError, match="is longer than 366 days") as err:
        parse_skills(config)
    assert key in err.value.message


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SLACK_API_URL", "not a url", "'not a url' is not an http(s):// URL"),
        ("ALEXA_SMAPI_URL", "ftp://smapi", "'ftp://smapi' is not an http(s):// URL"),
        ("LOG_LEVEL", "LOUD", "'LOUD' is not a log level: use one of DEBUG, INFO"),
        ("AWS_REGION", "bad region", "'bad region' is not an AWS region like 'eu-west-1'"),
    ],
)
def test_environment_values_that_are_not_what_they_name_are_refused(
    monkeypatch, tmp_path, name, value, problem
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "no.env")
    assert f"{name}: {problem}" in err.value.message
    assert "Value error" not in err.value.message


@pytest.mark.parametrize(("value", "kept"), [("debug", "DEBUG"), ("us-gov-west-1", None)])
def test_good_values_pass(monkeypatch, tmp_path, value, kept):
    monkeypatch.setenv("LOG_LEVEL" if kept else "AWS_REGION", value)
    settings = load_settings(tmp_path / "no.env")
    assert (settings.log_level if kept else settings.aws_region) == (kept or value)


def test_an_apply_interrupted_by_ctrl_c_leaves_the_plan_interrupted_and_confirmable():
    w = make_world()
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("hotfix", "trivia", actor=OPERATOR, reason="fix")
    ctx = w.cases.applying.ctx
    real = ctx.last_promotion

    def interrupted(skill):  # Ctrl-C reaches the main thread while it checks the plan
        raise KeyboardInterrupt

    ctx.last_promotion = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        w.cases.applying.apply(plan.id, actor=OPERATOR)
    assert w.store.plan_status(plan.id) == "interrupted"
    last = w.store.audit("trivia", 1)[0]
    assert (last.outcome, last.detail) == (Outcome.FAILED, "interrupted")
    ctx.last_promotion = real  # type: ignore[method-assign]
    change = w.cases.applying.apply(plan.id, actor=OPERATOR)  # confirming again finishes it
    assert not change.noop and w.alias("PROD1") == change.to_version


@pytest.mark.parametrize("json_mode", [False, True])
def test_ctrl_c_in_a_command_says_what_to_run_and_exits_130(capsys, json_mode):
    def command(args, out, payload):
        payload["plan"] = {"id": "p123"}
        raise KeyboardInterrupt

    args = argparse.Namespace(json=json_mode, operation="hotfix")
    assert guarded(command)(args) == EXIT_INTERRUPTED
    printed = capsys.readouterr()
    assert "interrupted" in printed.err and "skillbot apply p123 finishes it" in printed.err
    assert "Traceback" not in printed.err
    if json_mode:
        assert '"outcome": "interrupted"' in printed.out and '"exit_code": 130' in printed.out
    else:
        assert printed.out == ""
