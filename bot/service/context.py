"""What every use case shares: the configured skills, their roles, and the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.domain import rotation
from bot.domain.canary import Canary
from bot.domain.errors import NotAuthorized, NotFound, Refused, SkillbotError, StalePlan
from bot.domain.model import AuditEvent, Change, Outcome, Plan, Roles, Skill, new_id
from bot.ports import CanaryBook, Clock, LambdaPort, OwedMessage, Store
from bot.service.access import AccessPolicy


def outcome_of(err: SkillbotError) -> Outcome:
    """How the audit log records an error: a refusal (the user's to fix) or a failure."""
    if isinstance(err, (Refused, NotAuthorized, NotFound, StalePlan)):
        return Outcome.REFUSED
    return Outcome.FAILED


@dataclass
class RotationContext:
    """The ports and settings the rotation's use cases are built over."""

    skills: dict[str, Skill]
    lambda_: LambdaPort
    store: Store
    access: AccessPolicy
    clock: Clock
    lock_timeout: float = 15.0
    canaries: CanaryBook | None = None
    #: the skills file's ``timezone``: freeze windows are read in it
    timezone: str = "UTC"

    # -- skills and roles -------------------------------------------------------------
    def skill(self, name: str) -> Skill:
        try:
            return self.skills[name]
        except KeyError:
            raise NotFound(
                f"There is no skill called {name!r}.",
                hint="Known skills: " + ", ".join(sorted(self.skills)) + ".",
            ) from None

    def roles(self, skill: Skill) -> Roles:
        return rotation.resolve_roles(
            skill, self.lambda_.read_live_alias(skill.placements[0].function)
        )

    def active_canary(self, skill: Skill) -> Canary | None:
        return self.canaries.active(skill.name) if self.canaries is not None else None

    def check_no_canary(
        self, skill: Skill, alias: str | None, doing: str, plan_id: str = ""
    ) -> None:
        """Refuse ``doing`` while a canary (other than ``plan_id``'s) runs on ``alias``."""
        canary = self.active_canary(skill)
        if canary is not None and canary.plan_id != plan_id:
            rotation.check_no_canary(canary, alias, doing)

    def check_may_change(self, skill: Skill) -> None:
        """Refuse any change while a person has locked the skill (``/skill lock``) or
        inside one of its freeze windows."""
        rotation.check_unlocked(self.store.lock_of(skill.name))
        rotation.check_not_frozen(skill, self.clock(), self.timezone)

    def may_change(self, skill: Skill, actor: str, *, override: bool, reason: str) -> str | None:
        """:meth:`check_may_change`, or with ``override`` (approvers, with a reason) what
        the change goes past: the lock or window, or None when nothing is in the way."""
        try:
            self.check_may_change(skill)
        except Refused as err:
            if not override:
                raise
            self.access.require_approver(actor, "make a change past a lock or a freeze")
            return rotation.overridden(err, reason)
        return None

    def last_promotion(self, skill: Skill) -> str | None:
        event = self.store.last_event(skill.name, "promote", Outcome.APPLIED)
        return event.id if event else None

    def recent_versions(self, skill: Skill) -> str:
        versions = sorted(
            (v.number for v in self.lambda_.list_versions(skill.placements[0].function)),
            key=int,
            reverse=True,
        )
        return ", ".join(versions[:8]) or "none published yet"

    # -- the audit trail ----------------------------------------------------------------
    def audit(
        self,
        skill: str,
        operation: str,
        outcome: Outcome,
        actor: str,
        reason: str,
        *,
        alias: str | None = None,
        from_version: str | None = None,
        to_version: str | None = None,
        detail: str = "",
        plan_id: str | None = None,
        plan_status: str | None = None,
        event_id: str | None = None,
        owe: Sequence[OwedMessage] = (),
    ) -> str:
        r"""Record one attempt; returns its id. ``plan_status`` finishes the plan with it,
        and the messages it ``owe``\ s are owed with it."""
        event_id = event_id or new_id()
        self.store.add_audit(
            AuditEvent(
                id=event_id,
                at=self.clock(),
                skill=skill,
                operation=operation,
                outcome=outcome,
                actor=actor,
                reason=reason,
                alias=alias,
                from_version=from_version,
                to_version=to_version,
                detail=detail[:2000],
                plan_id=plan_id,
            ),
            plan_status=plan_status,
            owe=owe,
        )
        return event_id

    def audit_plan(
        self,
        plan: Plan,
        outcome: Outcome,
        detail: str,
        actor: str | None = None,
        plan_status: str | None = None,
        change: Change | None = None,
        event_id: str | None = None,
        owe: Sequence[OwedMessage] = (),
    ) -> str:
        """Audit an event of ``plan`` (with the versions ``change`` moved between, if given)."""
        moved = change or plan
        return self.audit(
            plan.skill,
            str(plan.operation) if plan.fix is None else f"fix:{plan.fix}",
            outcome,
            actor or plan.requested_by,
            plan.reason,
            alias=plan.alias,
            from_version=moved.from_version,
            to_version=moved.to_version,
            detail=detail,
            plan_id=plan.id,
            plan_status=plan_status,
            event_id=event_id,
            owe=owe,
        )

    def record_change(
        self,
        change: Change,
        actor: str,
        *,
        finish_plan: bool = False,
        owe: Callable[[Change], Sequence[OwedMessage]] | None = None,
    ) -> Change:
        r"""Audit an applied change (and finish its plan), with the messages it ``owe``\ s,
        in one transaction: the audit id is the announcement's idempotency key."""
        plan = change.plan
        change = replace(change, audit_id=new_id())
        audit_id = self.audit_plan(
            plan,
            Outcome.NOOP if change.noop else Outcome.APPLIED,
            change.headline(),
            actor=actor,
            plan_status=("noop" if change.noop else "applied") if finish_plan else None,
            change=change,
            event_id=change.audit_id,
            owe=owe(change) if owe and not change.noop else (),
        )
        return replace(change, audit_id=audit_id)

    def record_refusal(self, skill: str, operation: str, actor: str, detail: str) -> None:
        """Audit an attempt refused before reaching a use case (e.g. a stranger's reaction)."""
        self.audit(skill, operation, Outcome.REFUSED, actor, "", detail=detail)
