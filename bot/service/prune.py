"""Pruning: delete old versions nothing refers to, one at a time, after a shown plan.

Every hotfix and certification publishes a version, and each counts against the region's
code storage. The plan lists what would go; Confirm deletes them one by one, reading the
aliases again before each, so a version that became referenced meanwhile is skipped::

    offer = pruning.plan_prune("trivia", actor="U0ALICE", keep=10)
    [v.number for v in offer.versions]   # ['3', '4', '5']
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import NotFound, Refused, SkillbotError
from bot.domain.model import (
    Change,
    Operation,
    Outcome,
    Plan,
    Skill,
    Version,
    new_id,
    version_label,
)
from bot.domain.prune import DEFAULT_KEEP, prunable, size_label
from bot.service.context import RotationContext, outcome_of


@dataclass(frozen=True)
class PruneOffer:
    plan: Plan
    #: the versions the plan deletes, with their code size
    versions: list[Version]
    keep: int


class Pruning:
    def __init__(self, ctx: RotationContext) -> None:
        self.ctx = ctx

    def referenced(self, skill: Skill) -> dict[str, str]:
        """Version → why it must stay: an alias points at or weights it, it is the pending
        candidate's, or a canary uses it."""
        ctx = self.ctx
        why: dict[str, str] = {}
        for alias in ctx.lambda_.list_aliases(skill.function):
            why.setdefault(alias.version, f"alias {alias.name} points at it")
            for weighted in alias.routing:
                why.setdefault(weighted, f"alias {alias.name} sends it traffic")
        pending = ctx.store.pending_certification(skill.name)
        if pending is not None:
            why.setdefault(pending.version, "the pending certification's")
        canary = ctx.active_canary(skill)
        if canary is not None:
            for number in (canary.old_version, canary.new_version):
                why.setdefault(number, "a running canary uses it")
        return why

    def plan_prune(self, name: str, *, actor: str, keep: int | None = None) -> PruneOffer:
        ctx = self.ctx
        skill = ctx.skill(name)
        keep = DEFAULT_KEEP if keep is None else keep
        try:
            ctx.access.require_operator(actor, "prune")
            versions = ctx.lambda_.list_versions(skill.function)
            doomed = prunable(versions, referenced=self.referenced(skill), keep=keep)
        except SkillbotError as err:
            ctx.audit(skill.name, "prune", outcome_of(err), actor, "", detail=str(err))
            raise
        plan = Plan(
            id=new_id(),
            skill=skill.name,
            operation=Operation.PRUNE,
            alias=None,
            from_version=None,
            to_version=None,
            code_sha256=None,
            code_last_modified=None,
            revision_id=None,
            requested_by=actor,
            reason=f"keep the {keep} most recent",
            created_at=ctx.clock(),
            versions=tuple(v.number for v in doomed),
            noop=not doomed,
        )
        if doomed:
            ctx.store.save_plan(plan)
            freed = size_label(sum(v.code_size for v in doomed))
            ctx.audit_plan(plan, Outcome.PLANNED, f"{plan.summary()}, {freed}")
        return PruneOffer(plan, doomed, keep)

    def apply_locked(self, skill: Skill, plan: Plan, actor: str) -> Change:
        """Delete the plan's versions one by one (the caller holds the skill lock)."""
        lam = self.ctx.lambda_
        sizes = {v.number: v.code_size for v in lam.list_versions(skill.function)}
        deleted: list[str] = []
        skipped: list[str] = []
        gone: list[str] = []
        for number in plan.versions:
            why = self.referenced(skill).get(number)
            if why is not None:
                skipped.append(f"{version_label(number)} ({why})")
                continue
            if number not in sizes:
                gone.append(version_label(number))
                continue
            try:
                lam.delete_version(skill.function, number)
            except Refused as err:
                skipped.append(f"{version_label(number)} ({err.message})")
                continue
            except NotFound:
                gone.append(version_label(number))
                continue
            deleted.append(number)
        notes = [
            f"Deleted {', '.join(map(version_label, deleted)) or 'nothing'}; "
            f"{size_label(sum(sizes[n] for n in deleted))} freed."
        ]
        if skipped:
            notes.append("Kept, in use by now: " + "; ".join(skipped) + ".")
        if gone:
            notes.append("Already deleted: " + ", ".join(gone) + ".")
        return Change(
            plan=plan.with_(versions=tuple(deleted)),
            alias=None,
            from_version=None,
            to_version=None,
            code_sha256=None,
            live_alias=self.ctx.roles(skill).live_alias,
            noop=not deleted,
            notes=tuple(notes),
        )
