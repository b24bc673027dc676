"""Plans: what a hotfix, certify, rollback or cancel would change, checked and saved
before anything moves; and doctor, whose findings come with fix plans::

    planning = Planning(ctx, moves=Moves(ctx, pool), stage_targets=EndpointBook(lam).targets)
    plan = planning.plan("hotfix", "trivia", actor="U0ALICE", reason="crash on launch")
    plan.summary()   # 'hotfix trivia: PROD1 v7 → a new version from $LATEST'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field

from bot.domain import actors, provenance, rotation
from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import StageTarget, live_stage_drift
from bot.domain.errors import NotFound, Refused, SkillbotError
from bot.domain.model import Move, Operation, Outcome, Plan, Skill, new_id, version_label
from bot.domain.regions import aws_region_of
from bot.domain.words import Run, words
from bot.service.context import RotationContext, outcome_of
from bot.service.doctor import at, placement_findings, storage_finding
from bot.service.gateway import GatewayChecks
from bot.service.moves import Moves

#: what the live Alexa skill calls, place by place (None: never published), for the drift check
LiveEndpoints = Callable[[Skill], SkillEndpoints | None]
#: what a stage must call for each alias of a skill, place by place (default and regions)
StageTargets = Callable[[Skill], Mapping[str, StageTarget]]

#: the operations :meth:`Planning.plan` plans
PLANNED = (
    Operation.HOTFIX,
    Operation.CERTIFY,
    Operation.ROLLBACK,
    Operation.CANCEL,
    Operation.CANARY,
)

#: where a function is looked for, in words ("in region us-east-1, account 1234…")
FunctionLocation = Callable[[str], str]


@dataclass(frozen=True)
class DoctorReport:
    skill: Skill
    findings: list[rotation.Finding]
    fixes: list[Plan] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def outcome(self) -> str:
        """``"2 problem(s) found"``, ``"all checks passed"``, or ``"no problem found,
        1 check could not run"``: never a pass for a check that did not run."""
        problems = sum(not f.ok for f in self.findings)
        unchecked = sum(not f.checked for f in self.findings)
        if problems:
            found = f"{problems} problem(s) found"
            return found + (f", {unchecked} check(s) could not run" if unchecked else "")
        if unchecked:
            return f"no problem found, {unchecked} check(s) could not run"
        return "all checks passed"


