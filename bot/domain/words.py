"""What the bot says, as data: its own text, commands to run, people and text someone
typed, literals, links, buttons and channels, so that each face renders them in its own
words — ``/skill doctor trivia`` and ``<@U0CAROL>`` in Slack, ``skillbot doctor trivia``
and ``U0CAROL`` in a terminal::

    >>> said = words("Run ", Run("doctor", "trivia"), " or ask ", Person("U0CAROL"), ".")
    >>> plain(said)
    'Run `doctor trivia` or ask U0CAROL.'
    >>> render(said, command=lambda run: f"`/skill {run.line}`", person=lambda p: f"<@{p}>")
    'Run `/skill doctor trivia` or ask <@U0CAROL>.'

A refusal's message and hint are words (:class:`bot.domain.errors.SkillbotError`); the
services never name a face's command or markup: the bot's own text (``str``) carries no
markup either: a literal is :class:`Code`, a link :class:`Link`, a button's label
:class:`Button`, a channel :class:`Channel`, a line's emoji :class:`Icon`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, init=False)
class Run:
    """A subcommand to suggest, with its arguments: ``Run("hotfix", "trivia", "--canary 10%")``.

    >>> Run("prune", "trivia", "--keep 3").line
    'prune trivia --keep 3'
    """

    name: str
    args: tuple[str, ...]

    def __init__(self, name: str, *args: str | None) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", tuple(a for a in args if a))

    @property
    def line(self) -> str:
        return " ".join((self.name, *self.args))


@dataclass(frozen=True)
class Person:
    """Someone to name: a Slack user id or a pipeline identity (``github:org/repo``)."""

    id: str


@dataclass(frozen=True)
class Typed:
    """Text someone typed or another system sent: a face shows it as text, never markup."""

    text: str


@dataclass(frozen=True)
class Code:
    """A literal to type or look for: a key of the skills file, an option, an ARN, what
    someone typed when it is quoted back (``--canary 5000%``)."""

    text: str


@dataclass(frozen=True)
class Link:
    """An address with the words that name it."""

    url: str
    label: str


@dataclass(frozen=True)
class Button:
    """A button of a Slack message, by its label (*Confirm*, *Abort*)."""

    label: str


@dataclass(frozen=True)
class Icon:
    """The emoji a line opens with in Slack (``warning``); text elsewhere needs none."""

    name: str


@dataclass(frozen=True)
class Channel:
    """A Slack channel, by its id."""

    id: str


Part = str | Run | Person | Typed | Code | Link | Button | Icon | Channel
Words = tuple[Part, ...]
_PARTS = (str, Run, Person, Typed, Code, Link, Button, Icon, Channel)


def words(*parts: Part | Iterable[Part] | None) -> Words:
    """Parts in order; ``None`` and empty strings are left out, nested words flattened.

    >>> words("a", None, "", (Run("help"),))
    ('a', Run(name='help', args=()))
    """
    out: list[Part] = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, _PARTS):
            out.append(part)
        else:
            out.extend(p for p in part if p is not None and p != "")
    return tuple(out)


def as_words(value: str | Words | None) -> Words:
    """Plain text or words, as words."""
    if value is None or value == "":
        return ()
    return (value,) if isinstance(value, str) else value


def render(
    said: Words,
    *,
    command: Callable[[Run], str],
    person: Callable[[str], str],
    typed: Callable[[str], str] = str,
    code: Callable[[str], str] = lambda text: f"`{text}`",
    link: Callable[[Link], str] = lambda link: f"{link.label} ({link.url})",
    button: Callable[[str], str] = lambda label: f"*{label}*",
    icon: Callable[[str], str] = lambda name: "",
    channel: Callable[[str], str] = lambda channel: f"#{channel}",
) -> str:
    """Words as one face says them: each part through that face's own renderer (by
    default, what :func:`plain` shows).

    >>> render(words(Icon("warning"), "See ", Link("https://a.example", "the page"), "."),
    ...        command=str, person=str)
    'See the page (https://a.example).'
    """
    out = []
    for part in said:
        if isinstance(part, Run):
            out.append(command(part))
        elif isinstance(part, Person):
            out.append(person(part.id))
        elif isinstance(part, Typed):
            out.append(typed(part.text))
        elif isinstance(part, Code):
            out.append(code(part.text))
        elif isinstance(part, Link):
            out.append(link(part))
        elif isinstance(part, Button):
            out.append(button(part.label))
        elif isinstance(part, Icon):
            out.append(icon(part.name))
        elif isinstance(part, Channel):
            out.append(channel(part.id))
        else:
            out.append(part)
    return "".join(out)


def plain(said: Words) -> str:
    """Words for a log line or the audit log: no face's command, no mention, no emoji."""
    return render(said, command=lambda run: f"`{run.line}`", person=str)
