"""Skills files for a bot started against the local stand-ins, in tests and benchmarks:
a config mapping (what ``bot.config.parse_skills`` reads) with trivia on ``CHANNEL``
unless other skills are named and the test users as operators and approvers, and the
TOML file ``SKILLBOT_CONFIG`` names::

    config = skills_toml(tmp_path / "skillbot.toml", {"trivia": "C0TRIVIA"}, "2s")
    write_skills_file(tmp / "skillbot.toml", skills_config(canary_period=5))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.users import APPROVER, OPERATOR, SECOND_OPERATOR

CHANNEL = "C0TRIVIA"
ANNOUNCE_CHANNEL = "C0ANNOUNCE"


def alexa_skill_id(number: int) -> str:
    """The Alexa skill id of the ``number``-th skill (from 1) of :func:`skills_config`."""
    return f"amzn1.ask.skill.00000000-0000-0000-0000-{number:012d}"


def skills_config(
    skills: Mapping[str, str] | None = None,
    schedule: str = "24h",
    *,
    skill_keys: Mapping[str, Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A skills file (as parsed TOML) with one skill per name → channel (trivia on
    ``CHANNEL`` by default), each on its own function ``NAME-skill`` with PROD1 live and
    PROD2 to ship to, reminding every ``schedule``; ``skill_keys`` adds keys to skills'
    entries (e.g. ``{"trivia": {"endpoints": {...}}}``), ``overrides`` the top-level keys.

    >>> config = skills_config()
    >>> config["skills"]["trivia"]["function"], config["skills"]["trivia"]["alexa_skill_id"]
    ('trivia-skill', 'amzn1.ask.skill.00000000-0000-0000-0000-000000000001')
    """
    config: dict[str, Any] = {
        "announce_channel": ANNOUNCE_CHANNEL,
        "operators": [OPERATOR, SECOND_OPERATOR],
        "approvers": [APPROVER],
        "promote_reaction": "white_check_mark",
        "reminder_schedule": schedule,
        "timezone": "Europe/Berlin",
        "skills": {
            name: {
                "function": f"{name}-skill",
                "alexa_skill_id": alexa_skill_id(number),
                "aliases": ["PROD1", "PROD2"],
                "live_alias": "PROD1",
                "channel": channel,
            }
            for number, (name, channel) in enumerate((skills or {"trivia": CHANNEL}).items(), 1)
        },
    }
    config.update(overrides)
    for name, keys in (skill_keys or {}).items():
        config["skills"][name].update(keys)
    return config


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, boolean, list or inline table of them.

    >>> toml_value(["PROD1", 2, True]), toml_value({"PROD1": "https://a/p1"})
    ('["PROD1", 2, true]', '{ "PROD1" = "https://a/p1" }')
    """
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_skills_file(path: Path, config: Mapping[str, Any]) -> Path:
    """Write ``config`` (top-level keys and a ``skills`` table of tables) as TOML; returns
    ``path``."""
    lines = [f"{key} = {toml_value(value)}" for key, value in config.items() if key != "skills"]
    for name, entry in config["skills"].items():
        lines.append(f"\n[skills.{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in entry.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def skills_toml(path: Path, skills: Mapping[str, str] | None = None, schedule: str = "24h") -> Path:
    """The skills file of :func:`skills_config`, written as TOML to ``path``."""
    return write_skills_file(path, skills_config(skills, schedule))
