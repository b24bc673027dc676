"""What a subcommand is (:class:`Subcommand`, declared once in :mod:`bot.commands`), and
parsing ``/skill`` text against those declarations (SPEC §4), tolerant of what Slack
clients do to it.

>>> hotfix = Subcommand("hotfix", "move the live alias", version=True, reason="REASON")
>>> parse("Hotfix  trivia v9 — “crash on launch”", ["trivia", "quiz"], {"hotfix": hotfix})
Command(name='hotfix', skill='trivia', version='9', reason='crash on launch')
>>> usage(hotfix)
'/skill hotfix [SKILL] [VERSION] [-- REASON]'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.canary import DEFAULT_SECONDS, SECONDS_RANGE, WEIGHT_RANGE
from bot.domain.errors import NotFound, Refused
from bot.domain.words import Code, Words, as_words, plain, words

SLACK, CLI = "slack", "cli"

# Slack clients turn "--" into an em or en dash, and quotes into curly quotes
_DASHES = re.compile(r"(?:^|\s)(?:--|—|–|−−)(?:\s|$)")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_VERSION = re.compile(r"^[vV]?(\d{1,10})$")
# "--canary", also as Slack clients send it: "—canary", "–canary"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_OPTION = re.compile(r"^(?:--|—|–|−−)([a-z]+)(?:=(.*))?$", re.IGNORECASE)
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%?$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", re.IGNORECASE)

#: how much of what someone typed is echoed back in an answer
SHOWN_MAX = 200


@dataclass(frozen=True)
class Option:
    """``--NAME VALUE`` (or a ``flag``); ``read`` turns the text into its value or refuses
    it (``None`` when the option it ``requires`` is given and this one is not)."""

    name: str
    metavar: str
    help: str
    read: Callable[[str | None], Any] = str
    requires: str | None = None
    flag: bool = False
    faces: tuple[str, ...] = (SLACK, CLI)
    #: the value is a moment: ``2026-12-10 09:00`` takes the next word (the time) too
    moment: bool = False


@dataclass(frozen=True)
class Subcommand:
    """One subcommand of ``/skill`` and ``skillbot``, as :mod:`bot.commands` lists them.

    ``kind`` says how it acts: ``read`` shows, ``plan`` saves a plan to confirm, ``check``
    finds problems and offers fixes, ``change`` changes at once. ``call`` is the use case:
    ``call(cases, command, actor, run_url)`` returns what the faces render."""

    name: str
    #: one line of ``/skill help`` and ``skillbot --help``
    help: str | Words
    doing: str = ""
    call: Callable[..., Any] | None = None
    kind: str = "read"
    skill: bool = True
    version: bool = False
    #: what the text after ``--`` is called in the help ("REASON", "NOTE"); "" for none
    reason: str = ""
    options: tuple[Option, ...] = ()
    who: str = "anyone"
    #: the command line's longer description
    detail: str = ""
    faces: tuple[str, ...] = (SLACK, CLI)

    def options_of(self, face: str) -> tuple[Option, ...]:
        return tuple(o for o in self.options if face in o.faces)


@dataclass(frozen=True)
class Command:
    name: str
    skill: str | None
    version: str | None
    reason: str
    #: the values of the options given, by option name (``{"keep": 3}``)
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def option(self, name: str) -> Any:
        return self.options.get(name)


def shown(text: str, limit: int = SHOWN_MAX) -> str:
    """Text someone typed, as an answer may echo it: at most ``limit`` characters.

    >>> shown("x" * 300)[-3:], len(shown("x" * 300))
    ('xx…', 200)
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse(
    text: str, skills: Sequence[str], table: Mapping[str, Subcommand], *, prog: str = "/skill"
) -> Command:
    """Split ``/skill`` text into subcommand, skill, version, options and reason; raise on
    nonsense.

    ``prog`` names the face in the hints: the command line passes ``"skillbot"``, whose
    reason is an option rather than text after ``--``."""
    text = (text or "").translate(_QUOTES).replace("\u00a0", " ").strip()
    head, reason = _split_reason(text)
    said = head.split()
    if not said:
        return Command("help", None, None, "")
    face = SLACK if prog == "/skill" else CLI
    spec = table.get(said[0].lower())
    if spec is None or face not in spec.faces:
        names = [s.name for s in table.values() if face in s.faces]
        # the command line has no help subcommand: argparse's --help lists them
        explains = f"{prog} help" if face == SLACK else f"{prog} --help"
        raise NotFound(
            words(_echo(said[0]), f" is not a {prog} command."),
            hint=words(
                "Try one of: " + ", ".join(names) + " (", Code(explains), " explains each)."
            ),
        )
    said, options = _options(spec, said, prog)
    skill, version = _skill_and_version(spec, said[1:], skills, prog)
    if reason and not spec.reason:
        raise Refused(words(Code(spec.name), " takes no reason."), hint=_usage(spec, prog))
    if skill is None and spec.skill:
        skill = skills[0] if len(skills) == 1 else None
        if skill is None:
            raise NotFound(
                f"Which skill? Several are configured: {', '.join(sorted(skills))}.",
                hint=_usage(spec, prog),
            )
    return Command(spec.name, skill, version, reason, options)


