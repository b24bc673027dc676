"""Who may do what: operators plan and confirm changes, approvers promote, and the CD
pipelines listed in the skills file's ``pipelines`` confirm from the command line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain import actors
from bot.domain.errors import NotAuthorized
from bot.domain.words import Code, Part, Person, Words, words


def mentions(users: Iterable[str]) -> Words:
    """The people, sorted, as each face names them (``<@U1>, <@U2>`` in Slack), or a note
    that nobody is configured.

    >>> from bot.domain.words import plain
    >>> plain(mentions({"U2", "U1"})), plain(mentions(()))
    ('U1, U2', '(nobody is configured)')
    """
    said: list[Part] = []
    for user in sorted(users):
        said += [", ", Person(user)] if said else [Person(user)]
    return tuple(said) or ("(nobody is configured)",)


def ask(people: Iterable[str]) -> Words:
    """Whom to ask: ``Ask <@U1>.`` when there is one, ``Ask one of <@U1>, <@U2>.`` else.

    >>> from bot.domain.words import plain
    >>> plain(ask({"U1"})), plain(ask({"U2", "U1"}))
    ('Ask U1.', 'Ask one of U1, U2.')
    """
    people = set(people)
    return words("Ask one of " if len(people) > 1 else "Ask ", mentions(people), ".")


@dataclass(frozen=True)
class AccessPolicy:
    """The skills file's ``operators``, ``approvers`` and ``pipelines``.

    >>> AccessPolicy(frozenset({"U1"}), frozenset({"U2"})).require_operator("U1", "hotfix")
    """

    operators: frozenset[str]
    approvers: frozenset[str]
    pipelines: frozenset[str] = field(default_factory=frozenset)

    def require_planner(self, actor: str, what: str) -> None:
        """A plan changes nothing: any pipeline may show one (and ask an operator to
        confirm it in Slack); people plan as operators."""
        if not actors.is_pipeline(actor):
            self.require_operator(actor, what)

    def require_operator(self, actor: str, what: str) -> None:
        if actor in self.operators or actor in self.pipelines:
            return
        if actors.is_pipeline(actor):
            raise NotAuthorized(
                words(
                    f"The pipeline {actor} may not {what}: it is not listed in ",
                    Code("pipelines"),
                    ".",
                ),
                hint=words(
                    f'Add "{actor}" to ',
                    Code("pipelines"),
                    " in the skills file, or run the command with --request so an operator "
                    "confirms the plan in Slack.",
                ),
            )
        raise NotAuthorized(f"Only operators may {what}.", hint=ask(self.operators))

    def require_operator_or_approver(self, actor: str, what: str) -> None:
        """People of the team: operators and approvers (not pipelines)."""
        if actor not in self.operators and actor not in self.approvers:
            raise NotAuthorized(
                f"Only operators and approvers may {what}.",
                hint=ask(self.operators | self.approvers),
            )

    def require_approver(self, actor: str, what: str) -> None:
        if actor not in self.approvers:
            raise NotAuthorized(f"Only approvers may {what}.", hint=ask(self.approvers))
