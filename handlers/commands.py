"""``/skill``: parse and ack at once; plan, read or promote after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond

from bot import blocks, blocks_canary, replies
from bot.bootstrap import Services
from bot.domain.commands import Command, parse
from bot.domain.errors import SkillbotError

log = logging.getLogger(__name__)

PLANNED = {"hotfix", "certify", "rollback", "cancel"}
#: what "Could not …" says for each subcommand, e.g. "Could not read the status of trivia"
DOING = {
    "status": "read the status of {skill}",
    "history": "read the history of {skill}",
    "doctor": "check {skill}",
    "hotfix": "plan a hotfix of {skill}",
    "certify": "plan a certification of {skill}",
    "rollback": "plan a rollback of {skill}",
    "cancel": "plan cancelling the certification of {skill}",
    "promote": "promote {skill}",
}


def doing(cmd: Command) -> str:
    """The verb phrase of a failed subcommand.

    >>> doing(Command("status", "trivia", None, ""))
    'read the status of trivia'
    """
    return DOING.get(cmd.name, "run `{name} {skill}`").format(name=cmd.name, skill=cmd.skill)


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
            config = self.services.config
            text, body = replies.help_blocks(
                list(self.services.skills),
                operators=config.operators,
                approvers=config.approvers,
                reaction=config.promote_reaction,
                four_eyes=config.four_eyes,
            )
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
            text, body = blocks.error_message(err, doing=doing(parsed))
        except Exception:
            log.exception("/skill %s failed", parsed.name)
            text, body = (
                f"Something went wrong with `{parsed.name}`; nothing was changed by this "
                "message. The error is in the bot's log.",
                None,
            )
        respond(text=text, blocks=body, response_type="ephemeral", replace_original=True)

    def dispatch(self, cmd: Command, user: str) -> tuple[str, list[blocks.Block] | None]:
        rotation = self.services.rotation
        assert cmd.skill is not None
        if cmd.name == "hotfix" and cmd.canary_weight is not None:
            offer = rotation.propose_canary(
                cmd.skill,
                actor=user,
                weight=cmd.canary_weight,
                seconds=cmd.canary_seconds or 0,
                reason=cmd.reason,
                version=cmd.version,
            )
            return blocks.plan_message(offer.plan)
        if cmd.name in PLANNED:
            offer = rotation.propose(
                cmd.name, cmd.skill, actor=user, reason=cmd.reason, version=cmd.version
            )
            return blocks.plan_message(
                offer.plan,
                offer_submit=offer.offer_submit,
                extra=offer.note,
                canary=blocks_canary.canary_choice(offer.canary) if offer.canary else None,
            )
        if cmd.name == "prune":
            pruning = rotation.propose_prune(cmd.skill, actor=user, keep=cmd.keep)
            return blocks_canary.prune_plan_message(
                pruning.plan, pruning.versions, pruning.keep, pruning.regions
            )
        if cmd.name == "promote":
            return blocks.result_message(rotation.promote(cmd.skill, actor=user, reason=cmd.reason))
        if cmd.name == "status":
            view = rotation.status(cmd.skill)
            return blocks.status_text(view), blocks.status_blocks(
                view, region=self.services.region, review=rotation.review_status(view)
            )
        if cmd.name == "history":
            return replies.history_blocks(cmd.skill, rotation.history(cmd.skill))
        if cmd.name == "doctor":
            return replies.doctor_blocks(rotation.doctor(cmd.skill, actor=user))
        raise AssertionError(cmd.name)
