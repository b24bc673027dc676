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
from bot.domain.model import escape

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


@dataclass(frozen=True)
class Command:
    name: str
    skill: str | None
    version: str | None
    reason: str


def parse(text: str, skills: Sequence[str], *, prog: str = "/skill") -> Command:
    """Split ``/skill`` text into subcommand, skill, version and reason; raise on nonsense.

    ``prog`` names the face in the hints: the command line passes ``"skillbot"``, whose
    reason is an option rather than text after ``--``."""
    text = (text or "").translate(_QUOTES).replace("\u00a0", " ").strip()
    head, reason = _split_reason(text)
    words = head.split()
    if not words:
        return Command("help", None, None, "")
    name = words[0].lower()
    if name not in SUBCOMMANDS:
        raise NotFound(
            f"`{_echo(words[0])}` is not a {prog} command.",
            hint="Try one of: " + ", ".join(SUBCOMMANDS) + f" (`{prog} help` explains each).",
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
                hint=f"Leave VERSION out to publish $LATEST as a new version: `{prog} {name}`.",
            )
        elif _VERSION.match(word) or (name not in TAKES_VERSION and skill is not None):
            raise Refused(
                f"`{_echo(word)}` is not expected here.",
                hint=_usage(name, prog),
            )
        else:
            raise NotFound(
                f"There is no skill called `{_echo(word)}`.",
                hint="Known skills: "
                + ", ".join(sorted(skills))
                + f". Usage: {_usage(name, prog)}",
            )
    if reason and name not in TAKES_REASON:
        raise Refused(f"`{name}` takes no reason.", hint=_usage(name, prog))
    if skill is None and name != "help":
        skill = _only(skills)
        if skill is None:
            raise NotFound(
                f"Which skill? Several are configured: {', '.join(sorted(skills))}.",
                hint=_usage(name, prog),
            )
    return Command(name, skill, version, reason)


def _echo(word: str) -> str:
    """A word the person typed, shown back safely (escaped, and cut when absurdly long)."""
    return escape(word if len(word) <= 60 else word[:59] + "…")


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


def _usage(name: str, prog: str = "/skill") -> str:
    parts = [prog, name, "[SKILL]"]
    if name in TAKES_VERSION:
        parts.append("[VERSION]")
    if name in TAKES_REASON:
        parts.append("[-- REASON]" if prog == "/skill" else "[--reason REASON]")
    return "`" + " ".join(parts) + "`"
