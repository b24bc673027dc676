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

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import ConfigError, NotFound, Unavailable
from bot.domain.model import AuditEvent, Outcome, Plan
from bot.domain.news import PlanRequest, RequestClosed
from bot.domain.words import Words
from bot.service.context import RotationContext
from bot.service.outbox import Outbox

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
    def __init__(self, ctx: RotationContext, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    def post(
        self, plan: Plan, *, note: str | Words = "", offer_submit: bool = False
    ) -> PostedRequest:
        """Post ``plan`` as a top-level message of its skill's channel, for an operator."""
        skill = self.ctx.skill(plan.skill)
        news = PlanRequest(plan, note, offer_submit)
        # now or never: the command line waits for it, and says so when Slack refuses it
        request = self.outbox.post(f"request:{plan.id}", skill.channel, news, lasts=timedelta(0))
        delivery = self.outbox.send(request)
        if not delivery.posted or delivery.ts is None:
            if isinstance(delivery.error, NotFound):  # the file's channel, or not invited
                raise ConfigError(delivery.error.message, hint=delivery.error.hint)
            raise Unavailable(
                f"Slack did not take the request in {skill.channel}: {delivery.reason}",
                hint="Nothing was posted and the plan is not applied; run the command again.",
            )
        return PostedRequest(plan, skill.channel, delivery.ts)

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
        closed = RequestClosed(posted.plan, why)  # the plan is closed, whatever Slack says
        self.outbox.send(self.outbox.update(posted.channel, closed, ts=posted.ts))
        return True
