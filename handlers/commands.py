"""``/skill``: parse and ack at once; after the ack, call the subcommand's use case (from
:data:`bot.commands.TABLE`) and show what it returns, by its kind."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond

from bot.adapters.slack import plans, reports
from bot.adapters.slack.kit import Json, say
from bot.bootstrap import UseCases
from bot.commands import HELP, TABLE, doing, parse
from bot.domain.commands import Command
from bot.domain.errors import SkillbotError
from bot.domain.model import Change
from bot.service.offers import PlanOffer, StatusReport
from bot.service.planning import DoctorReport
from bot.service.prune import PruneOffer

log = logging.getLogger(__name__)

Reply = tuple[str, list[Json] | None]


class SkillCommand:
    def __init__(self, cases: UseCases) -> None:
        self.cases = cases

    def _parse(self, text: str) -> Command:
        return parse(text, list(self.cases.skills))

    def ack(self, ack: Ack, command: dict[str, Any]) -> None:
        """Answer within Slack's limit: help and bad input right away, else 'working on it'."""
        try:
            parsed = self._parse(command.get("text", ""))
        except SkillbotError as err:
            text, body = plans.error_message(err)
            ack(text=text, blocks=body, response_type="ephemeral")
            return
        if parsed.name == "help":
            config = self.cases.config
            text, body = reports.help_blocks(
                list(self.cases.skills),
                HELP,
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
        call = TABLE[parsed.name].call
        if call is None:  # help: answered in the ack
            return
        try:
            text, body = self.reply(parsed, call(self.cases, parsed, command["user_id"], None))
        except SkillbotError as err:
            text, body = plans.error_message(err, doing=doing(parsed))
        except Exception:
            log.exception("/skill %s failed", parsed.name)
            text, body = (
                f"Something went wrong with `{parsed.name}`; nothing was changed by this "
                "message. The error is in the bot's log.",
                None,
            )
        respond(text=text, blocks=body, response_type="ephemeral", replace_original=True)

    def reply(self, cmd: Command, result: object) -> Reply:
        """What a use case returned, as Slack shows it."""
        if isinstance(result, PlanOffer):
            choice = plans.canary_choice(result.canary) if result.canary else None
            return plans.plan_message(
                result.plan, offer_submit=result.offer_submit, extra=result.note, canary=choice
            )
        if isinstance(result, PruneOffer):
            return plans.prune_plan_message(
                result.plan, result.versions, result.keep, result.regions
            )
        if isinstance(result, Change):
            return plans.result_message(result)
        if isinstance(result, StatusReport):
            return reports.status_text(result.view), reports.status_blocks(
                result.view, region=self.cases.region, review=result.review
            )
        if isinstance(result, DoctorReport):
            return plans.doctor_blocks(result)
        if isinstance(result, tuple):  # words: what a small use case answers
            return plans.text_message(say(result))
        assert cmd.skill is not None and isinstance(result, list), cmd.name
        return reports.history_blocks(cmd.skill, result)
