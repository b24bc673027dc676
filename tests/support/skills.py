"""Skills configs of the tests: trivia on ``CHANNEL`` unless other skills are named,
with the test users as operators and approvers::

    config = skills_toml(tmp_path / "skillbot.toml", {"trivia": "C0TRIVIA"}, "2s")
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.devkit import skills_file
from tests.support.users import APPROVER, OPERATOR, SECOND_OPERATOR

CHANNEL = "C0TRIVIA"


def skills_config(
    skills: Mapping[str, str] | None = None,
    schedule: str = "24h",
    *,
    skill_keys: Mapping[str, Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A skills file (as parsed TOML) with one skill per name → channel (trivia on
    ``CHANNEL`` by default), reminding every ``schedule``; ``skill_keys`` adds keys to
    skills' entries (e.g. ``{"trivia": {"endpoints": {...}}}``)."""
    config = skills_file.skills_config(
        skills or {"trivia": CHANNEL},
        operators=[OPERATOR, SECOND_OPERATOR],
        approvers=[APPROVER],
        reminder_schedule=schedule,
        **overrides,
    )
    for name, keys in (skill_keys or {}).items():
        config["skills"][name].update(keys)
    return config


def skills_toml(path: Path, skills: Mapping[str, str] | None = None, schedule: str = "24h") -> Path:
    """The skills file of :func:`skills_config`, written as TOML to ``path``."""
    return skills_file.write_skills_file(path, skills_config(skills, schedule))
