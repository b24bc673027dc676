"""Plan buttons: Confirm applies once, Cancel dismisses, Fix applies doctor's fixes; a
canary's *Complete now* and *Abort* (operators)."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from slack_bolt import Respond

from bot.adapters.slack import kit, plans
from bot.bootstrap import UseCases
from bot.domain.errors import NotAuthorized, SkillbotError
from bot.domain.model import Plan
from bot.service.applying import AlreadyHandled

log = logging.getLogger(__name__)


class DelayedProgress:
    """Shows "Applying…" only when applying takes longer than ``delay`` seconds, so a
    quick change costs no extra Slack round trip, and a slow one still shows progress."""

    def __init__(self, respond: Respond, delay: float = 1.0) -> None:
        self.respond = respond
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._done = False

    def start(self, plan: Plan) -> None:
        self._timer = threading.Timer(self.delay, self._show, args=(plan,))
        self._timer.daemon = True
        self._timer.start()

    def _show(self, plan: Plan) -> None:
        with self._lock:  # finish() waits for this post, so the result replaces it
            if not self._done:
                self.respond(
                    text=f":hourglass_flowing_sand: Applying: {plan.summary()}…",
                    replace_original=True,
                    response_type="ephemeral",
                )

    def finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._done = True


NO_PLAN = (
    "That button carried no plan, so nothing was changed. Ask for a fresh plan "
    "(`/skill hotfix`, `/skill certify`, `/skill doctor`, …) and use its buttons."
)


def _clicked(body: dict[str, Any]) -> tuple[str, str, str]:
    """Who clicked, the button's value ("" when Slack sent none) and its action_id."""
    action = (body.get("actions") or [{}])[0]
    user = str((body.get("user") or {}).get("id", ""))
    return user, str(action.get("value") or ""), str(action.get("action_id") or "")


def _carries_a_plan(user: str, value: str, respond: Respond) -> bool:
    if user and value:
        return True
    try:
        respond(text=NO_PLAN, response_type="ephemeral", replace_original=False)
    except (ValueError, TypeError):  # no response_url to answer on
        log.info("a button without a plan or a user was ignored")
    return False


class PlanButtons:
    def __init__(self, cases: UseCases) -> None:
        self.cases = cases

    def confirm(self, body: dict[str, Any], respond: Respond) -> None:
        """Confirm (a canary's too); *Confirm and submit* certifies, then submits the skill
        to Alexa for certification (manual publishing)."""
        user, plan_id, action = _clicked(body)
        if _carries_a_plan(user, plan_id, respond):
            self._apply(plan_id, user, respond, submit=action == kit.CONFIRM_AND_SUBMIT)

    def fix_all(self, body: dict[str, Any], respond: Respond) -> None:
        user, value, _ = _clicked(body)
        if not _carries_a_plan(user, value, respond):
            return
        lines: dict[str, None] = {}  # a refusal that applies to every fix is said once
        for plan_id in value.split(","):
            line = self._apply(plan_id, user, respond, final=False)
            if line:
                lines[line] = None
        if lines:
            respond(text="\n".join(lines), replace_original=True, response_type="ephemeral")

    def _apply(
        self,
        plan_id: str,
        user: str,
        respond: Respond,
        *,
        final: bool = True,
        submit: bool = False,
    ) -> str:
        progress = DelayedProgress(respond)
        try:
            change = self.cases.applying.apply(
                plan_id, actor=user, on_claimed=progress.start, submit=submit
            )
        except AlreadyHandled:
            progress.finish()
            log.info("plan %s confirmed again; ignored", plan_id)
            return ""
        except NotAuthorized as err:
            # told privately, the plan stays: it may be a request in the channel that an
            # operator is still to confirm
            progress.finish()
            text, body = plans.error_message(err, doing="apply the plan")
            respond(text=text, blocks=body, replace_original=False, response_type="ephemeral")
            return text
        except SkillbotError as err:
            text, body = plans.error_message(err, doing="apply the plan")
        else:
            text, body = plans.result_message(change)
        progress.finish()  # a progress message, if one went out, is replaced only after it
        if final:
            respond(text=text, blocks=body, replace_original=True, response_type="ephemeral")
        return text

    def dismiss(self, body: dict[str, Any], respond: Respond) -> None:
        user, value, _ = _clicked(body)
        if not _carries_a_plan(user, value, respond):
            return
        try:
            dismissed = [
                plan
                for plan_id in value.split(",")
                if (plan := self.cases.applying.dismiss(plan_id, actor=user)) is not None
            ]
        except SkillbotError as err:
            text, err_blocks = plans.error_message(err, doing="cancel the plan")
            respond(text=text, blocks=err_blocks, response_type="ephemeral")
            return
        if dismissed:
            text, body_blocks = plans.dismissed_message(dismissed[0], user)
            respond(text=text, blocks=body_blocks, replace_original=True, response_type="ephemeral")

    def rollback_offer(self, body: dict[str, Any], respond: Respond) -> None:
        """*Roll back* under a health report that found the release worse: the person
        who clicked gets the rollback's plan, to confirm like any other."""
        user, value, _ = _clicked(body)
        if not _carries_a_plan(user, value, respond):
            return
        try:
            offered = json.loads(value)
            skill, version = str(offered["skill"]), str(offered["version"])
        except (ValueError, KeyError, TypeError):
            respond(text=NO_PLAN, response_type="ephemeral", replace_original=False)
            return
        try:
            offer = self.cases.offers.propose(
                "rollback", skill, actor=user, version=version, reason="the health report"
            )
        except SkillbotError as err:
            text, err_blocks = plans.error_message(err, doing="plan the rollback")
            respond(text=text, blocks=err_blocks, response_type="ephemeral", replace_original=False)
            return
        text, blocks = plans.plan_message(offer.plan, extra=offer.note)
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def end_canary(self, body: dict[str, Any], respond: Respond) -> None:
        """*Complete now* or *Abort*, on the canary's message in the channel: the person
        who clicked is answered privately."""
        user, canary_id, action = _clicked(body)
        if not _carries_a_plan(user, canary_id, respond):
            return
        complete = action == kit.CANARY_COMPLETE
        try:
            canary = self.cases.offers.end_canary(canary_id, actor=user, complete=complete)
        except SkillbotError as err:
            doing = "complete the canary" if complete else "abort the canary"
            text, err_blocks = plans.error_message(err, doing=doing)
            respond(text=text, blocks=err_blocks, response_type="ephemeral", replace_original=False)
            return
        respond(
            text=f"Done: the canary is {canary.state} ({canary.outcome}).",
            response_type="ephemeral",
            replace_original=False,
        )
