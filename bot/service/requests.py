"""Plans asked for from the command line and confirmed by an operator in Slack.

The plan is posted in the skill's channel with the usual Confirm and Cancel buttons (the
Slack listeners apply any saved plan, under the same guards and lock); the command line
then reads the plan's outcome until it is decided, and withdraws a request nobody
answered in time, so a late click can no longer apply it::

    posted = requests.post(plan)
    requests.outcome(plan.id).status      # 'pending', then e.g. 'applied' or 'dismissed'
    requests.withdraw(posted, "Nobody confirmed within 30m")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.errors import ConfigError, NotFound, SkillbotError
from bot.domain.model import AuditEvent, Outcome, Plan
from bot.domain.news import PlanRequest, RequestClosed
from bot.domain.words import Words
from bot.ports import Notifier
from bot.service.context import RotationContext

log = logging.getLogger(__name__)

#: plan statuses after which nothing more happens to the plan
DECIDED = frozenset({"applied", "noop", "stale", "refused", "dismissed", "expired", "unknown"})
#: the status a request nobody answered in time ends in
EXPIRED = "expired"


@dataclass(frozen=True)
class PostedRequest:
    """Where a requested plan was posted."""

    plan: Plan
    channel: str
    ts: str


@dataclass(frozen=True)
class PlanOutcome:
    """What became of a saved plan: its status (``pending``, ``applying``, ``applied``,
    ``noop``, ``stale``, ``refused``, ``dismissed``, ``interrupted`` — a transient failure
    that may be confirmed again —, ``expired``, or ``unknown``) and the latest attempt on
    record (who confirmed it, or why it was refused)."""

    plan_id: str
    status: str
    attempt: AuditEvent | None = None

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    @property
    def applied(self) -> bool:
        return self.status in ("applied", "noop")


class PlanRequests:
    def __init__(self, ctx: RotationContext, notifier: Notifier) -> None:
        self.ctx = ctx
        self.notifier = notifier

    def post(
        self, plan: Plan, *, note: str | Words = "", offer_submit: bool = False
    ) -> PostedRequest:
        """Post ``plan`` as a top-level message of its skill's channel, for an operator."""
        skill = self.ctx.skill(plan.skill)
        try:
            ts = self.notifier.post(skill.channel, PlanRequest(plan, note, offer_submit))
        except NotFound as err:  # the channel of the skills file, or the bot not in it
            raise ConfigError(err.message, hint=err.hint) from err
        return PostedRequest(plan, skill.channel, ts)

    def outcome(self, plan_id: str) -> PlanOutcome:
        store = self.ctx.store
        plan = store.get_plan(plan_id)
        status = store.plan_status(plan_id)
        if plan is None or status is None:
            return PlanOutcome(plan_id, "unknown")
        attempts = (
            event
            for event in store.audit(plan.skill, 100)
            if event.plan_id == plan_id and event.outcome is not Outcome.PLANNED
        )
        return PlanOutcome(plan_id, status, next(attempts, None))

    def withdraw(self, posted: PostedRequest, why: str) -> bool:
        """Close a request still waiting for a Confirm: no click applies it any more, and
        the message says why. False when someone is applying or has decided it."""
        store = self.ctx.store
        if not store.claim_plan(posted.plan.id):
            return False
        store.finish_plan(posted.plan.id, EXPIRED)
        try:
            self.notifier.update(posted.channel, posted.ts, RequestClosed(posted.plan, why))
        except SkillbotError as err:  # the plan is closed all the same
            log.warning("could not mark the request %s as closed: %s", posted.plan.id, err)
        return True
