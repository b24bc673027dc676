"""Pruning: delete old versions nothing refers to, one at a time, after a shown plan.

Every hotfix and certification publishes a version, and each counts against the region's
code storage. The plan lists what would go; Confirm deletes them one by one, reading the
aliases again before each, so a version that became referenced meanwhile is skipped::

    offer = pruning.plan_prune("trivia", actor="U0ALICE", keep=10)
    [v.number for v in offer.versions]   # ['3', '4', '5']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.domain import rotation
from bot.domain.errors import NotFound, Refused, SkillbotError
from bot.domain.model import (
    Change,
    Move,
    Operation,
    Outcome,
    Plan,
    Skill,
    Version,
    new_id,
    version_label,
)
from bot.domain.prune import DEFAULT_KEEP, RegionPrune, prunable, references, size_label
from bot.service.context import RotationContext, outcome_of
from bot.service.fanout import in_region


@dataclass(frozen=True)
class PruneOffer:
    plan: Plan
    #: the versions the plan deletes in the default function, with their code size
    versions: list[Version]
    keep: int
    #: every region's part, the default function's first (one for a single-region skill)
    regions: tuple[RegionPrune, ...] = field(default=())

    @property
    def freed(self) -> int:
        return sum(part.freed for part in self.regions)


class Pruning:
    def __init__(self, ctx: RotationContext) -> None:
        self.ctx = ctx

    def referenced(self, skill: Skill, function: str, versions: list[Version]) -> dict[str, str]:
        """Version → why it must stay in ``function`` (one of the skill's placements'): an
        alias of that function points at or weights it, it holds the pending candidate's
        code or the code a rollback of the live alias returns to, or a canary uses it.
        ``versions``: the function's versions, read beforehand (a version's code never
        changes)."""
        ctx = self.ctx
        first = function == skill.placements[0].function
        pending = ctx.store.pending_certification(skill.name)
        canary = ctx.active_canary(skill)
        # a running canary's versions in the first function (the regions' are on their aliases)
        in_use = [canary.old_version, canary.new_version] if canary and first else []
        kept = [self._rollback_target(skill)]
        if pending is not None:
            kept.append((pending.version, pending.code_sha256, "pending certification"))
        return references(
            ctx.lambda_.list_aliases(function),
            versions,
            kept=[(number if first else None, code, what) for number, code, what in kept],
            in_use=in_use,
        )

    def _rollback_target(self, skill: Skill) -> tuple[str | None, str | None, str]:
        """The version ``rollback`` would return the live alias to, and its code (read in
        the first placement's function, whose versions the record names)."""
        ctx = self.ctx
        function, alias = skill.placements[0].function, ctx.roles(skill).live_alias
        current = ctx.lambda_.get_alias(function, alias)
        number = (
            rotation.previous_version(current.version, ctx.store.alias_moves(skill.name, alias))
            if current is not None
            else None
        )
        target = ctx.lambda_.get_version(function, number) if number else None
        return number, target.code_sha256 if target else None, "rollback target"

    def _region(self, skill: Skill, region: str, function: str, keep: int) -> RegionPrune:
        try:
            versions = self.ctx.lambda_.list_versions(function)
            doomed = prunable(
                versions, referenced=self.referenced(skill, function, versions), keep=keep
            )
        except SkillbotError as err:
            if len(skill.placements) > 1:
                raise in_region(err, region) from err
            raise
        return RegionPrune(region, function, tuple(doomed))

    def plan_prune(self, name: str, *, actor: str, keep: int | None = None) -> PruneOffer:
        ctx = self.ctx
        skill = ctx.skill(name)
        keep = DEFAULT_KEEP if keep is None else keep
        try:
            ctx.access.require_operator(actor, "prune")
            ctx.check_may_change(skill)
            parts = tuple(self._region(skill, p.region, p.function, keep) for p in skill.placements)
        except SkillbotError as err:
            ctx.audit(skill.name, "prune", outcome_of(err), actor, "", detail=str(err))
            raise
        doomed = list(parts[0].versions)
        plan = Plan(
            id=new_id(),
            skill=skill.name,
            operation=Operation.PRUNE,
            alias=None,
            requested_by=actor,
            reason=f"keep the {keep} most recent",
            created_at=ctx.clock(),
            moves=tuple(
                Move(
                    part.region,
                    part.function,
                    None,
                    None,
                    versions=tuple(v.number for v in part.versions),
                )
                for part in parts
            ),
        )
        plan = plan.with_(noop=plan.prune_count == 0)
        offer = PruneOffer(plan, doomed, keep, parts)
        if not plan.noop:
            ctx.store.save_plan(plan)
            freed = size_label(offer.freed)
            if len(skill.placements) > 1:
                freed = f"{freed} ({'; '.join(part.line() for part in parts)})"
            ctx.audit_plan(plan, Outcome.PLANNED, f"{plan.summary()}, {freed}")
        return offer

    def apply_locked(self, skill: Skill, plan: Plan, actor: str) -> Change:
        """Delete the plan's versions one by one, region by region (the caller holds the
        skill lock), reading that function's references again before each."""
        regional = len(plan.moves) > 1
        notes: list[str] = []
        deleted: list[Move] = []
        freed = 0
        for move in plan.moves:
            done, size, said = self._delete(skill, move.function, move.versions)
            deleted.append(replace(move, versions=done))
            freed += size
            notes.extend(f"{move.region}: {note}" if regional else note for note in said)
        if regional:
            notes.append(f"{size_label(freed)} freed in all.")
        return Change(
            plan=plan.with_(moves=tuple(deleted)),
            alias=None,
            from_version=None,
            to_version=None,
            code_sha256=None,
            live_alias=self.ctx.roles(skill).live_alias,
            noop=not any(m.versions for m in deleted),
            notes=tuple(notes),
        )

    def _delete(
        self, skill: Skill, function: str, numbers: tuple[str, ...]
    ) -> tuple[tuple[str, ...], int, list[str]]:
        """One function's part: (deleted, bytes freed, what to tell the person)."""
        lam = self.ctx.lambda_
        versions = lam.list_versions(function)
        sizes = {v.number: v.code_size for v in versions}
        deleted: list[str] = []
        skipped: list[str] = []
        gone: list[str] = []
        for number in numbers:
            why = self.referenced(skill, function, versions).get(number)
            if why is not None:
                skipped.append(f"{version_label(number)} ({why})")
                continue
            if number not in sizes:
                gone.append(version_label(number))
                continue
            try:
                lam.delete_version(function, number)
            except Refused as err:
                skipped.append(f"{version_label(number)} ({err.message})")
                continue
            except NotFound:
                gone.append(version_label(number))
                continue
            deleted.append(number)
        freed = sum(sizes[n] for n in deleted)
        notes = [
            f"Deleted {', '.join(map(version_label, deleted)) or 'nothing'}; "
            f"{size_label(freed)} freed."
        ]
        if skipped:
            notes.append("Kept, in use by now: " + "; ".join(skipped) + ".")
        if gone:
            notes.append("Already deleted: " + ", ".join(gone) + ".")
        return tuple(deleted), freed, notes
