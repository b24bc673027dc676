"""Who may do what: operators plan and confirm changes, approvers promote, and the CD
pipelines listed in the skills file's ``pipelines`` confirm from the command line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain import actors
from bot.domain.errors import NotAuthorized


def mentions(users: Iterable[str]) -> str:
    """``<@U1>, <@U2>`` (sorted), or a note that nobody is configured."""
    return ", ".join(f"<@{u}>" for u in sorted(users)) or "(nobody is configured)"


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
                f"The pipeline {actor} may not {what}: it is not listed in `pipelines`.",
                hint=f'Add "{actor}" to `pipelines` in the skills file, or run the command '
                "with --request so an operator confirms the plan in Slack.",
            )
        raise NotAuthorized(
            f"Only operators may {what}.", hint="Ask one of " + mentions(self.operators) + "."
        )

    def require_approver(self, actor: str, what: str) -> None:
        if actor not in self.approvers:
            raise NotAuthorized(
                f"Only approvers may {what}.", hint="Ask one of " + mentions(self.approvers) + "."
            )