@dataclass(eq=False)
class Planning:
    ctx: RotationContext
    _: KW_ONLY
    moves: Moves
    stage_targets: StageTargets
    live_endpoints: LiveEndpoints | None = None
    #: the API Gateway variant's checks (integrations and permissions)
    gateway: GatewayChecks | None = None
    function_location: FunctionLocation | None = None

    def plan(
        self,
        operation: Operation | str,
        name: str,
        *,
        actor: str,
        reason: str = "",
        version: str | None = None,
        run_url: str | None = None,
        weight: float | None = None,
        seconds: int | None = None,
        override: bool = False,
        commit: str | None = None,
        repo: str | None = None,
    ) -> Plan:
        """A saved plan of ``operation`` on skill ``name``:

        - hotfix: live alias → ``version``, or → a version newly published from ``$LATEST``;
        - certify: candidate alias → ``version`` or a new version, pending certification;
        - rollback: live alias → its previous version (from the audit log) or ``version``;
        - cancel: the pending certification ends, reminders stop (no AWS change);
        - canary: the live alias keeps its version and sends ``weight`` of traffic to
          ``version`` (or new code) for ``seconds``.

        ``override``: an approver's change past a lock or a freeze window (with a reason).
        ``commit``/``repo``: where new code came from (a GitHub pipeline names the repo).

        ``run_url`` links the pipeline run that asks (``actor`` is then the pipeline)."""
        op = Operation(operation)
        if op not in PLANNED:
            raise ValueError(f"{op} is not planned here")
        extra = (
            {"canary_weight": weight, "canary_seconds": seconds} if op is Operation.CANARY else {}
        )
        built = provenance.checked(commit, repo or actors.github_repo(actor) if commit else repo)
        return self._planning(
            name, op, actor, reason, version, run_url, override, built=built, **extra
        )

    def canary_choice(self, hotfix: Plan, *, weight: float, seconds: int) -> Plan | None:
        """The hotfix plan's "Canary" twin: same code and revision, saved beside it.
        Whichever is confirmed first moves the alias, so the other one goes stale."""
        if hotfix.noop or hotfix.operation is not Operation.HOTFIX:
            return None
        plan = hotfix.with_(
            id=new_id(), operation=Operation.CANARY, canary_weight=weight, canary_seconds=seconds
        )
        self.ctx.store.save_plan(plan)
        return plan

    def _planning(
        self,
        name: str,
        op: Operation,
        actor: str,
        reason: str,
        version: str | None,
        run_url: str | None = None,
        override: bool = False,
        built: provenance.Provenance | None = None,
        **extra: object,
    ) -> Plan:
        ctx = self.ctx
        skill = ctx.skill(name)
        try:
            ctx.access.require_planner(actor, str(op))
            past = ctx.may_change(skill, actor, override=override, reason=reason)
            plan = self._make_plan(skill, op, actor, reason, version).with_(**extra, override=past)
            if op is Operation.CANARY and (plan.noop or plan.to_version == plan.from_version):
                raise Refused(
                    f"{plan.alias} already serves this code; a canary has nothing to try.",
                    hint="Deploy new code to $LATEST, or name another version.",
                )
        except SkillbotError as err:
            ctx.audit(skill.name, str(op), outcome_of(err), actor, reason, detail=str(err))
            raise
        if run_url:
            plan = plan.with_(run_url=run_url)
        if op is not Operation.CANCEL:
            plan = self._with_provenance(skill, plan, built)
        ctx.store.save_plan(plan)
        ctx.audit_plan(plan, Outcome.PLANNED, plan.summary())
        return plan

    def _with_provenance(
        self, skill: Skill, plan: Plan, built: provenance.Provenance | None
    ) -> Plan:
        """Where the code on each side came from: ``built`` (new code) or what a version's
        description says (read back from Lambda, so it survives the database)."""
        function = skill.placements[0].function

        def of(version: str | None) -> provenance.Provenance | None:
            if version is None or not version.isdigit():
                return None
            found = self.ctx.lambda_.get_version(function, version)
            return provenance.provenance_of(found.description) if found else None

        new = built or of(plan.to_version)
        return plan.with_(provenance=new, from_provenance=of(plan.from_version))

    def _make_plan(
        self, skill: Skill, op: Operation, actor: str, reason: str, version: str | None
    ) -> Plan:
        ctx = self.ctx
        pending = ctx.store.pending_certification(skill.name)
        base = dict(
            id=new_id(),
            skill=skill.name,
            operation=op,
            requested_by=actor,
            reason=reason,
            created_at=ctx.clock(),
        )
        if op is Operation.CANCEL:
            if pending is None:
                raise Refused(
                    f"{skill.name} has no pending certification to cancel.",
                    hint=words(Run("status", skill.name), " shows what is live and pending."),
                )
            first = skill.placements[0]
            move = Move(
                first.region, first.function, pending.version, pending.version, pending.code_sha256
            )
            return Plan(
                alias=pending.alias,
                moves=(move,),
                certification_id=pending.id,
                **base,  # type: ignore[arg-type]
            )
        roles = ctx.roles(skill)
        alias = roles.candidate_alias if op is Operation.CERTIFY else roles.live_alias
        if op is not Operation.CERTIFY:
            ctx.check_no_canary(skill, alias, f"a {op}")
        if op is Operation.CERTIFY:
            rotation.check_no_pending(pending, skill.name)
        first = skill.placements[0]
        if op is Operation.ROLLBACK and version is None:
            current = rotation.require_alias(
                ctx.lambda_.get_alias(first.function, alias), skill, alias, first.function
            )
            version = rotation.previous_version(
                current.version, ctx.store.alias_moves(skill.name, alias)
            )
            if version is None:
                raise Refused(
                    f"No earlier version of {alias} is on record.",
                    hint=words(
                        "Name one: ",
                        Run("rollback", skill.name, "VERSION"),
                        f"; recent versions: {ctx.recent_versions(skill)}.",
                    ),
                )
        target = None
        if version is not None:
            version = version.lstrip("vV")
            rotation.check_published(version, alias)
            target = ctx.lambda_.get_version(first.function, version)
            if target is None:
                raise NotFound(
                    f"{first.function} has no version {version}.",
                    hint="Recent versions: " + ctx.recent_versions(skill) + ".",
                )
        plan = Plan(alias=alias, last_promotion=ctx.last_promotion(skill), **base)  # type: ignore[arg-type]
        plan = self.moves.plan(skill, plan, target)
        if op is not Operation.CERTIFY:
            label = version_label(version) if version else "the code in $LATEST"
            rotation.check_not_candidate_code(plan.code_sha256 or "", label, pending)
        return plan

    def doctor(self, name: str, *, actor: str) -> DoctorReport:
        """Check the skill's setup at every placement; every finding with a fix gets a
        saved plan that changes that placement only."""
        ctx = self.ctx
        skill = ctx.skill(name)
        first, *others = skill.placements
        recorded = self._recorded_role(skill)
        roles = rotation.resolve_roles(skill, recorded)
        located, aliases = placement_findings(
            ctx, skill, roles, first, first=True, recorded=recorded
        )
        gateway = self.gateway.findings(skill) if self.gateway is not None else []
        extra = [f for f, region, _ in gateway if not region]
        extra.append(storage_finding(ctx, skill, first, first=True))
        if self.live_endpoints is not None:
            live = self.live_endpoints(skill)
            extra.append(live_stage_drift(skill, roles, live, self.stage_targets(skill)))
        located += [at("", first.function, f, aliases) for f in extra]
        storage_seen = {aws_region_of(first.function)}  # each AWS region's, once
        for placement in others:
            found, there = placement_findings(ctx, skill, roles, placement, first=False)
            located += found
            if there and aws_region_of(placement.function) not in storage_seen:  # {}: no function
                storage_seen.add(aws_region_of(placement.function))
                storage = storage_finding(ctx, skill, placement, first=False)
                located.append(at(placement.region, placement.function, storage, {}))
        located += [at(r, fn, f, {}) for f, r, fn in gateway if r]
        fixes = []
        for finding, move in located:
            if finding.fix is not None:
                plan = rotation.fix_plan(finding, skill, actor, ctx.clock(), new_id(), move)
                ctx.store.save_plan(plan)
                fixes.append(plan)
        findings = [f for f, _ in located]
        ctx.audit(
            skill.name,
            "doctor",
            Outcome.PLANNED,
            actor,
            "",
            detail=f"{sum(not f.ok for f in findings)} problem(s), {len(fixes)} fix(es) offered",
        )
        return DoctorReport(skill, findings, fixes)

    def _recorded_role(self, skill: Skill) -> str | None:
        """The live alias recorded on the first placement's function (the role)."""
        function = skill.placements[0].function
        try:
            return self.ctx.lambda_.read_live_alias(function)
        except NotFound as err:
            where = f" {self.function_location(function)}" if self.function_location else ""
            raise NotFound(
                f"The Lambda function {function} of {skill.name} was not found{where}.",
                hint=f"Check skills.{skill.name}.function in the skills file (a name in "
                "AWS_REGION, or the function's ARN), AWS_REGION, and the account of the "
                "bot's AWS credentials.",
            ) from err
