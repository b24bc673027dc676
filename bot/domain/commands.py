"""Parsing the text of ``/skill`` (SPEC §4), tolerant of what Slack clients do to it.

>>> parse("Hotfix  trivia v9 — “crash on launch”", ["trivia", "quiz"])
Command(name='hotfix', skill='trivia', version='9', reason='crash on launch')
>>> parse("status", ["trivia"])
Command(name='status', skill='trivia', version=None, reason='')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.canary import DEFAULT_SECONDS, SECONDS_RANGE, WEIGHT_RANGE
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
    "prune",
)
TAKES_VERSION = ("hotfix", "certify", "rollback")
#: options (``--name VALUE``) each subcommand accepts
OPTIONS = {"hotfix": ("canary", "for"), "prune": ("keep",)}
TAKES_REASON = ("hotfix", "certify", "rollback", "cancel", "promote")

# Slack clients turn "--" into an em or en dash, and quotes into curly quotes
_DASHES = re.compile(r"(?:^|\s)(?:--|—|–|−−)(?:\s|$)")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_VERSION = re.compile(r"^[vV]?(\d{1,10})$")
# "--canary", also as Slack clients send it: "—canary", "–canary"
_OPTION = re.compile(r"^(?:--|—|–|−−)([a-z]+)(?:=(.*))?$", re.IGNORECASE)
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%?$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", re.IGNORECASE)

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
    #: hotfix --canary P% [--for D]: the new version's share of traffic (0..1) and seconds
    canary_weight: float | None = field(default=None, repr=False)
    canary_seconds: int | None = field(default=None, repr=False)
    #: prune --keep N
    keep: int | None = field(default=None, repr=False)


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
    words, options = _options(name, words)
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
    return Command(name, skill, version, reason, **options)  # type: ignore[arg-type]


def _options(name: str, words: list[str]) -> tuple[list[str], dict[str, float | int]]:
    """Take ``--canary 10%``, ``--for 10m`` and ``--keep N`` out of ``words``."""
    rest: list[str] = []
    found: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        match = _OPTION.match(word) if index else None
        index += 1
        if not match:
            rest.append(word)
            continue
        option = match.group(1).lower()
        if option not in OPTIONS.get(name, ()):
            raise Refused(f"`{word}` is not an option of `{name}`.", hint=_usage(name))
        value = match.group(2)
        if value is None and index < len(words) and not _OPTION.match(words[index]):
            value = words[index]
            index += 1
        if not value:
            raise Refused(f"`{word}` needs a value.", hint=_usage(name))
        found[option] = value
    if "for" in found and "canary" not in found:
        raise Refused("`--for` sets how long a canary runs.", hint=_usage(name))
    options: dict[str, float | int] = {}
    if "canary" in found:
        options["canary_weight"] = canary_weight(found["canary"])
        options["canary_seconds"] = canary_seconds(found.get("for"))
    if "keep" in found:
        if not found["keep"].isdigit() or not 1 <= int(found["keep"]) <= 1000:
            raise Refused(
                f"`--keep {found['keep']}` is not a number of versions.",
                hint="Give how many of the most recent versions to keep, e.g. `--keep 10`.",
            )
        options["keep"] = int(found["keep"])
    return rest, options


def canary_weight(text: str) -> float:
    """``"10%"`` -> ``0.1``; a share between 1 and 50 percent."""
    match = _PERCENT.match(text.strip())
    low, high = WEIGHT_RANGE
    if not match or not low <= float(match.group(1)) <= high:
        raise Refused(
            f"`--canary {text}` is not a share of traffic.",
            hint=f"Give a percentage from {low}% to {high}%, e.g. `--canary 10%`.",
        )
    return round(float(match.group(1)) / 100, 4)


def canary_seconds(text: str | None) -> int:
    """``"10m"`` -> ``600``; ``None`` -> the default window."""
    if text is None:
        return DEFAULT_SECONDS
    match = _DURATION.match(text.strip())
    seconds = 0
    if match and any(match.groups()):
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    low, high = SECONDS_RANGE
    if not low <= seconds <= high:
        raise Refused(
            f"`--for {text}` is not a canary window.",
            hint=f"Give a duration from {low}s to {high // 3600}h, e.g. `--for 10m` or "
            "`--for 1h30m`.",
        )
    return seconds


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
    if name == "hotfix":
        parts.append("[--canary 10% [--for 10m]]")
    if name == "prune":
        parts.append("[--keep N]")
    if name in TAKES_REASON:
        parts.append("[-- REASON]" if prog == "/skill" else "[--reason REASON]")
    return "`" + " ".join(parts) + "`"
