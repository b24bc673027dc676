"""Who may do what: operators plan and confirm changes, approvers promote."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.errors import NotAuthorized


def mentions(users: Iterable[str]) -> str:
    """``<@U1>, <@U2>`` (sorted), or a note that nobody is configured."""
    return ", ".join(f"<@{u}>" for u in sorted(users)) or "(nobody is configured)"


@dataclass(frozen=True)
class AccessPolicy:
    """The skills file's ``operators`` and ``approvers``.

    >>> AccessPolicy(frozenset({"U1"}), frozenset({"U2"})).require_operator("U1", "hotfix")
    """

    operators: frozenset[str]
    approvers: frozenset[str]

    def require_operator(self, actor: str, what: str) -> None:
        if actor not in self.operators:
            raise NotAuthorized(
                f"Only operators may {what}.", hint="Ask one of " + mentions(self.operators) + "."
            )

    def require_approver(self, actor: str, what: str) -> None:
        if actor not in self.approvers:
            raise NotAuthorized(
                f"Only approvers may {what}.", hint="Ask one of " + mentions(self.approvers) + "."
            )
