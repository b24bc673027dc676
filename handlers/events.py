"""Events: an approver's reaction promotes; App Home shows every skill's status."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import Ack, BoltContext

from bot import blocks
from bot.domain.errors import SkillbotError
from bot.domain.model import Change
from bot.wiring import Services

log = logging.getLogger(__name__)


def _first_delivery(services: Services, body: dict[str, Any]) -> bool:
    """Slack retries carry the same event_id; only the first delivery (any replica) counts."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    return services.store.first_delivery(f"event:{event_id}", services.clock())


class ReactionPromotion:
    def __init__(self, services: Services, home: AppHome) -> None:
        self.services = services
        self.home = home

    def ack(self, ack: Ack) -> None:
        ack()

    def added(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        s = self.services
        if event.get("reaction") != s.config.promote_reaction:
            return
        item = event.get("item") or {}
        user = event.get("user", "")
        if item.get("type") != "message" or user == context.bot_user_id:
            return
        cert = s.store.certification_by_message(item.get("channel", ""), item.get("ts", ""))
        if cert is None or not cert.pending:
            return
        if not _first_delivery(s, body):
            log.info("event %s delivered again; ignored", body.get("event_id"))
            return
        if user not in s.config.approvers:
            s.rotation.record_refusal(cert.skill, "promote", user, "reaction by a non-approver")
            # told once per person and certification, whichever replica sees it
            if s.store.first_delivery(f"not-approver:{cert.id}:{user}", s.clock()):
                s.announcer.thread_reply(
                    cert,
                    blocks.not_an_approver(user, s.config.approvers, s.config.promote_reaction),
                )
            return
        try:
            change = s.rotation.promote(
                actor=user,
                certification_id=cert.id,
                reason=f"reacted :{s.config.promote_reaction}:",
            )
        except SkillbotError as err:
            s.announcer.thread_reply(cert, f":warning: Could not promote: {err}")
            return
        s.announcer.change_applied(change)


class AppHome:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.viewers: set[str] = set()
        self._lock = threading.Lock()

    def ack(self, ack: Ack) -> None:
        ack()

    def opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        with self._lock:
            self.viewers.add(user)
        self.publish([user])

    def refresh_after_change(self, change: Change) -> None:
        config = self.services.config
        with self._lock:
            users = self.viewers | set(config.operators) | set(config.approvers)
        self.publish(sorted(users))

    def view(self) -> dict[str, Any]:
        views, errors = [], []
        for name in sorted(self.services.skills):
            try:
                views.append(self.services.rotation.status(name))
            except SkillbotError as err:
                errors.append(f"{name}: {err}")
        return blocks.home_view(
            views, errors, region=self.services.region, review=self.services.announcer.review_status
        )

    def publish(self, users: list[str]) -> None:
        if not users:
            return
        view = self.view()
        for user in users:
            try:
                self.services.notifier.publish_home(user, view)
            except SkillbotError as err:
                log.warning("could not publish App Home for %s: %s", user, err)
