"""Skills files for a bot started against the local stand-ins: a config mapping (what
``bot.config.parse_skills`` reads) and the TOML file ``SKILLBOT_CONFIG`` names::

    config = skills_config({"trivia": "C0TRIVIA"}, operators=["U0ALICE"], approvers=["U0CAROL"])
    write_skills_file(tmp / "skillbot.toml", config)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ANNOUNCE_CHANNEL = "C0ANNOUNCE"


def alexa_skill_id(number: int) -> str:
    """The Alexa skill id of the ``number``-th skill (from 1) of :func:`skills_config`."""
    return f"amzn1.ask.skill.00000000-0000-0000-0000-{number:012d}"


def skills_config(
    channels: Mapping[str, str],
    *,
    operators: Iterable[str],
    approvers: Iterable[str],
    **settings: Any,
) -> dict[str, Any]:
    """A skills file (as parsed TOML): one skill per name → channel, each on its own
    function ``NAME-skill`` with PROD1 live and PROD2 to ship to; ``settings`` override
    the top-level keys.

    >>> config = skills_config({"trivia": "C0TRIVIA"}, operators=["U0A"], approvers=["U0B"])
    >>> config["skills"]["trivia"]["function"], config["skills"]["trivia"]["alexa_skill_id"]
    ('trivia-skill', 'amzn1.ask.skill.00000000-0000-0000-0000-000000000001')
    """
    config: dict[str, Any] = {
        "announce_channel": ANNOUNCE_CHANNEL,
        "operators": list(operators),
        "approvers": list(approvers),
        "promote_reaction": "white_check_mark",
        "reminder_schedule": "24h",
        "timezone": "Europe/Berlin",
        "skills": {
            name: {
                "function": f"{name}-skill",
                "alexa_skill_id": alexa_skill_id(number),
                "aliases": ["PROD1", "PROD2"],
                "live_alias": "PROD1",
                "channel": channel,
            }
            for number, (name, channel) in enumerate(channels.items(), start=1)
        },
    }
    config.update(settings)
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