def _skill_and_version(
    spec: Subcommand, said: list[str], skills: Sequence[str], prog: str
) -> tuple[str | None, str | None]:
    skill: str | None = None
    version: str | None = None
    lowered = {s.lower(): s for s in skills}
    for word in said:
        number = _VERSION.match(word)
        if word.lower() in lowered and skill is None:
            skill = lowered[word.lower()]
        elif number and version is None and spec.version:
            version = number.group(1)
        elif word.upper() == "$LATEST" and spec.version:
            raise Refused(
                "The live and candidate aliases never point at $LATEST.",
                hint=words(
                    "Leave VERSION out to publish $LATEST as a new version: ",
                    Code(f"{prog} {spec.name}"),
                    ".",
                ),
            )
        elif number or (not spec.version and skill is not None):
            raise Refused(words(_echo(word), " is not expected here."), hint=_usage(spec, prog))
        else:
            raise NotFound(
                words("There is no skill called ", _echo(word), "."),
                hint=words(
                    "Known skills: " + ", ".join(sorted(skills)) + ". Usage: ",
                    _usage(spec, prog),
                ),
            )
    return skill, version


def _options(spec: Subcommand, said: list[str], prog: str) -> tuple[list[str], dict[str, Any]]:
    """Take ``--canary 10%``, ``--for 10m``, ``--keep N``, … out of ``said``."""
    known = {o.name: o for o in spec.options_of(SLACK if prog == "/skill" else CLI)}
    rest: list[str] = []
    found: dict[str, str | None] = {}
    index = 0
    while index < len(said):
        word = said[index]
        match = _OPTION.match(word) if index else None
        index += 1
        if not match:
            rest.append(word)
            continue
        option = known.get(match.group(1).lower())
        if option is None:
            raise Refused(
                words(_echo(word), " is not an option of ", Code(spec.name), "."),
                hint=_usage(spec, prog),
            )
        value = match.group(2)
        if option.flag:
            found[option.name] = None
            continue
        if value is None and index < len(said) and not _OPTION.match(said[index]):
            value = said[index]
            index += 1
            if (
                option.moment
                and index < len(said)
                and _DATE.match(value)
                and _TIME.match(said[index])
            ):
                value = f"{value} {said[index]}"
                index += 1
        if not value:
            raise Refused(words(_echo(word), " needs a value."), hint=_usage(spec, prog))
        found[option.name] = value
    values: dict[str, Any] = {}
    for option in known.values():
        if option.name in found:
            if option.requires is not None and option.requires not in found:
                raise Refused(
                    words(Code(f"--{option.name}"), f" {option.help}."), hint=_usage(spec, prog)
                )
            given = found[option.name]
            values[option.name] = True if option.flag else option.read(given)
        elif option.requires in found:
            values[option.name] = option.read(None)
    return rest, values


