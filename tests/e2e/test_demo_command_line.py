"""The demo names, at start, what a shell needs for the ``skillbot`` command to work on
it: pasted lines and nothing else, as a newcomer's second terminal has them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.support.cli import skillbot
from tests.support.demo import running_demo

EXPORT = re.compile(r"^\s*export (?P<name>[A-Z_][A-Z0-9_]*)=(?P<value>.*)$")


def pasted(lines: list[str]) -> dict[str, str]:
    """The variables the ``export NAME=VALUE`` lines set, as a POSIX shell reads them."""
    found = (EXPORT.match(line) for line in lines)
    return {m["name"]: shlex.split(m["value"])[0] for m in found if m}


def test_the_lines_the_demo_prints_point_the_command_line_at_it(tmp_path: Path) -> None:
    shell = tmp_path / "shell"  # another terminal: no .env, nothing of the demo's folder
    shell.mkdir()
    with running_demo(tmp_path / "data") as (_, demo):
        demo.wait_for_log("then run ", timeout=10)
        env = pasted(demo.lines)

        status = skillbot("status", env=env, cwd=shell)
        plan = skillbot("hotfix", "--reason", "from a shell", env=env, cwd=shell)

    assert {"SKILLBOT_CONFIG", "DATABASE_URL", "AWS_ENDPOINT_URL", "SLACK_API_URL"} <= set(env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.startswith("trivia — trivia-skill\n"), status.stdout
    assert "  PROD1   live       v1  " in status.stdout
    assert "  PROD2   candidate  v2  " in status.stdout
    # the lines also say who acts: the demo's operator may plan a hotfix
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Plan: hotfix trivia: PROD1 v1 → a new version from $LATEST" in plan.stdout
    assert "asked by      U0OLIVIA" in plan.stdout
