"""Events: an approver's reaction promotes; App Home shows every skill's status."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.bootstrap import Services
from bot.service.rotation import Reaction


class ReactionPromotion:
    def __init__(self, services: Services) -> None:
        self.services = services

    def ack(self, ack: Ack) -> None:
        ack()

    def added(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        item = event.get("item") or {}
        reaction = Reaction(
            user=event.get("user", ""),
            reaction=event.get("reaction", ""),
            channel=item.get("channel", ""),
            ts=item.get("ts", ""),
            item_type=item.get("type", ""),
            event_id=body.get("event_id"),
        )
        self.services.rotation.promote_by_reaction(reaction, bot_user=context.bot_user_id)


class AppHome:
    def __init__(self, services: Services) -> None:
        self.services = services

    def ack(self, ack: Ack) -> None:
        ack()

    def opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        self.services.home.opened(event["user"])
