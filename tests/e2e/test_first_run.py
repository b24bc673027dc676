"""The first run of the real process, as a fresh clone meets it: settings from ``.env``,
every placeholder and what the AWS chain lacks named at once, Slack and AWS checked at
start with one-line refusals and the exit codes of the command line (a service that does
not answer is tried again, saying so), one line saying where the bot talks to, and the
configured functions checked after ready."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support.e2e import Bot
from tests.support.process import ROOT, Child, bot_env, isolated_env, start_bot
from tests.support.skills import CHANNEL, skills_config, skills_toml, write_skills_file
from tests.support.slack_world import SECRET, TOKEN

FN = "trivia-skill"


def run_to_exit(env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    """``python -m bot`` with exactly ``env``, to its end: exit code and everything it wrote."""
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr


def without_aws(**settings: str) -> dict[str, str]:
    """The isolated environment with no AWS_* variable at all."""
    env = {k: v for k, v in isolated_env().items() if not k.startswith("AWS_")}
    env.update(settings)
    return env


def test_a_fresh_clone_hears_every_placeholder_at_once(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    shutil.copy(ROOT / "skillbot.example.toml", tmp_path / "skillbot.toml")
    # no AWS variable, no ~/.aws, and no instance role to find
    env = without_aws(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")
    code, output = run_to_exit(env, tmp_path)
    assert code == 2, output
    assert output.count("skillbot cannot start") == 1, output
    for needle in (
        "SLACK_BOT_TOKEN",
        "xoxb-...",
        "SLACK_SIGNING_SECRET",
        "skills.trivia.alexa_skill_id",
        "U0ALICE",
        "U0CAROL",
        "C0TRIVIA",
        ".env",
        "skillbot.toml",
    ):
        assert needle in output, f"{needle!r} not named:\n{output}"
    listed = [line for line in output.splitlines() if line.startswith("  - ")]
    assert any("No AWS region" in line and "AWS_REGION" in line for line in listed), output
    assert any("No AWS credentials" in line and "AWS_PROFILE" in line for line in listed)
    assert "Traceback" not in output


def test_aws_settings_in_dotenv_reach_boto3(tmp_path, moto_endpoint):
    create_skill_function(FN, moto_endpoint)
    (tmp_path / ".env").write_text(
        "\n".join(
            [
                "AWS_ACCESS_KEY_ID=testing",
                "AWS_SECRET_ACCESS_KEY=testing",
                "AWS_REGION=us-east-1",
                f"AWS_ENDPOINT_URL={moto_endpoint}",
                f"AWS_CONFIG_FILE={os.devnull}",
                f"AWS_SHARED_CREDENTIALS_FILE={os.devnull}",
                "AWS_EC2_METADATA_DISABLED=true",
            ]
        )
        + "\n"
    )
    port = free_port()
    with FakeSlack() as fake:
        env = {
            k: v
            for k, v in bot_env(tmp_path, fake.api_url, moto_endpoint, port=port).items()
            if not k.startswith("AWS_")
        }
        env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
        with Child([sys.executable, "-m", "bot"], env, cwd=tmp_path, name="bot") as child:
            child.wait_for_log("ready (HTTP")
            bot = Bot(f"http://127.0.0.1:{port}", fake, child)  # type: ignore[arg-type]
            status = bot.command("status")
    assert "PROD1 (live) v1" in status["text"], status["text"]


def test_a_token_slack_refuses_stops_with_exit_2(tmp_path, moto_endpoint):
    with FakeSlack() as fake:
        fake.fail_next("auth.test", status=200, error="invalid_auth")
        code, output = run_to_exit(
            bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port()),
            tmp_path,
        )
    assert code == 2, output
    assert "skillbot cannot start: " in output and "SLACK_BOT_TOKEN" in output, output
    assert "invalid_auth" in output and "Traceback" not in output


def test_two_skills_on_one_function_stop_with_exit_2_naming_both(tmp_path, moto_endpoint):
    config = skills_config({"trivia": CHANNEL, "quiz": "C0QUIZ"})
    config["skills"]["quiz"]["function"] = config["skills"]["trivia"]["function"]
    path = write_skills_file(tmp_path / "skillbot.toml", config)
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port(), config=path)
        code, output = run_to_exit(env, tmp_path)
    assert code == 2, output
    assert "skills.trivia and skills.quiz both name the Lambda function 'trivia-skill'" in output
    assert "Traceback" not in output, output


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SLACK_API_URL", "not a url", "SLACK_API_URL: 'not a url' is not an http(s):// URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: 'LOUD' is not a log level"),
        ("AWS_REGION", "bad region", "AWS_REGION: 'bad region' is not an AWS region"),
        ("SKILLBOT_CONFIG", ".", "the skills file cannot be read: Is a directory"),
    ],
)
def test_a_bad_setting_stops_with_exit_2_and_one_message(
    tmp_path, moto_endpoint, name, value, said
):
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port())
        env[name] = value
        code, output = run_to_exit(env, tmp_path)
    assert code == 2, output
    assert "skillbot cannot start: " in output and said in output, output
    assert "Traceback" not in output, output


def first_retry(env: dict[str, str], cwd: Path) -> tuple[str, str]:
    """``python -m bot`` until it logs its first retry (the budget's end is
    tests/integration/test_startup_checks.py's): that line and everything written."""
    argv = [sys.executable, "-m", "bot"]
    with Child(argv, {**env, "PYTHONPATH": str(ROOT)}, cwd=cwd, name="bot") as child:
        line = child.wait_for_log("Trying again in")
        return line, child.log()


def test_an_unreachable_slack_is_tried_again_saying_so(tmp_path, moto_endpoint):
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port())
    env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    line, output = first_retry(env, tmp_path)
    assert env["SLACK_API_URL"] in line and "did not answer" in line, line
    assert "try 1 failed" in line and "gives up after 30 s" in line, line
    assert "Traceback" not in output


