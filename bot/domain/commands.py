"""Parsing the text of ``/skill`` (SPEC §4), tolerant of what Slack clients do to it.

>>> parse("Hotfix  trivia v9 — “crash on launch”", ["trivia", "quiz"])
Command(name='hotfix', skill='trivia', version='9', reason='crash on launch')
>>> parse("status", ["trivia"])
Command(name='status', skill='trivia', version=None, reason='')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.errors import NotFound, Refused

SUBCOMMANDS = (
    "help",
    "status",
    "hotfix",
    "certify",
    "promote",
    "rollback",
    "cancel",
    "history",
    "doctor",
)
TAKES_VERSION = ("hotfix", "certify", "rollback")
TAKES_REASON = ("hotfix", "certify", "rollback", "cancel", "promote")

# Slack clients turn "--" into an em or en dash, and quotes into curly quotes
_DASHES = re.compile(r"(?:^|\s)(?:--|—|–|−−)(?:\s|$)")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_VERSION = re.compile(r"^[vV]?(\d{1,10})$")
#: how much of what someone typed is echoed back in an answer
SHOWN_MAX = 200


def shown(text: str, limit: int = SHOWN_MAX) -> str:
    """Text someone typed, as an answer may echo it: at most ``limit`` characters.

    >>> shown("x" * 300)[-3:], len(shown("x" * 300))
    ('xx…', 200)
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Command:
    name: str
    skill: str | None
    version: str | None
    reason: str


def parse(text: str, skills: Sequence[str]) -> Command:
    """Split ``/skill`` text into subcommand, skill, version and reason; raise on nonsense."""
    text = (text or "").translate(_QUOTES).replace("\u00a0", " ").strip()
    head, reason = _split_reason(text)
    words = head.split()
    if not words:
        return Command("help", None, None, "")
    name = words[0].lower()
    if name not in SUBCOMMANDS:
        raise NotFound(
            f"`{shown(words[0])}` is not a /skill command.",
            hint="Try one of: " + ", ".join(SUBCOMMANDS) + " (`/skill help` explains each).",
        )
    skill: str | None = None
    version: str | None = None
    lowered = {s.lower(): s for s in skills}
    for word in words[1:]:
        if word.lower() in lowered and skill is None:
            skill = lowered[word.lower()]
        elif _VERSION.match(word) and version is None and name in TAKES_VERSION:
            version = _VERSION.match(word).group(1)  # type: ignore[union-attr]
        elif word.upper() == "$LATEST" and name in TAKES_VERSION:
            raise Refused(
                "The live and candidate aliases never point at $LATEST.",
                hint=f"Leave VERSION out to publish $LATEST as a new version: `/skill {name}`.",
            )
        elif _VERSION.match(word) or (name not in TAKES_VERSION and skill is not None):
            raise Refused(
                f"`{shown(word)}` is not expected here.",
                hint=_usage(name),
            )
        else:
            raise NotFound(
                f"There is no skill called `{shown(word)}`.",
                hint="Known skills: " + ", ".join(sorted(skills)) + f". Usage: {_usage(name)}",
            )
    if reason and name not in TAKES_REASON:
        raise Refused(f"`{name}` takes no reason.", hint=_usage(name))
    if skill is None and name != "help":
        skill = _only(skills)
        if skill is None:
            raise NotFound(
                f"Which skill? Several are configured: {', '.join(sorted(skills))}.",
                hint=_usage(name),
            )
    return Command(name, skill, version, reason)


def _split_reason(text: str) -> tuple[str, str]:
    match = _DASHES.search(text)
    if not match:
        return text, ""
    reason = text[match.end() :].strip()
    if len(reason) >= 2 and reason[0] == reason[-1] and reason[0] in "\"'":
        reason = reason[1:-1].strip()
    return text[: match.start()].strip(), reason


def _only(skills: Sequence[str]) -> str | None:
    return skills[0] if len(skills) == 1 else None


def _usage(name: str) -> str:
    parts = ["/skill", name, "[SKILL]"]
    if name in TAKES_VERSION:
        parts.append("[VERSION]")
    if name in TAKES_REASON:
        parts.append("[-- REASON]")
    return "`" + " ".join(parts) + "`"
