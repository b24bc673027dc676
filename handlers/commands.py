"""``/skill``: parse and ack at once; plan, read or promote after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond

from bot import blocks
from bot.domain.commands import Command, parse
from bot.domain.errors import SkillbotError
from bot.wiring import Services

log = logging.getLogger(__name__)

PLANNED = {"hotfix", "certify", "rollback", "cancel"}


class SkillCommand:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _parse(self, text: str) -> Command:
        return parse(text, list(self.services.skills))

    def ack(self, ack: Ack, command: dict[str, Any]) -> None:
        """Answer within Slack's limit: help and bad input right away, else 'working on it'."""
        try:
            parsed = self._parse(command.get("text", ""))
        except SkillbotError as err:
            text, body = blocks.error_message(err)
            ack(text=text, blocks=body, response_type="ephemeral")
            return
        if parsed.name == "help":
            text, body = blocks.help_blocks(list(self.services.skills))
            ack(text=text, blocks=body, response_type="ephemeral")
            return
        ack(
            text=f":hourglass_flowing_sand: Working on `{parsed.name} {parsed.skill}`…",
            response_type="ephemeral",
        )

    def run(self, command: dict[str, Any], respond: Respond) -> None:
        """After the ack: do the work and replace the 'working on it' message."""
        try:
            parsed = self._parse(command.get("text", ""))
        except SkillbotError:
            return  # already answered in ack
        if parsed.name == "help":
            return
        user = command["user_id"]
        try:
            text, body = self.dispatch(parsed, user)
        except SkillbotError as err:
            text, body = blocks.error_message(err, doing=f"{parsed.name} {parsed.skill}")
        except Exception:
            log.exception("/skill %s failed", parsed.name)
            text, body = (
                f"Something went wrong with `{parsed.name}`; nothing was changed by this "
                "message. The error is in the bot's log.",
                None,
            )
        respond(text=text, blocks=body, response_type="ephemeral", replace_original=True)

    def dispatch(self, cmd: Command, user: str) -> tuple[str, list[blocks.Block] | None]:
        s = self.services
        assert cmd.skill is not None
        if cmd.name in PLANNED:
            planner = {
                "hotfix": s.rotation.plan_hotfix,
                "certify": s.rotation.plan_certify,
                "rollback": s.rotation.plan_rollback,
            }.get(cmd.name)
            if planner is not None:
                plan = planner(cmd.skill, actor=user, reason=cmd.reason, version=cmd.version)
                return blocks.plan_message(
                    plan, offer_submit=cmd.name == "certify" and s.alexa is not None
                )
            plan = s.rotation.plan_cancel(cmd.skill, actor=user, reason=cmd.reason)
            return blocks.plan_message(plan, extra=self._withdraw_note(plan.certification_id))
        if cmd.name == "promote":
            change = s.rotation.promote(cmd.skill, actor=user, reason=cmd.reason)
            s.announcer.change_applied(change)
            return blocks.result_message(change)
        if cmd.name == "status":
            view = s.rotation.status(cmd.skill)
            review = s.announcer.review_status(view.pending) if view.pending else None
            return blocks.status_text(view), blocks.status_blocks(
                view, region=s.region, review=review
            )
        if cmd.name == "history":
            return blocks.history_blocks(cmd.skill, s.rotation.history(cmd.skill))
        if cmd.name == "doctor":
            return blocks.doctor_blocks(s.rotation.doctor(cmd.skill, actor=user))
        raise AssertionError(cmd.name)

    def _withdraw_note(self, certification_id: str | None) -> str:
        alexa = self.services.alexa
        review = alexa.review(certification_id) if alexa and certification_id else None
        if review is None or review.submitted_at is None or review.withdrawn_at:
            return ""
        if review.status not in (None, "IN_PROGRESS"):
            return ""
        return (
            "• the Alexa submission is withdrawn too (start the reason with one of SMAPI's "
            "reasons, e.g. `-- discovered issue: …`; otherwise OTHER with your text)"
        )
