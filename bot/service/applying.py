"""Applying a confirmed plan: once, under the skill's lock, refusing a stale plan; then
recorded, announced and (certify with SMAPI) submitted — the use case finishes its job::

    change = applying.apply(plan.id, actor="U0ALICE")
    change.headline()  # 'trivia: hotfix PROD1 v7 → v8 by <@U0ALICE> — crash on launch'

A publishing Confirm costs two AWS round trips: the publish (guarded by the plan's
``CodeSha256``) and the alias read run together, then the alias moves (guarded by the
plan's ``RevisionId``). A version published for a plan that turns out stale is harmless:
publishing is additive, and no alias moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from typing import TYPE_CHECKING

from bot.domain import rotation
from bot.domain.errors import (
    AppliedNotRecorded,
    NotAuthorized,
    NotFound,
    Refused,
    SkillbotError,
    StalePlan,
)
from bot.domain.model import Certification, Change, Operation, Outcome, Plan, Skill, new_id
from bot.domain.words import Run, Words, words
from bot.ports import OwedMessage
from bot.service.announcing import Announcer
from bot.service.cancelling import apply_cancel
from bot.service.context import RotationContext
from bot.service.fixes import apply_fix
from bot.service.moves import Moves
from bot.service.outbox import POSTED

if TYPE_CHECKING:
    from bot.service.alexa import AlexaTracking
    from bot.service.canary import Canaries
    from bot.service.gateway import GatewayChecks
    from bot.service.prune import Pruning

log = logging.getLogger(__name__)


class AlreadyHandled(Refused):
    """A plan confirmed a second time (double click, another replica): nothing more happens."""


@dataclass(eq=False)
class Applying:
    ctx: RotationContext
    announcer: Announcer
    moves: Moves  # every placement's alias, side by side
    _: KW_ONLY
    alexa: AlexaTracking | None = None
    gateway: GatewayChecks | None = None  # the API Gateway variant's Fix
    canaries: Canaries | None = None
    pruning: Pruning | None = None
    #: finishes a plan a dead process left "applying" (recovery's; the caller holds the lock)
    on_abandoned: Callable[[Plan], None] | None = None

    # -- the use case -------------------------------------------------------------------
    def apply(
        self,
        plan_id: str,
        *,
        actor: str,
        on_claimed: Callable[[Plan], None] | None = None,
        submit: bool = False,
    ) -> Change:
        """Apply a saved plan once, then announce it (and submit a certification to Alexa
        when ``submit``). A second call (double click, other replica) is refused.

        ``on_claimed`` runs once this call owns the plan, before AWS is touched (progress).
        """
        change = self.apply_only(plan_id, actor=actor, on_claimed=on_claimed)
        return self.finish(change, submit=submit)

    def finish(self, change: Change, *, submit: bool = False) -> Change:
        """What follows an applied change: the announcement, and Alexa's side of it."""
        if change.plan.operation is Operation.CANARY and self.canaries is not None:
            told = self.canaries.announce_start(change)  # its one message: the canary's
            return replace(change, announced=False, notes=(*change.notes, told)) if told else change
        # prune answers the person only
        delivery = (
            self.announcer.change_applied(change)
            if change.plan.operation is not Operation.PRUNE
            else POSTED
        )
        notes: list[str | Words] = []
        if not delivery.posted:
            channel = self.ctx.skill(change.plan.skill).channel
            certify = change.plan.operation is Operation.CERTIFY
            what = "the certification message" if certify else "the announcement"
            notes.append(delivery.note(channel, what=what))
            if certify and not delivery.unknown:
                notes.append(
                    words(
                        "Until it is posted, reminders wait and a reaction cannot promote: ",
                        Run("promote", change.plan.skill),
                        " works meanwhile.",
                    )
                )
            change = replace(change, announced=False)
        cert = change.certification
        if cert is not None:  # with its Slack message, now that it is posted
            cert = self.ctx.store.get_certification(cert.id) or cert
            change = replace(change, certification=cert)
        if self.alexa is not None and cert is not None:
            if change.plan.operation is Operation.CANCEL:
                told = self.alexa.withdraw(cert, change.plan.reason)
                if told:
                    self.announcer.thread_reply(cert, told)
            elif submit and change.plan.operation is Operation.CERTIFY:
                notes.append(self.alexa.submit(cert))
        return replace(change, notes=change.notes + tuple(notes)) if notes else change

    def apply_only(
        self, plan_id: str, *, actor: str, on_claimed: Callable[[Plan], None] | None = None
    ) -> Change:
        """Apply and record, without announcing (recovery announces from the record)."""
        ctx = self.ctx
        plan = ctx.store.get_plan(plan_id)
        if plan is None:
            raise NotFound(
                "This plan is not known (it may come from another installation).",
                hint="Run the command again to get a new plan.",
            )
        try:
            ctx.access.require_operator(actor, f"confirm a {plan.operation}")
        except NotAuthorized as err:
            ctx.audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
            raise
        skill = ctx.skill(plan.skill)
        # Claim, apply and record under the skill's lock: a plan seen "applying" by
        # someone who holds the lock was abandoned by a dead process (see recovery).
        with ctx.store.skill_lock(skill.name, ctx.lock_timeout):
            self._finish_abandoned(skill, plan)
            # a plan whose last attempt was cut short may have changed AWS already
            resumed = ctx.store.plan_status(plan.id) == "interrupted"
            if not resumed and plan.override is None:  # one cut short finishes what it began
                try:
                    ctx.check_may_change(skill)
                except Refused as err:  # the plan stays: Confirm works once it is unlocked
                    ctx.audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
                    raise
            if not ctx.store.claim_plan(plan.id):
                status = ctx.store.plan_status(plan.id)
                raise AlreadyHandled(
                    f"This plan was already handled ({status}).",
                    hint="Nothing more was done. Run the command again for a new plan.",
                )
            if on_claimed is not None:
                on_claimed(plan)
            try:
                change = self._apply_locked(skill, plan, actor, resumed=resumed)
            except (StalePlan, Refused, NotFound, NotAuthorized) as err:
                final = "stale" if isinstance(err, StalePlan) else "refused"
                ctx.store.finish_plan(plan.id, final)
                ctx.audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
                raise
            except SkillbotError as err:
                # transient (AWS unavailable, busy): the same plan may be confirmed again
                ctx.store.finish_plan(plan.id, "interrupted")
                ctx.audit_plan(plan, Outcome.FAILED, str(err), actor=actor)
                raise
            except BaseException as err:  # an internal error, or Ctrl-C in a terminal
                ctx.store.finish_plan(plan.id, "interrupted")
                what = f"internal error: {err!r}" if isinstance(err, Exception) else "interrupted"
                ctx.audit_plan(plan, Outcome.FAILED, what, actor=actor)
                raise
            change = replace(change, confirmed_by=actor)
            try:
                return ctx.record_change(change, actor, finish_plan=True, owe=self.owed)
            except SkillbotError as err:
                # AWS (or the certification) has changed: never say "retrying is safe" here
                raise AppliedNotRecorded(
                    f"The change is made ({change.headline()}), but recording it failed: "
                    f"{err.message}",
                    hint="Do not confirm again: the record and the announcement are completed "
                    "automatically once the database answers.",
                ) from err

    def _finish_abandoned(self, skill: Skill, plan: Plan) -> None:
        """Plans of ``skill`` a dead process left "applying" are finished (recorded and
        announced, or made confirmable again) before anything else moves its aliases:
        a later move would hide that AWS did change (recovery reads where aliases are)."""
        if self.on_abandoned is None:
            return
        for left in self.ctx.store.plans_in_status("applying"):
            if left.skill == skill.name and left.id != plan.id:
                log.warning(
                    "%s: finishing %s, left applying by a process that died", skill.name, left.id
                )
                self.on_abandoned(left)

    def owed(self, change: Change) -> list[OwedMessage]:
        """What a change owes Slack, owed with its record (a canary's message is the
        canary's; prune answers the person only)."""
        if change.plan.operation in (Operation.CANARY, Operation.PRUNE):
            return []
        return self.announcer.messages_for(change)

    def dismiss(self, plan_id: str, *, actor: str) -> Plan | None:
        """The plan's Cancel button: it can no longer be applied. Returns the plan, or None
        when it was already handled or is unknown."""
        ctx = self.ctx
        plan = ctx.store.get_plan(plan_id)
        if plan is None:
            return None
        try:
            ctx.access.require_operator(actor, "cancel a plan")
        except NotAuthorized as err:
            ctx.audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
            raise
        if not ctx.store.claim_plan(plan_id):
            return None
        ctx.store.finish_plan(plan_id, "dismissed")
        return plan

    # -- applying under the lock ----------------------------------------------------------
    def _apply_locked(
        self, skill: Skill, plan: Plan, actor: str, *, resumed: bool = False
    ) -> Change:
        """One loop for every plan that moves an alias: guard every placement's move,
        publish in every one, move every alias, and record the change."""
        if plan.operation is Operation.CANCEL:
            return apply_cancel(self.ctx, skill, plan, actor)
        if plan.operation is Operation.FIX:
            return apply_fix(self.ctx, skill, plan, gateway=self.gateway)
        if plan.operation is Operation.PRUNE and self.pruning is not None:
            return self.pruning.apply_locked(skill, plan, actor)
        self._check_still_valid(skill, plan)
        if plan.operation is Operation.CANARY and self.canaries is not None:
            done = self.canaries.resume(skill, plan) if resumed else None  # finish it first
            if done is not None:
                return done
            return self.canaries.start(
                skill, plan, actor, self.moves.canary_targets(skill, plan, actor)
            )
        return self.moves.apply(
            skill, plan, actor, resumed=resumed, alias_change=self._alias_change
        )

    def _check_still_valid(self, skill: Skill, plan: Plan) -> None:
        """What may have changed since the plan was shown, outside its alias: a canary
        started, the roles rotated, a certification became pending."""
        ctx = self.ctx
        if plan.operation is not Operation.CERTIFY:
            ctx.check_no_canary(skill, plan.alias, f"this {plan.operation}", plan.id)
        # A promotion since the plan swapped the roles. It is read from the audit log, not
        # the tag, to keep a Confirm at two AWS round trips; promotions only happen here.
        if ctx.last_promotion(skill) != plan.last_promotion:
            raise StalePlan(
                f"The roles rotated since this plan was shown: {plan.alias} is no longer "
                f"the {'candidate' if plan.operation is Operation.CERTIFY else 'live'} alias.",
                hint=words("Nothing was changed. Run ", plan.run, " again."),
            )
        pending = ctx.store.pending_certification(skill.name)
        if plan.operation is Operation.CERTIFY:
            rotation.check_no_pending(pending, skill.name)
        elif plan.code_sha256:
            rotation.check_not_candidate_code(plan.code_sha256, plan.to_label, pending)

    def _alias_change(
        self,
        skill: Skill,
        plan: Plan,
        from_version: str | None,
        to_version: str,
        *,
        certify: bool,
        moved: bool = True,
        actor: str = "",
    ) -> Change:
        """The change of an alias-moving plan; ``certify`` records the certification
        (with ``actor``, who confirmed it, when not the person who asked)."""
        assert plan.alias is not None
        cert = None
        if certify:
            cert = Certification(
                id=new_id(),
                skill=skill.name,
                alias=plan.alias,
                version=to_version,
                code_sha256=plan.code_sha256 or "",
                requested_by=plan.requested_by,
                note=plan.reason,
                created_at=self.ctx.clock(),
                confirmed_by=actor if actor and actor != plan.requested_by else None,
            )
            self.ctx.store.add_certification(cert)
        live = (
            plan.alias if plan.operation is not Operation.CERTIFY else skill.other_alias(plan.alias)
        )
        return Change(
            plan=plan,
            alias=plan.alias,
            from_version=from_version,
            to_version=to_version,
            code_sha256=plan.code_sha256,
            live_alias=live,
            certification=cert,
            noop=not moved and cert is None,
        )

    # -- recovery after a crash (the caller holds the skill lock) -------------------------
    def complete_interrupted(self, skill: Skill, plan: Plan) -> Change | None:
        """The change of a plan cut short by a crash, if AWS shows some placement moved:
        it is finished in every placement."""
        if plan.operation is Operation.CANARY:
            return self.canaries.resume(skill, plan) if self.canaries else None
        if not self.moves.started(plan):
            return None
        return self.moves.apply(
            skill, plan, plan.requested_by, resumed=True, alias_change=self._alias_change
        )
