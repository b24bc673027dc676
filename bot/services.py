"""The operations of the rotation (SPEC §2) as one service over the ports.

Every mutating operation is two steps: ``plan_*`` reads AWS and the store, checks the
guards and saves a :class:`Plan` (nothing changes); :meth:`RotationService.apply`
applies a saved plan exactly once, under the skill's lock, and refuses a plan that
has gone stale. ``promote`` has no plan: the approver's reaction is the confirmation::

    plan = service.plan_hotfix("trivia", actor="U0ALICE", reason="crash on launch")
    change = service.apply(plan.id, actor="U0ALICE")
    change.headline()  # 'trivia: hotfix PROD1 v7 → v8 by <@U0ALICE> — crash on launch'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain import rotation
from bot.domain.errors import NotAuthorized, NotFound, Refused, SkillbotError, StalePlan
from bot.domain.model import (
    LATEST,
    AliasState,
    AuditEvent,
    Certification,
    CertificationState,
    Change,
    FixKind,
    Operation,
    Outcome,
    Plan,
    Roles,
    Skill,
    Version,
    new_id,
    version_label,
)
from bot.ports import Clock, LambdaPort, Store

log = logging.getLogger(__name__)


class AlreadyHandled(Refused):
    """A plan confirmed a second time (double click, another replica): nothing more happens."""


@dataclass(frozen=True)
class AccessPolicy:
    """Who may do what (skills file ``operators`` and ``approvers``)."""

    operators: frozenset[str]
    approvers: frozenset[str]

    def require_operator(self, actor: str, what: str) -> None:
        if actor not in self.operators:
            raise NotAuthorized(
                f"Only operators may {what}.",
                hint="Ask one of " + _mentions(self.operators) + ".",
            )

    def require_approver(self, actor: str, what: str) -> None:
        if actor not in self.approvers:
            raise NotAuthorized(
                f"Only approvers may {what}.",
                hint="Ask one of " + _mentions(self.approvers) + ".",
            )


def _mentions(users: frozenset[str]) -> str:
    return ", ".join(f"<@{u}>" for u in sorted(users)) or "(nobody is configured)"


@dataclass(frozen=True)
class AliasView:
    name: str
    role: str
    state: AliasState | None
    version: Version | None
    last_change: AuditEvent | None


@dataclass(frozen=True)
class StatusView:
    skill: Skill
    roles: Roles
    aliases: list[AliasView]
    pending: Certification | None
    now: datetime


@dataclass(frozen=True)
class DoctorReport:
    skill: Skill
    findings: list[rotation.Finding]
    fixes: list[Plan] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(f.ok for f in self.findings)


class RotationService:
    """Plans and applies rotations of the skills it is given."""

    def __init__(
        self,
        skills: dict[str, Skill],
        lambda_: LambdaPort,
        store: Store,
        access: AccessPolicy,
        clock: Clock,
        lock_timeout: float = 15.0,
    ) -> None:
        self.skills = skills
        self.lambda_ = lambda_
        self.store = store
        self.access = access
        self.clock = clock
        self.lock_timeout = lock_timeout
        #: runs under the lock before the roles swap; raising keeps the roles (SMAPI publish)
        self.before_promotion: Callable[[Certification], None] | None = None
        #: the endpoints the live Alexa skill calls, for doctor's drift check (SMAPI)
        self.live_endpoints: Callable[[Skill], list[str] | None] | None = None

    # -- reading -------------------------------------------------------------
    def skill(self, name: str) -> Skill:
        try:
            return self.skills[name]
        except KeyError:
            raise NotFound(
                f"There is no skill called {name!r}.",
                hint="Known skills: " + ", ".join(sorted(self.skills)) + ".",
            ) from None

    def roles(self, skill: Skill) -> Roles:
        return rotation.resolve_roles(skill, self.lambda_.read_live_alias(skill.function))

    def status(self, name: str) -> StatusView:
        skill = self.skill(name)
        roles = self.roles(skill)
        views = []
        for alias in skill.aliases:
            state = self.lambda_.get_alias(skill.function, alias)
            version = (
                self.lambda_.get_version(skill.function, state.version)
                if state and state.version != LATEST
                else None
            )
            moves = self.store.alias_moves(skill.name, alias, limit=1)
            role = "live" if alias == roles.live_alias else "candidate"
            views.append(AliasView(alias, role, state, version, moves[0] if moves else None))
        return StatusView(
            skill, roles, views, self.store.pending_certification(skill.name), self.clock()
        )

    def history(self, name: str, limit: int = 20) -> list[AuditEvent]:
        return self.store.audit(self.skill(name).name, limit)

    # -- planning ------------------------------------------------------------
    def plan_hotfix(
        self, name: str, *, actor: str, reason: str = "", version: str | None = None
    ) -> Plan:
        """Live alias → ``version``, or → a version newly published from ``$LATEST``."""
        return self._planning(name, Operation.HOTFIX, actor, reason, version)

    def plan_certify(
        self, name: str, *, actor: str, reason: str = "", version: str | None = None
    ) -> Plan:
        """Candidate alias → ``version`` or a new version; records a pending certification."""
        return self._planning(name, Operation.CERTIFY, actor, reason, version)

    def plan_rollback(
        self, name: str, *, actor: str, reason: str = "", version: str | None = None
    ) -> Plan:
        """Live alias → its previous version (from the audit log) or ``version``."""
        return self._planning(name, Operation.ROLLBACK, actor, reason, version)

    def plan_cancel(self, name: str, *, actor: str, reason: str = "") -> Plan:
        """Cancel the pending certification; reminders stop. No AWS change."""
        return self._planning(name, Operation.CANCEL, actor, reason, None)

    def _planning(
        self, name: str, op: Operation, actor: str, reason: str, version: str | None
    ) -> Plan:
        skill = self.skill(name)
        try:
            self.access.require_operator(actor, str(op))
            plan = self._make_plan(skill, op, actor, reason, version)
        except SkillbotError as err:
            self._audit(skill.name, str(op), _outcome_of(err), actor, reason, detail=str(err))
            raise
        self.store.save_plan(plan)
        self._audit_plan(plan, Outcome.PLANNED, plan.summary())
        return plan

    def _make_plan(
        self, skill: Skill, op: Operation, actor: str, reason: str, version: str | None
    ) -> Plan:
        pending = self.store.pending_certification(skill.name)
        now = self.clock()
        base = dict(
            id=new_id(),
            skill=skill.name,
            operation=op,
            requested_by=actor,
            reason=reason,
            created_at=now,
        )
        if op is Operation.CANCEL:
            if pending is None:
                raise Refused(
                    f"{skill.name} has no pending certification to cancel.",
                    hint=f"`/skill status {skill.name}` shows what is live and pending.",
                )
            return Plan(
                alias=pending.alias,
                from_version=pending.version,
                to_version=pending.version,
                code_sha256=pending.code_sha256,
                code_last_modified=None,
                revision_id=None,
                certification_id=pending.id,
                **base,  # type: ignore[arg-type]
            )
        roles = self.roles(skill)
        alias = roles.candidate_alias if op is Operation.CERTIFY else roles.live_alias
        if op is Operation.CERTIFY:
            rotation.check_no_pending(pending, skill.name)
        current = rotation.require_alias(
            self.lambda_.get_alias(skill.function, alias), skill, alias
        )
        if op is Operation.ROLLBACK and version is None:
            version = rotation.previous_version(
                current.version, self.store.alias_moves(skill.name, alias)
            )
            if version is None:
                raise Refused(
                    f"No earlier version of {alias} is on record.",
                    hint=f"Name one: `/skill rollback {skill.name} VERSION`; recent versions: "
                    + self._recent_versions(skill)
                    + ".",
                )
        if version is not None:
            version = version.lstrip("vV")
            rotation.check_published(version, alias)
            target = self.lambda_.get_version(skill.function, version)
            if target is None:
                raise NotFound(
                    f"{skill.function} has no version {version}.",
                    hint="Recent versions: " + self._recent_versions(skill) + ".",
                )
            sha, modified, to_version = target.code_sha256, target.last_modified, target.number
            label = version_label(version)
        else:
            latest = self.lambda_.get_latest(skill.function)
            sha, modified, to_version, label = (
                latest.code_sha256,
                latest.last_modified,
                None,
                "the code in $LATEST",
            )
        if op is not Operation.CERTIFY:
            rotation.check_not_candidate_code(sha, label, pending)
        noop = to_version == current.version and not current.routing
        if to_version is None and op is not Operation.CERTIFY:
            on_alias = self.lambda_.get_version(skill.function, current.version)
            noop = on_alias is not None and on_alias.code_sha256 == sha and not current.routing
            if noop:
                to_version = current.version
        return Plan(
            alias=alias,
            from_version=current.version,
            to_version=to_version,
            code_sha256=sha,
            code_last_modified=modified,
            revision_id=current.revision_id,
            noop=noop and op is not Operation.CERTIFY,
            last_promotion=self._last_promotion(skill),
            **base,  # type: ignore[arg-type]
        )

    def _last_promotion(self, skill: Skill) -> str | None:
        event = self.store.last_event(skill.name, "promote", Outcome.APPLIED)
        return event.id if event else None

    def _recent_versions(self, skill: Skill) -> str:
        versions = sorted(
            (v.number for v in self.lambda_.list_versions(skill.function)), key=int, reverse=True
        )
        return ", ".join(versions[:8]) or "none published yet"

    def doctor(self, name: str, *, actor: str) -> DoctorReport:
        """Check the skill's setup; every finding with a fix gets a saved plan."""
        skill = self.skill(name)
        recorded = self.lambda_.read_live_alias(skill.function)
        roles = rotation.resolve_roles(skill, recorded)
        aliases = {a: self.lambda_.get_alias(skill.function, a) for a in skill.aliases}
        triggers = {
            a: self.lambda_.alexa_triggers(skill.function, a) for a in skill.aliases if aliases[a]
        }
        newest = None
        if not all(aliases.values()):
            numbers = [int(v.number) for v in self.lambda_.list_versions(skill.function)]
            newest = str(max(numbers)) if numbers else None
        findings = rotation.diagnose(skill, roles, recorded, aliases, triggers, newest)
        if self.live_endpoints is not None:
            findings.append(
                rotation.endpoint_drift(
                    skill,
                    roles,
                    self.live_endpoints(skill),
                    {a: self.lambda_.alias_arn(skill.function, a) for a in skill.aliases},
                )
            )
        fixes = []
        for finding in findings:
            if finding.fix is None:
                continue
            state = aliases.get(finding.alias or "")
            plan = rotation.fix_plan(
                finding, skill, actor, self.clock(), new_id(), state.revision_id if state else None
            )
            if state is not None:
                plan = plan.with_(from_version=state.version, to_version=state.version)
            self.store.save_plan(plan)
            fixes.append(plan)
        self._audit(
            skill.name,
            "doctor",
            Outcome.PLANNED,
            actor,
            "",
            detail=f"{sum(not f.ok for f in findings)} problem(s), {len(fixes)} fix(es) offered",
        )
        return DoctorReport(skill, findings, fixes)

    # -- applying ------------------------------------------------------------
    def apply(
        self, plan_id: str, *, actor: str, on_claimed: Callable[[Plan], None] | None = None
    ) -> Change:
        """Apply a saved plan once. A second call (double click, other replica) is refused.

        ``on_claimed`` runs once this call owns the plan, before AWS is touched (progress).
        """
        plan = self.store.get_plan(plan_id)
        if plan is None:
            raise NotFound(
                "This plan is not known (it may come from another installation).",
                hint="Run the command again to get a new plan.",
            )
        try:
            self.access.require_operator(actor, f"confirm a {plan.operation}")
        except NotAuthorized as err:
            self._audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
            raise
        skill = self.skill(plan.skill)
        # Claim, apply and record under the skill's lock: a plan seen "applying" by
        # someone who holds the lock was abandoned by a dead process (see bot.recovery).
        with self.store.skill_lock(skill.name, self.lock_timeout):
            # a plan whose last attempt was cut short may have changed AWS already
            resumed = self.store.plan_status(plan.id) == "interrupted"
            if not self.store.claim_plan(plan.id):
                status = self.store.plan_status(plan.id)
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
                self.store.finish_plan(plan.id, final)
                self._audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
                raise
            except SkillbotError as err:
                # transient (AWS unavailable, busy): the same plan may be confirmed again
                self.store.finish_plan(plan.id, "interrupted")
                self._audit_plan(plan, Outcome.FAILED, str(err), actor=actor)
                raise
            except Exception as err:
                self.store.finish_plan(plan.id, "interrupted")
                self._audit_plan(plan, Outcome.FAILED, f"internal error: {err!r}", actor=actor)
                raise
            return self._record_change(change, actor, finish_plan=True)

    def _record_change(self, change: Change, actor: str, *, finish_plan: bool = False) -> Change:
        """Audit an applied change (and finish its plan, atomically); the audit id lets the
        announcement be claimed exactly once."""
        plan = change.plan
        audit_id = self._audit_plan(
            plan.with_(from_version=change.from_version, to_version=change.to_version),
            Outcome.NOOP if change.noop else Outcome.APPLIED,
            change.headline(),
            actor=actor,
            plan_status=("noop" if change.noop else "applied") if finish_plan else None,
        )
        return replace(change, audit_id=audit_id)

    def dismiss(self, plan_id: str, *, actor: str) -> bool:
        """The plan's Cancel button: it can no longer be applied."""
        plan = self.store.get_plan(plan_id)
        if plan is None:
            return False
        try:
            self.access.require_operator(actor, "cancel a plan")
        except NotAuthorized as err:
            self._audit_plan(plan, Outcome.REFUSED, str(err), actor=actor)
            raise
        if not self.store.claim_plan(plan_id):
            return False
        self.store.finish_plan(plan_id, "dismissed")
        return True

    def _apply_locked(
        self, skill: Skill, plan: Plan, actor: str, *, resumed: bool = False
    ) -> Change:
        if plan.operation is Operation.CANCEL:
            return self._apply_cancel(skill, plan, actor)
        if plan.operation is Operation.FIX:
            return self._apply_fix(skill, plan)
        # A promotion since the plan swapped the roles. It is read from the audit log, not
        # the tag, to keep a hotfix at four AWS calls; promotions only happen through here.
        if self._last_promotion(skill) != plan.last_promotion:
            raise StalePlan(
                f"The roles rotated since this plan was shown: {plan.alias} is no longer "
                f"the {'candidate' if plan.operation is Operation.CERTIFY else 'live'} alias.",
                hint=f"Nothing was changed. Run `/skill {plan.operation} {skill.name}` again.",
            )
        assert plan.alias is not None
        current = rotation.require_alias(
            self.lambda_.get_alias(skill.function, plan.alias), skill, plan.alias
        )
        try:
            rotation.check_fresh(plan, current)
        except StalePlan:
            done = self._already_done(skill, plan, current) if resumed else None
            if done is None:
                raise
            return done
        pending = self.store.pending_certification(skill.name)
        if plan.operation is Operation.CERTIFY:
            rotation.check_no_pending(pending, skill.name)
        elif plan.code_sha256:
            rotation.check_not_candidate_code(plan.code_sha256, plan.to_label, pending)
        target = plan.to_version
        if plan.publishes:
            assert plan.code_sha256 is not None
            latest = self.lambda_.wait_until_updated(skill.function)
            if latest.code_sha256 != plan.code_sha256:
                raise StalePlan(
                    f"The code in $LATEST changed since this plan was shown "
                    f"({plan.code_sha256[:12]}… → {latest.code_sha256[:12]}…).",
                    hint=f"Nothing was published. Run `/skill {plan.operation} {skill.name}` "
                    "again to see the new code.",
                )
            published = self.lambda_.publish_version(
                skill.function,
                plan.code_sha256,
                f"skillbot {plan.operation} by {actor}: {plan.reason}".strip(": "),
            )
            target = published.number
        assert target is not None
        rotation.check_published(target, plan.alias)
        if target != current.version or current.routing:
            self.lambda_.update_alias(
                skill.function,
                plan.alias,
                target,
                current.revision_id,
                clear_routing=bool(current.routing),
            )
        moved = target != current.version or bool(current.routing)
        return self._alias_change(
            skill,
            plan,
            current.version,
            target,
            certify=plan.operation is Operation.CERTIFY,
            moved=moved,
        )

    def _alias_change(
        self,
        skill: Skill,
        plan: Plan,
        from_version: str | None,
        to_version: str,
        *,
        certify: bool,
        moved: bool = True,
    ) -> Change:
        """The change of an alias-moving plan; ``certify`` records the certification."""
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
                created_at=self.clock(),
            )
            self.store.add_certification(cert)
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

    def _already_done(self, skill: Skill, plan: Plan, current: AliasState) -> Change | None:
        """The alias already serves the plan's code: an earlier attempt of this plan moved
        it and the answer was lost (timeout, crash). Complete the record instead of
        refusing, so a retry converges."""
        assert plan.alias is not None
        if plan.to_version is not None:
            done = current.version == plan.to_version
        else:
            serving = self.lambda_.get_version(skill.function, current.version)
            done = serving is not None and serving.code_sha256 == plan.code_sha256
        if not done:
            return None
        certify = (
            plan.operation is Operation.CERTIFY
            and self.store.pending_certification(skill.name) is None
        )
        return self._alias_change(skill, plan, plan.from_version, current.version, certify=certify)

    def _apply_cancel(self, skill: Skill, plan: Plan, actor: str) -> Change:
        assert plan.certification_id is not None
        cert = self.store.get_certification(plan.certification_id)
        if cert is None or not self.store.end_certification(
            cert.id, CertificationState.CANCELLED, actor, self.clock()
        ):
            raise StalePlan(
                "That certification is no longer pending.",
                hint=f"`/skill status {skill.name}` shows the current state.",
            )
        ended = self.store.get_certification(cert.id)
        return Change(
            plan=plan,
            alias=cert.alias,
            from_version=cert.version,
            to_version=cert.version,
            code_sha256=cert.code_sha256,
            live_alias=self.roles(skill).live_alias,
            certification=ended,
        )

    def _apply_fix(self, skill: Skill, plan: Plan) -> Change:
        alias = plan.alias
        assert alias is not None and plan.fix is not None
        roles = self.roles(skill)
        state = self.lambda_.get_alias(skill.function, alias)
        if plan.fix is FixKind.CREATE_ALIAS:
            if state is not None and state.version == plan.to_version:
                return self._fix_change(plan, roles, noop=True)  # created by a lost attempt
            if state is not None:
                raise StalePlan(
                    f"{alias} exists now.", hint=f"Run `/skill doctor {skill.name}` again."
                )
            assert plan.to_version is not None
            rotation.check_published(plan.to_version, alias)
            self.lambda_.create_alias(skill.function, alias, plan.to_version)
        elif plan.fix is FixKind.ADD_TRIGGER:
            rotation.require_alias(state, skill, alias)
            triggers = self.lambda_.alexa_triggers(skill.function, alias)
            ours = self.lambda_.alexa_trigger_id(alias)
            if any(t.skill_id == skill.alexa_skill_id or t.statement_id == ours for t in triggers):
                return self._fix_change(plan, roles, noop=True)  # e.g. added by a lost attempt
            self.lambda_.add_alexa_trigger(skill.function, alias, skill.alexa_skill_id)
        elif plan.fix is FixKind.CLEAR_ROUTING:
            current = rotation.require_alias(state, skill, alias)
            rotation.check_fresh(plan, current)
            self.lambda_.update_alias(
                skill.function, alias, current.version, current.revision_id, clear_routing=True
            )
        elif plan.fix is FixKind.RECORD_ROLES:
            recorded = self.lambda_.read_live_alias(skill.function)
            if recorded in skill.aliases:
                return self._fix_change(plan, roles, noop=True)
            self.lambda_.write_live_alias(skill.function, alias)
        return self._fix_change(plan, roles, noop=False)

    @staticmethod
    def _fix_change(plan: Plan, roles: Roles, *, noop: bool) -> Change:
        return Change(
            plan=plan,
            alias=plan.alias,
            from_version=plan.from_version,
            to_version=plan.to_version,
            code_sha256=None,
            live_alias=roles.live_alias,
            noop=noop,
        )

    # -- promotion -----------------------------------------------------------
    def promote(
        self,
        name: str | None = None,
        *,
        actor: str,
        certification_id: str | None = None,
        reason: str = "",
    ) -> Change:
        """Swap the roles: the certified candidate becomes live. No alias moves.

        Idempotent: promoting an already promoted certification changes nothing.
        """
        cert = (
            self.store.get_certification(certification_id)
            if certification_id
            else self.store.pending_certification(self.skill(name or "").name)
        )
        skill_name = cert.skill if cert else self.skill(name or "").name
        try:
            self.access.require_approver(actor, "promote")
            if cert is None:
                raise Refused(
                    f"{skill_name} has no pending certification to promote.",
                    hint=f"Start one with `/skill certify {skill_name}`.",
                )
            skill = self.skill(cert.skill)
            with self.store.skill_lock(skill.name, self.lock_timeout):
                change = self._promote_locked(skill, cert, actor, reason)
                return self._record_change(change, actor)
        except SkillbotError as err:
            self._audit(skill_name, "promote", _outcome_of(err), actor, reason, detail=str(err))
            raise

    def _promote_locked(self, skill: Skill, cert: Certification, actor: str, reason: str) -> Change:
        plan = Plan(
            id=new_id(),
            skill=skill.name,
            operation=Operation.PROMOTE,
            alias=cert.alias,
            from_version=None,
            to_version=cert.version,
            code_sha256=cert.code_sha256,
            code_last_modified=None,
            revision_id=None,
            requested_by=actor,
            reason=reason,
            created_at=self.clock(),
            certification_id=cert.id,
        )
        fresh = self.store.get_certification(cert.id)
        roles = self.roles(skill)
        if fresh is None or fresh.state is not CertificationState.PENDING:
            if fresh is not None and fresh.state is CertificationState.PROMOTED:
                return Change(
                    plan=plan,
                    alias=cert.alias,
                    from_version=None,
                    to_version=cert.version,
                    code_sha256=cert.code_sha256,
                    live_alias=roles.live_alias,
                    certification=fresh,
                    noop=True,
                )
            raise Refused(
                "That certification was cancelled; there is nothing to promote.",
                hint=f"Start a new one with `/skill certify {skill.name}`.",
            )
        old_live = roles.live_alias
        old_live_state = self.lambda_.get_alias(skill.function, old_live)
        if roles.live_alias != cert.alias:
            candidate = rotation.require_alias(
                self.lambda_.get_alias(skill.function, cert.alias), skill, cert.alias
            )
            if candidate.version != cert.version:
                raise Refused(
                    f"{cert.alias} now serves {version_label(candidate.version)}, not the "
                    f"certified {version_label(cert.version)}; promoting would put "
                    "uncertified code live.",
                    hint=f"Move {cert.alias} back to {version_label(cert.version)}, or cancel "
                    "and certify again.",
                )
            # a trace first, then the tag: if we crash before the database write,
            # recovery (or promoting again) finds the roles swapped and completes the record
            self.store.mark_promoting(cert.id, self.clock())
            try:
                if self.before_promotion is not None:
                    self.before_promotion(cert)
                self.lambda_.write_live_alias(skill.function, cert.alias)
            except SkillbotError:
                self.store.mark_promoting(cert.id, None)
                raise
        else:
            old_live = skill.other_alias(cert.alias)
            old_live_state = self.lambda_.get_alias(skill.function, old_live)
        self.store.end_certification(cert.id, CertificationState.PROMOTED, actor, self.clock())
        return Change(
            plan=plan,
            alias=cert.alias,
            from_version=old_live_state.version if old_live_state else None,
            to_version=cert.version,
            code_sha256=cert.code_sha256,
            live_alias=cert.alias,
            previous_live_alias=old_live,
            certification=self.store.get_certification(cert.id),
        )

    # -- recovery after a crash (the caller holds the skill lock) -------------------
    def complete_interrupted(self, skill: Skill, plan: Plan, current: AliasState) -> Change | None:
        """The change of a plan cut short by a crash, if AWS already shows it."""
        return self._already_done(skill, plan, current)

    def record_recovered(self, change: Change) -> Change:
        return self._record_change(change, change.plan.requested_by, finish_plan=True)

    def record_interruption(self, plan: Plan) -> None:
        self._audit_plan(
            plan,
            Outcome.FAILED,
            "interrupted by a restart before AWS changed; confirm the plan again",
        )

    def complete_promotion(self, skill: Skill, cert: Certification, actor: str) -> Change:
        """Finish a promotion whose role tag was written but whose record was not."""
        change = self._promote_locked(skill, cert, actor, "completed after a restart")
        return self._record_change(change, actor)

    # -- audit -----------------------------------------------------------------
    def record_refusal(self, skill: str, operation: str, actor: str, detail: str) -> None:
        """Audit an attempt refused before reaching the service (e.g. a stranger's reaction)."""
        self._audit(skill, operation, Outcome.REFUSED, actor, "", detail=detail)

    def _audit_plan(
        self,
        plan: Plan,
        outcome: Outcome,
        detail: str,
        actor: str | None = None,
        plan_status: str | None = None,
    ) -> str:
        return self._audit(
            plan.skill,
            str(plan.operation) if plan.fix is None else f"fix:{plan.fix}",
            outcome,
            actor or plan.requested_by,
            plan.reason,
            alias=plan.alias,
            from_version=plan.from_version,
            to_version=plan.to_version,
            detail=detail,
            plan_id=plan.id,
            plan_status=plan_status,
        )

    def _audit(
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
    ) -> str:
        event_id = new_id()
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
        )
        return event_id


def _outcome_of(err: SkillbotError) -> Outcome:
    return (
        Outcome.REFUSED
        if isinstance(err, (Refused, NotAuthorized, NotFound, StalePlan))
        else (Outcome.FAILED)
    )
