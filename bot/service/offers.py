"""Plans as the faces offer them: with the certify endpoint note, a hotfix's canary twin,
"Confirm and submit to Alexa" when SMAPI is set up; and what a status shows of Alexa::

    offer = offers.propose("certify", "trivia", actor="U0ALICE", reason="new model")
    offer.plan, offer.note, offer.offer_submit
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.canary import DEFAULT_SECONDS, DEFAULT_WEIGHT, Canary, Verdict
from bot.domain.errors import Unavailable
from bot.domain.model import Operation, Plan
from bot.domain.words import Run, Words, words
from bot.service.alexa import AlexaTracking
from bot.service.alexa_endpoints import EndpointBook
from bot.service.canary import Canaries
from bot.service.context import RotationContext
from bot.service.planning import Planning
from bot.service.reading import Reading, StatusView


@dataclass(frozen=True)
class PlanOffer:
    """A saved plan and how to offer it: with "Confirm and submit to Alexa" or not, and a
    note for the person (e.g. that cancelling withdraws the Alexa submission)."""

    plan: Plan
    offer_submit: bool = False
    note: str | Words = ""
    #: a hotfix plan's "Canary" choice: the same change as a canary
    canary: Plan | None = None


@dataclass(frozen=True)
class StatusReport:
    """A skill's status and the Alexa review line of its pending certification."""

    view: StatusView
    review: str | None = None


@dataclass(eq=False)
class Offers:
    ctx: RotationContext
    planning: Planning
    reading: Reading
    endpoints: EndpointBook
    alexa: AlexaTracking | None
    canaries: Canaries | None

    def status(self, name: str) -> StatusReport:
        view = self.reading.status(name)
        review = None
        if self.alexa is not None and view.pending is not None:
            found = self.alexa.review(view.pending.id)
            review = found.describe() if found else None
        return StatusReport(view, review)

    def propose(
        self, operation: Operation | str, name: str, *, actor: str, reason: str = "",
        version: str | None = None, run_url: str | None = None, override: bool = False,
        commit: str | None = None, repo: str | None = None,
    ) -> PlanOffer:  # fmt: skip
        """Plan ``operation`` (hotfix, certify, rollback or cancel) and say how to offer it.

        ``run_url`` links the pipeline run asking, when ``actor`` is a pipeline."""
        planning = self.planning
        if operation == "cancel":
            plan = planning.plan("cancel", name, actor=actor, reason=reason, run_url=run_url)
            note = self.alexa.withdraw_note(plan.certification_id) if self.alexa else ""
            return PlanOffer(plan, note=note)
        plan = planning.plan(
            operation, name, actor=actor, reason=reason, version=version, run_url=run_url,
            override=override, commit=commit, repo=repo,
        )  # fmt: skip
        certify = operation == "certify"
        note = ""
        if certify and plan.alias is not None:  # which endpoint certification must call
            skill = self.ctx.skill(plan.skill)
            note = self.endpoints.plan_note(skill, plan.alias, smapi=self.alexa is not None)
        canary = None
        if operation == "hotfix" and self.canaries is not None:
            canary = planning.canary_choice(plan, weight=DEFAULT_WEIGHT, seconds=DEFAULT_SECONDS)
        return PlanOffer(
            plan, offer_submit=certify and self.alexa is not None, note=note, canary=canary
        )

    def propose_canary(
        self, name: str, *, actor: str, weight: float, seconds: int, reason: str = "",
        version: str | None = None, override: bool = False,
    ) -> PlanOffer:  # fmt: skip
        """Plan a canary hotfix: ``weight`` of live traffic to the new code for ``seconds``."""
        self._canaries()
        plan = self.planning.plan(
            "canary",
            name,
            actor=actor,
            weight=weight,
            seconds=seconds,
            reason=reason,
            version=version,
            override=override,
        )
        return PlanOffer(plan)

    def end_canary(self, canary_id: str, *, actor: str, complete: bool) -> Canary:
        """A person's *Complete now* (``complete``) or *Abort* of a running canary."""
        verdict = Verdict.COMPLETE if complete else Verdict.ABORT
        return self._canaries().request_end(canary_id, actor=actor, verdict=verdict)

    def _canaries(self) -> Canaries:
        if self.canaries is None:
            raise Unavailable(
                "Canaries need CloudWatch, which this installation does not reach.",
                hint=words(
                    "Use a plain ", Run("hotfix"), ", or configure AWS access for CloudWatch."
                ),
            )
        return self.canaries
