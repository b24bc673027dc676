"""The ``skillbot`` console script, run as the installed entry point in a subprocess.

Each run gets a fresh working directory (no ``.env`` of the developer's) and an
environment without Slack, AWS or database settings unless the test sets them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot
from bot import cli
from bot.cli import environment_variables, required_variables
from tests.support.cli import skillbot_into_closed_pipe
from tests.support.db import postgres_schema_url
from tests.support.process import Child
from tests.support.skills import skills_toml

SCRIPT = Path(sys.executable).with_name("skillbot")
TABLES = {"alembic_version", "audit_events", "certifications", "plans", "reminders"}


def skillbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"{SCRIPT} is missing: install the project (pip install -e .)"
    return started([str(SCRIPT), *args], cwd=cwd, **env)


def started(argv: list[str], *, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``argv`` to its end, without the developer's Slack, AWS or skillbot settings."""
    return subprocess.run(
        argv, cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without Slack, AWS or skillbot settings, plus ``env``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "AWS_", "ALEXA_"))
        and k.upper() not in environment_variables()
    }
    return {**base, **env}


def test_version_is_the_installed_distributions(tmp_path):
    result = skillbot("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    installed = importlib.metadata.version("skillbot")
    assert result.stdout.strip() == f"skillbot {installed}"
    assert bot.__version__ == installed


def test_help_lists_the_commands_and_every_variable_grouped(tmp_path):
    result = skillbot("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for command in ("run", "migrate", "demo"):
        assert f"\n    {command} " in text, command
    required, _, optional = text.partition("  optional:")
    assert "  required:" in required
    for name in environment_variables():
        group = required if name in required_variables() else optional
        assert f"\n    {name}" in group, f"{name} not listed as expected in --help"
    assert "\n    AWS_*" in optional
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= set(required_variables())


def test_migrate_creates_the_schema_in_a_sqlite_file(tmp_path):
    db = tmp_path / "data" / "skillbot.db"
    db.parent.mkdir()
    result = skillbot("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert str(db) in result.stdout
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
    again = skillbot("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{db}")
    assert again.returncode == 0 and again.stdout == result.stdout


@pytest.mark.postgres
def test_migrate_creates_the_schema_on_postgresql_without_showing_the_password(tmp_path):
    with postgres_schema_url() as url:
        with_password = sa.engine.make_url(url).set(password="s3cret-pw")
        shown = skillbot(
            "migrate", cwd=tmp_path, DATABASE_URL=with_password.render_as_string(False)
        )
        # the test server trusts local connections, so the password is not checked
        assert shown.returncode == 0, shown.stderr
        assert "s3cret-pw" not in shown.stdout + shown.stderr
        assert "***" in shown.stdout
        engine = sa.create_engine(url)
        try:
            assert set(sa.inspect(engine).get_table_names()) >= TABLES
        finally:
            engine.dispose()


def test_migrate_of_an_unreachable_database_exits_3_without_the_password(tmp_path):
    url = "postgresql://skillbot:s3cret-pw@127.0.0.1:9/skillbot"  # discard port: refused
    result = skillbot("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 3, result.stderr
    assert "did not answer" in result.stderr and "DATABASE_URL" in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_migrate_with_a_malformed_database_url_exits_2(tmp_path):
    result = skillbot("migrate", cwd=tmp_path, DATABASE_URL="not a url")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


@pytest.fixture
def silent_database() -> Iterator[socket.socket]:
    """A TCP port that accepts connections and never answers: a database that hangs."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        yield server


def test_ctrl_c_during_a_command_ends_with_one_line_and_130(tmp_path, silent_database):
    port = silent_database.getsockname()[1]
    env = clean_env(DATABASE_URL=f"postgresql://skillbot@127.0.0.1:{port}/skillbot")
    command = Child([str(SCRIPT), "migrate"], env, cwd=tmp_path, name="skillbot").start()
    try:
        connection, _ = silent_database.accept()  # migrate waits for the database's answer
        with connection:
            code = command.kill(signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    finally:
        command.kill()
    assert code == 130, command.log()
    assert command.log() == "skillbot: interrupted (Ctrl-C).", command.log()


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
def test_output_cut_by_a_closed_pipe_ends_quietly_with_141(tmp_path, unbuffered):
    db = tmp_path / "skillbot.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{db}", PYTHONUNBUFFERED=unbuffered)
    result = skillbot_into_closed_pipe("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


#: no AWS configuration of the developer's: no files, no instance metadata
NO_AWS = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def problems(stderr: str) -> list[str]:
    """The lines of a list of problems."""
    return [line.removeprefix("  - ") for line in stderr.splitlines() if line.startswith("  - ")]


def test_a_command_without_configuration_names_every_problem_with_what_to_do(tmp_path):
    result = skillbot("status", cwd=tmp_path, **NO_AWS)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("skillbot: 4 problems:\n"), result.stderr
    named = problems(result.stderr)
    assert len(named) == 4, result.stderr
    for what, todo in [
        ("skillbot.toml: the skills file does not exist", "set SKILLBOT_CONFIG"),
        ("DATABASE_URL names skillbot.db, which does not exist", "skillbot migrate"),
        ("No AWS region is configured", "Set AWS_REGION"),
        ("No AWS credentials found", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
    ]:
        [line] = [line for line in named if what in line]
        assert todo in line.partition(what)[2], f"{line!r} does not say what to do"
    assert "skillbot.example.toml" in result.stderr.splitlines()[-1]


def test_a_change_without_configuration_names_every_problem_in_its_json_too(tmp_path):
    result = skillbot("hotfix", "--yes", "--json", cwd=tmp_path, **NO_AWS)

    assert result.returncode == 2, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "config"
    named = problems(error["message"])
    assert len(named) == 6 and error["message"].startswith("6 problems:"), error["message"]
    assert any("Who is acting?" in p and "SKILLBOT_ACTOR" in p for p in named)
    assert any("SLACK_BOT_TOKEN" in p and "Bot User OAuth Token" in p for p in named)
    assert problems(result.stderr) == named


def test_run_without_the_bot_token_exits_2_naming_it(tmp_path):
    skills = skills_toml(tmp_path / "skillbot.toml")
    result = skillbot(
        "run",
        cwd=tmp_path,
        SKILLBOT_CONFIG=str(skills),
        SLACK_SIGNING_SECRET="secret",
        DATABASE_URL=f"sqlite:///{tmp_path / 'skillbot.db'}",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert ".env.example" in result.stderr
    assert not (tmp_path / "skillbot.db").exists(), "nothing may start without the token"


MODULE = [sys.executable, "-m", "bot"]  # skillbot run, or skillbot demo
CLI_MODULE = [sys.executable, "-m", "bot.cli"]


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        ([str(SCRIPT), "demo", "--help"], "usage: skillbot demo "),
        ([*MODULE, "demo", "--help"], "usage: skillbot demo "),
        ([*CLI_MODULE, "demo", "--help"], "usage: skillbot demo "),
        ([*MODULE, "--help"], "usage: skillbot run "),
        ([*CLI_MODULE, "--help"], "usage: skillbot "),
        ([*CLI_MODULE, "status", "--help"], "usage: skillbot status "),
    ],
    ids=["script demo", "bot demo", "bot.cli demo", "bot", "bot.cli", "bot.cli status"],
)
def test_help_names_the_skillbot_command_however_it_is_started(tmp_path, argv, usage):
    result = started(argv, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(usage), result.stdout.splitlines()[0]


@pytest.mark.parametrize("args", [["run", "sideways"], ["migrate", "--force"], []])
def test_usage_errors_exit_2(tmp_path, args):
    result = skillbot(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: skillbot")


def test_demo_without_the_demo_module_exits_2_saying_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "bot.demo", None)  # import of bot.demo fails
    assert cli.main(["demo"]) == 2
    assert "no demo" in capsys.readouterr().err


def test_demo_hands_every_argument_to_the_demo(monkeypatch):
    received: list[list[str]] = []
    demo = types.ModuleType("bot.demo")
    demo.main = lambda argv: received.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.demo", demo)
    assert cli.main(["demo", "--help", "--port", "8080"]) == 0
    assert received == [["--help", "--port", "8080"]]
