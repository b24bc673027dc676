"""The canary message's buttons: *Complete now* and *Abort* (operators)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot.adapters.slack import plans
from bot.bootstrap import UseCases
from bot.domain.errors import SkillbotError


class CanaryButtons:
    def __init__(self, cases: UseCases) -> None:
        self.cases = cases

    def complete(self, body: dict[str, Any], respond: Respond) -> None:
        self._end(body, respond, complete=True)

    def abort(self, body: dict[str, Any], respond: Respond) -> None:
        self._end(body, respond, complete=False)

    def _end(self, body: dict[str, Any], respond: Respond, *, complete: bool) -> None:
        user, canary_id = body["user"]["id"], body["actions"][0]["value"]
        doing = "complete the canary" if complete else "abort the canary"
        try:
            canary = self.cases.offers.end_canary(canary_id, actor=user, complete=complete)
        except SkillbotError as err:
            text, err_blocks = plans.error_message(err, doing=doing)
            # the canary message is the channel's: answer the person privately
            respond(text=text, blocks=err_blocks, response_type="ephemeral", replace_original=False)
            return
        respond(
            text=f"Done: the canary is {canary.state} ({canary.outcome}).",
            response_type="ephemeral",
            replace_original=False,
        )