def test_missing_aws_credentials_stop_with_exit_2(tmp_path, moto_endpoint):
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port())
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        code, output = run_to_exit(env, tmp_path)
    assert code == 2, output
    assert "skillbot cannot start: No AWS credentials" in output, output
    assert "AWS_PROFILE" in output and "Traceback" not in output


class RefusingSts(BaseHTTPRequestHandler):
    """Answers every AWS call as STS answers keys it does not know."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            b"<Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            b"<Message>The security token included in the request is invalid.</Message>"
            b"</Error><RequestId>1</RequestId></ErrorResponse>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingSts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_aws_refuses_stop_with_exit_2(tmp_path, refusing_aws):
    with FakeSlack() as fake:
        code, output = run_to_exit(
            bot_env(tmp_path, fake.api_url, refusing_aws, port=free_port()),
            tmp_path,
        )
    assert code == 2, output
    assert "skillbot cannot start: " in output and "InvalidClientTokenId" in output, output
    assert "aws sso login" in output and "AWS Health" not in output
    assert "Traceback" not in output


def test_an_unreachable_aws_is_tried_again_saying_so(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    with FakeSlack() as fake:
        line, output = first_retry(
            bot_env(tmp_path, fake.api_url, endpoint, port=free_port()), tmp_path
        )
    assert endpoint in line and "did not answer" in line and "try 1 failed" in line, line
    assert "Traceback" not in output


@pytest.mark.parametrize("unreachable", ["slack", "aws"])
def test_ctrl_c_while_the_start_tries_again_ends_with_one_line_and_130(
    tmp_path, moto_endpoint, unreachable
):
    nowhere = f"http://127.0.0.1:{free_port()}"
    with FakeSlack() as fake:
        aws = nowhere if unreachable == "aws" else moto_endpoint
        env = bot_env(tmp_path, fake.api_url, aws, port=free_port())
        if unreachable == "slack":
            env["SLACK_API_URL"] = f"{nowhere}/api/"
        argv = [sys.executable, "-m", "bot"]
        with Child(argv, {**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, name="bot") as child:
            child.wait_for_log("Trying again in")
            code = child.kill(signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    output = child.log()
    assert code == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert child.lines[-1] == (
        "skillbot: the start was interrupted (Ctrl-C) before the bot was ready."
    ), output


def test_the_start_says_where_it_talks_and_checks_the_functions(tmp_path, moto_endpoint):
    create_skill_function(FN, moto_endpoint)
    port = free_port()
    with FakeSlack() as fake:
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=port)
        env["SKILLBOT_CONFIG"] = str(
            skills_toml(tmp_path / "skillbot.toml", {"trivia": CHANNEL, "quiz": "C0QUIZ"})
        )
        bot = start_bot(env, cwd=tmp_path)
        try:
            line = bot.wait_for_log("talking to")
            for needle in (
                f"Slack {fake.api_url}",
                "AWS region us-east-1",
                f"endpoint {moto_endpoint}",
                "credentials from env",
                "account 123456789012",
                f"database sqlite:///{tmp_path / 'skillbot.db'}",
                f"HTTP on port {port}",
            ):
                assert needle in line, f"{needle!r} not in {line!r}"
            missing = bot.wait_for_log("quiz-skill")
            assert "not found" in missing and "us-east-1" in missing, missing
            assert "123456789012" in missing
            doctor = Bot(f"http://127.0.0.1:{port}", fake, bot).command("doctor quiz")
            assert "quiz-skill" in doctor["text"] and "123456789012" in doctor["text"], doctor
            assert "us-east-1" in doctor["text"]
            log = bot.log()
        finally:
            bot.stop()
    assert SECRET not in log and TOKEN not in log
    assert "INFO alembic" not in log and "INFO apscheduler" not in log, log