def usage(spec: Subcommand, prog: str = "/skill") -> str:
    """``/skill hotfix [SKILL] [VERSION] [--canary 10% [--for 10m]] [-- REASON]``."""
    face = SLACK if prog == "/skill" else CLI
    options = spec.options_of(face)

    def option(o: Option) -> str:
        inner = "".join(" " + option(n) for n in options if n.requires == o.name)
        return f"[--{o.name}{'' if o.flag else ' ' + o.metavar}{inner}]"

    parts = [prog, spec.name]
    parts += ["[SKILL]"] if spec.skill else []
    parts += ["[VERSION]"] if spec.version else []
    parts += [option(o) for o in options if o.requires is None]
    if spec.reason:
        parts.append("[-- REASON]" if face == SLACK else "[--reason REASON]")
    return " ".join(parts)


def _usage(spec: Subcommand, prog: str) -> Words:
    """The usage as a hint names it: a literal to type."""
    return (Code(usage(spec, prog)),)


def help_lines(table: Mapping[str, Subcommand]) -> str:
    """``/skill help``'s list: each subcommand's usage and what it does."""
    lines = []
    for spec in table.values():
        if SLACK in spec.faces:
            shown_usage = usage(spec).replace("[-- REASON]", f"[-- {spec.reason}]")
            lines.append(f"`{shown_usage}` — {plain(as_words(spec.help))}")
    return "\n".join(lines)


def canary_weight(text: str | None) -> float:
    """``"10%"`` -> ``0.1``; a share between 1 and 50 percent."""
    match = _PERCENT.match((text or "").strip())
    low, high = WEIGHT_RANGE
    if not match or not low <= float(match.group(1)) <= high:
        raise Refused(
            words(Code(f"--canary {text}"), " is not a share of traffic."),
            hint=words(
                f"Give a percentage from {low}% to {high}%, e.g. ", Code("--canary 10%"), "."
            ),
        )
    return round(float(match.group(1)) / 100, 4)


def _seconds(text: str) -> int:
    """``"1h30m"`` -> ``5400``; 0 for what is not such a duration."""
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        return 0
    hours, minutes, secs = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def canary_seconds(text: str | None) -> int:
    """``"10m"`` -> ``600``; ``None`` -> the default window."""
    if text is None:
        return DEFAULT_SECONDS
    seconds = _seconds(text)
    low, high = SECONDS_RANGE
    if not low <= seconds <= high:
        raise Refused(
            words(Code(f"--for {text}"), " is not a canary window."),
            hint=words(
                f"Give a duration from {low}s to {high // 3600}h, e.g. ",
                Code("--for 10m"),
                " or ",
                Code("--for 1h30m"),
                ".",
            ),
        )
    return seconds


#: what ``/skill report --since`` may cover: CloudWatch keeps minute figures 15 days
REPORT_RANGE = (60, 14 * 24 * 3600)


def report_seconds(text: str | None) -> int:
    """``"24h"`` -> ``86400``; ``"3d"`` -> three days; ``None`` -> 24 hours.

    >>> report_seconds("90m"), report_seconds("2d")
    (5400, 172800)
    """
    if text is None:
        return 24 * 3600
    days = re.fullmatch(r"(\d+)d", text.strip(), re.IGNORECASE)
    seconds = int(days.group(1)) * 86400 if days else _seconds(text)
    low, high = REPORT_RANGE
    if not low <= seconds <= high:
        raise Refused(
            words(Code(f"--since {text}"), " is not a time to report on."),
            hint=words("Give a duration from 1m to 14d, e.g. ", Code("--since 24h"), "."),
        )
    return seconds


def count(name: str, what: str, hint: str | Words, low: int = 1) -> Callable[[str | None], int]:
    """A reader of ``--NAME N``, a whole number from ``low`` to 1000."""

    def read(text: str | None) -> int:
        text = text or ""
        if not text.isdigit() or not low <= int(text) <= 1000:
            raise Refused(words(Code(f"--{name} {text}"), f" is not {what}."), hint=hint)
        return int(text)

    return read


def _echo(word: str) -> Code:
    """A word the person typed, quoted back as a literal (each face makes it safe), cut
    when absurdly long."""
    return Code(word if len(word) <= 60 else word[:59] + "…")


def _split_reason(text: str) -> tuple[str, str]:
    match = _DASHES.search(text)
    if not match:
        return text, ""
    reason = text[match.end() :].strip()
    if len(reason) >= 2 and reason[0] == reason[-1] and reason[0] in "\"'":
        reason = reason[1:-1].strip()
    return text[: match.start()].strip(), reason
