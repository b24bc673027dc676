"""Events: an approver's reaction promotes; App Home shows every skill's status."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext

from bot.bootstrap import UseCases
from bot.service.promotion import Reaction

log = logging.getLogger(__name__)


class ReactionPromotion:
    def __init__(self, cases: UseCases) -> None:
        self.cases = cases

    def added(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        reaction = _reaction(body, event)
        if reaction is not None:
            self.cases.promotion.by_reaction(reaction, bot_user=context.bot_user_id)

    def removed(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """An approver's emoji taken back (``approvals = N``: their yes no longer counts)."""
        reaction = _reaction(body, event)
        if reaction is not None:
            self.cases.promotion.reaction_removed(reaction)


def _reaction(body: dict[str, Any], event: dict[str, Any]) -> Reaction | None:
    item = event.get("item") or {}
    if not (event.get("user") and item.get("channel") and item.get("ts")):
        log.info("a %s without user or item was ignored", event.get("type"))
        return None
    return Reaction(
        user=event.get("user", ""),
        reaction=event.get("reaction", ""),
        channel=item.get("channel", ""),
        ts=item.get("ts", ""),
        item_type=item.get("type", ""),
        event_id=body.get("event_id"),
    )


class AppHome:
    def __init__(self, cases: UseCases) -> None:
        self.cases = cases

    def opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event.get("user")
        if not user:
            log.info("an app_home_opened without a user was ignored")
            return
        self.cases.home.opened(user)
