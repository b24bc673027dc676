"""The ``skillbot`` command line as a pipeline runs it: the installed entry point in a
subprocess, with an environment of the test's choosing (nothing of the developer's)::

    env = cli_env(fake, moto_endpoint, tmp_path, SKILLBOT_ACTOR=OPERATOR)
    result = skillbot("hotfix", "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.devkit.fake_slack import FakeSlack
from tests.support.process import Child, bot_env
from tests.support.skills import skills_config, write_skills_file

SCRIPT = Path(sys.executable).with_name("skillbot")
#: a GitHub Actions run of the repository acme/trivia
GITHUB_RUN = {
    "GITHUB_ACTOR": "octocat",
    "GITHUB_REPOSITORY": "acme/trivia",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_SERVER_URL": "https://github.com",
}
PIPELINE = "github:acme/trivia"
RUN_URL = "https://github.com/acme/trivia/actions/runs/4242"


def cli_env(fake: FakeSlack, aws_endpoint: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The command line's environment: the bot's (no signing secret: no HTTP), its
    database and skills file in ``tmp_path``, the fake Slack, moto_server."""
    config = tmp_path / "skillbot.toml"
    env = bot_env(tmp_path, fake.api_url, aws_endpoint, config=config, signing_secret=None)
    env.update(extra)
    return env


def write_skills(tmp_path: Path, **overrides: Any) -> Path:
    """The tests' skills file (trivia; operators Alice and Bob) at ``tmp_path``."""
    return write_skills_file(tmp_path / "skillbot.toml", skills_config(**overrides))


def skillbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``skillbot ARGS`` to its end."""
    assert SCRIPT.exists(), f"{SCRIPT} is missing: install the project (pip install -e .)"
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def skillbot_into_closed_pipe(
    *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``skillbot ARGS`` to its end with stdout a pipe nobody reads any more, as in
    ``skillbot doctor | head -1`` once ``head`` has exited: every write to stdout fails."""
    assert SCRIPT.exists(), f"{SCRIPT} is missing: install the project (pip install -e .)"
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [str(SCRIPT), *args],
            cwd=cwd,
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)


def start_skillbot(*args: str, env: dict[str, str], cwd: Path) -> Child:
    """Start ``skillbot ARGS`` (stdout and stderr together, read line by line)."""
    return Child([str(SCRIPT), *args], env, cwd=cwd, name="skillbot").start()
