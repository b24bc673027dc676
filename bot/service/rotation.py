"""The rotation as its faces call it: Slack's handlers and the command line use this one
object, so both go through the same guards, lock, audit log and announcements::

    offer = rotation.propose("hotfix", "trivia", actor="U0ALICE", reason="crash on launch")
    change = rotation.apply(offer.plan.id, actor="U0ALICE")   # applied, recorded, announced
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.canary import DEFAULT_SECONDS, DEFAULT_WEIGHT, Canary, Verdict
from bot.domain.errors import Unavailable
from bot.domain.model import AuditEvent, Change, Plan, Skill
from bot.service.alexa import AlexaTracking
from bot.service.alexa_endpoints import EndpointBook
from bot.service.applying import AlreadyHandled, Applying
from bot.service.canary import Canaries
from bot.service.context import RotationContext
from bot.service.planning import DoctorReport, Planning
from bot.service.promotion import Promotion, Reaction
from bot.service.prune import PruneOffer, Pruning
from bot.service.reading import AliasView, Reading, StatusView
from bot.service.requests import PlanOutcome, PlanRequests, PostedRequest

__all__ = [
    "AliasView",
    "AlreadyHandled",
    "DoctorReport",
    "PlanOffer",
    "PlanOutcome",
    "PostedRequest",
    "PruneOffer",
    "Reaction",
    "RotationService",
    "StatusView",
]


@dataclass(frozen=True)
class PlanOffer:
    """A saved plan and how to offer it: with "Confirm and submit to Alexa" or not, and a
    note for the person (e.g. that cancelling withdraws the Alexa submission)."""

    plan: Plan
    offer_submit: bool = False
    note: str = ""
    #: a hotfix plan's "Canary" choice: the same change as a canary
    canary: Plan | None = None


class RotationService:
    """Every operation of SPEC §2, delegated to its use case."""

    def __init__(
        self,
        ctx: RotationContext,
        planning: Planning,
        applying: Applying,
        promotion: Promotion,
        reading: Reading,
        alexa: AlexaTracking | None = None,
        endpoints: EndpointBook | None = None,
        canaries: Canaries | None = None,
        pruning: Pruning | None = None,
        requests: PlanRequests | None = None,
    ) -> None:
        self.ctx = ctx
        self.requests = requests
        self.planning = planning
        self.applying = applying
        self.promotion = promotion
        self.reading = reading
        self.alexa = alexa
        self.endpoints = endpoints or EndpointBook(ctx.lambda_)
        self.canaries = canaries
        self.pruning = pruning or Pruning(ctx)

    @property
    def skills(self) -> dict[str, Skill]:
        return self.ctx.skills

    # -- reading ----------------------------------------------------------------------
    def status(self, name: str) -> StatusView:
        return self.reading.status(name)

    def history(self, name: str, limit: int = 20) -> list[AuditEvent]:
        return self.reading.history(name, limit)

    def review_status(self, view: StatusView) -> str | None:
        """The Alexa review line of the view's pending certification, if any."""
        if self.alexa is None or view.pending is None:
            return None
        review = self.alexa.review(view.pending.id)
        return review.describe() if review else None

    # -- planning -----------------------------------------------------------------------
    def plan_hotfix(
        self,
        name: str,
        *,
        actor: str,
        reason: str = "",
        version: str | None = None,
        run_url: str | None = None,
    ) -> Plan:
        return self.planning.plan_hotfix(
            name, actor=actor, reason=reason, version=version, run_url=run_url
        )

    def plan_certify(
        self,
        name: str,
        *,
        actor: str,
        reason: str = "",
        version: str | None = None,
        run_url: str | None = None,
    ) -> Plan:
        return self.planning.plan_certify(
            name, actor=actor, reason=reason, version=version, run_url=run_url
        )

    def plan_rollback(
        self,
        name: str,
        *,
        actor: str,
        reason: str = "",
        version: str | None = None,
        run_url: str | None = None,
    ) -> Plan:
        return self.planning.plan_rollback(
            name, actor=actor, reason=reason, version=version, run_url=run_url
        )

    def plan_cancel(
        self, name: str, *, actor: str, reason: str = "", run_url: str | None = None
    ) -> Plan:
        return self.planning.plan_cancel(name, actor=actor, reason=reason, run_url=run_url)

    def propose(
        self,
        operation: str,
        name: str,
        *,
        actor: str,
        reason: str = "",
        version: str | None = None,
        run_url: str | None = None,
    ) -> PlanOffer:
        """Plan ``operation`` (hotfix, certify, rollback or cancel) and say how to offer it.

        ``run_url`` links the pipeline run asking, when ``actor`` is a pipeline."""
        if operation == "cancel":
            plan = self.plan_cancel(name, actor=actor, reason=reason, run_url=run_url)
            note = self.alexa.withdraw_note(plan.certification_id) if self.alexa else ""
            return PlanOffer(plan, note=note)
        planners: dict[str, Callable[..., Plan]] = {
            "hotfix": self.plan_hotfix,
            "certify": self.plan_certify,
            "rollback": self.plan_rollback,
        }
        plan = planners[operation](
            name, actor=actor, reason=reason, version=version, run_url=run_url
        )
        certify = operation == "certify"
        note = ""
        if certify and plan.alias is not None:  # which endpoint certification must call
            skill = self.ctx.skill(plan.skill)
            note = self.endpoints.plan_note(skill, plan.alias, smapi=self.alexa is not None)
        canary = (
            self.planning.canary_choice(plan, weight=DEFAULT_WEIGHT, seconds=DEFAULT_SECONDS)
            if operation == "hotfix" and self.canaries is not None
            else None
        )
        return PlanOffer(
            plan, offer_submit=certify and self.alexa is not None, note=note, canary=canary
        )

    def propose_canary(
        self,
        name: str,
        *,
        actor: str,
        weight: float,
        seconds: int,
        reason: str = "",
        version: str | None = None,
    ) -> PlanOffer:
        """Plan a canary hotfix: ``weight`` of live traffic to the new code for ``seconds``."""
        self._require_canaries()
        plan = self.planning.plan_canary(
            name, actor=actor, weight=weight, seconds=seconds, reason=reason, version=version
        )
        return PlanOffer(plan)

    def propose_prune(self, name: str, *, actor: str, keep: int | None = None) -> PruneOffer:
        """Plan deleting old versions nothing refers to (Confirm applies it)."""
        return self.pruning.plan_prune(name, actor=actor, keep=keep)

    def end_canary(self, canary_id: str, *, actor: str, complete: bool) -> Canary:
        """A person's *Complete now* (``complete``) or *Abort* of a running canary."""
        canaries = self._require_canaries()
        verdict = Verdict.COMPLETE if complete else Verdict.ABORT
        return canaries.request_end(canary_id, actor=actor, verdict=verdict)

    def _require_canaries(self) -> Canaries:
        if self.canaries is None:
            raise Unavailable(
                "Canaries need CloudWatch, which this installation does not reach.",
                hint="Use a plain `/skill hotfix`, or configure AWS access for CloudWatch.",
            )
        return self.canaries

    # -- plans confirmed in Slack, asked for elsewhere ------------------------------------
    def request(self, offer: PlanOffer) -> PostedRequest:
        """Post the offered plan in its skill's channel, for an operator to confirm there."""
        return self._requests().post(offer.plan, note=offer.note, offer_submit=offer.offer_submit)

    def plan_outcome(self, plan_id: str) -> PlanOutcome:
        """What became of a saved plan (pending, applied, dismissed, stale, …)."""
        return self._requests().outcome(plan_id)

    def withdraw_request(self, posted: PostedRequest, why: str) -> bool:
        """Close a posted request nobody confirmed; False when it was decided meanwhile."""
        return self._requests().withdraw(posted, why)

    def _requests(self) -> PlanRequests:
        if self.requests is None:  # composed without a notifier (a reading-only face)
            raise Unavailable(
                "Posting plans to Slack is not set up here.", hint="Confirm with `--yes`."
            )
        return self.requests

    def doctor(self, name: str, *, actor: str) -> DoctorReport:
        return self.planning.doctor(name, actor=actor)

    # -- changing -------------------------------------------------------------------------
    def apply(
        self,
        plan_id: str,
        *,
        actor: str,
        on_claimed: Callable[[Plan], None] | None = None,
        submit: bool = False,
    ) -> Change:
        """Apply a saved plan once; it is recorded and announced (and submitted)."""
        return self.applying.apply(plan_id, actor=actor, on_claimed=on_claimed, submit=submit)

    def dismiss(self, plan_id: str, *, actor: str) -> Plan | None:
        return self.applying.dismiss(plan_id, actor=actor)

    def promote(
        self,
        name: str | None = None,
        *,
        actor: str,
        certification_id: str | None = None,
        reason: str = "",
    ) -> Change:
        return self.promotion.promote(
            name, actor=actor, certification_id=certification_id, reason=reason
        )

    def promote_by_reaction(self, event: Reaction, *, bot_user: str | None) -> Change | None:
        return self.promotion.by_reaction(event, bot_user=bot_user)
