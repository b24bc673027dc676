"""A plan's moves, one per placement (AWS region) of the skill: planned side by side, and
applied in one loop — guard every move, publish every, move every, record each::

    plan = moves.plan(skill, plan, target=None)  # new code; refuses regions out of sync
    change = moves.apply(skill, plan, actor="U0ALICE", resumed=False, alias_change=...)

Applying reads every placement's alias while publishing in every placement (all at once),
checks every guard before anything moves, then moves every alias (all at once, each
guarded by its own ``RevisionId``): two AWS round trips, whatever the number of
placements. When one fails after another moved, the person is told which moved and which
did not (:class:`PartlyApplied`), the plan stays confirmable, and confirming again (or
recovery) finishes the rest: a placement whose alias already serves the plan's code is
done and is not moved again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.domain import regions, rotation
from bot.domain.errors import Busy, NotFound, PartlyApplied, Refused, SkillbotError, StalePlan
from bot.domain.model import (
    LATEST,
    AliasState,
    Change,
    Move,
    Operation,
    Plan,
    Skill,
    Version,
    version_label,
)
from bot.domain.provenance import with_provenance
from bot.domain.words import words
from bot.ports import LambdaPort
from bot.service.canary.weights import CanaryTarget
from bot.service.context import RotationContext
from bot.service.fanout import each, in_region, run_each

log = logging.getLogger(__name__)

T = TypeVar("T")

#: makes the change of an applied plan: (skill, plan, from, to, certify=, moved=, actor=)
AliasChange = Callable[..., Change]


@dataclass(frozen=True)
class Guarded:
    """One move while a plan is applied: what AWS showed, and what the alias moves to."""

    move: Move
    current: AliasState
    target: str
    done: bool = False  # an earlier attempt of this plan already moved it

    @property
    def moving(self) -> bool:
        return not self.done and (self.target != self.current.version or bool(self.current.routing))


def where(plan: Plan, move: Move) -> str:
    """The region an error names: none for a one-placement plan."""
    return move.region if len(plan.moves) > 1 else ""


@dataclass(eq=False)
class Moves:
    """Plans and applies one alias move per placement; ``pool`` runs each step's calls of
    every placement side by side (the publish beside the alias read, too)."""

    ctx: RotationContext
    pool: ThreadPoolExecutor

    # -- planning ------------------------------------------------------------------------
    def plan(self, skill: Skill, plan: Plan, target: Version | None) -> Plan:
        """``plan`` with one move per placement, read side by side: to the version with
        ``target``'s code, or (no ``target``) to new code from each ``$LATEST``, which must
        be the same everywhere. Refuses before anything moves when a placement's code
        differs or its version is missing."""
        first = skill.placements[0]
        moves = each(
            self.pool,
            lambda p: self._move_in(skill, plan, p.region, p.function, target),
            skill.placements,
            lambda p: "" if p is first else p.region,
        )
        if target is None and len(moves) > 1:
            codes = [(m.region, m.code_sha256 or "", m.code_last_modified or "") for m in moves]
            regions.check_same_code(skill.name, plan.run, codes, now=self.ctx.clock())
        return plan.with_(moves=tuple(moves), noop=all(m.noop for m in moves))

    def _move_in(
        self, skill: Skill, plan: Plan, region: str, function: str, target: Version | None
    ) -> Move:
        lam = self.ctx.lambda_
        assert plan.alias is not None
        current = rotation.require_alias(
            lam.get_alias(function, plan.alias), skill, plan.alias, function
        )
        if target is None:
            latest = lam.get_latest(function)
            sha, modified, to = latest.code_sha256, latest.last_modified, None
            serving = (
                lam.get_version(function, current.version) if current.version.isdigit() else None
            )
            if serving is not None and serving.code_sha256 == sha and not current.routing:
                to = current.version
        else:
            sha, modified = target.code_sha256, target.last_modified
            to = self._version_with_code(skill, region, function, target)
        noop = to == current.version and not current.routing
        return Move(
            region,
            function,
            current.version,
            to if plan.operation is not Operation.CERTIFY or target is not None else None,
            sha,
            current.revision_id,
            modified,
            noop and plan.operation is not Operation.CERTIFY,
        )

    def _version_with_code(self, skill: Skill, region: str, function: str, target: Version) -> str:
        """The placement's version with ``target``'s code: the same number when it holds
        that code, else the newest version that does."""
        lam = self.ctx.lambda_
        same = target if function == skill.placements[0].function else None
        same = same or lam.get_version(function, target.number)
        if same is not None and same.code_sha256 == target.code_sha256:
            return same.number
        found = regions.version_with_code(
            [(v.number, v.code_sha256) for v in lam.list_versions(function)], target.code_sha256
        )
        if found is None:
            raise regions.missing_version(
                skill.name, region, version_label(target.number), target.code_sha256
            )
        return found

    # -- applying (under the skill's lock) ---------------------------------------------------
    def apply(
        self, skill: Skill, plan: Plan, actor: str, *, resumed: bool, alias_change: AliasChange
    ) -> Change:
        """Move every placement's alias as the plan says, or none when a guard refuses."""
        guarded = self.guard(skill, plan, actor, resumed=resumed)
        moving = [g for g in guarded if g.moving]
        futures = run_each(self.pool, lambda g: self._update(plan, g), moving)
        failed: dict[str, SkillbotError] = {}
        for g, future in zip(moving, futures, strict=True):
            error = future.exception()
            if error is not None and not isinstance(error, SkillbotError):
                log.error("moving %s in %s failed", plan.alias, g.move.region, exc_info=error)
            if error is not None:
                failed[g.move.region] = in_region(error, "")
        if failed:
            moved = [g for g in moving if g.move.region not in failed]
            raise self._failed(plan, guarded, moved, failed)
        first, *others = guarded
        change = alias_change(
            skill,
            plan,
            plan.from_version,
            first.target,
            certify=plan.operation is Operation.CERTIFY
            and self.ctx.store.pending_certification(skill.name) is None,
            moved=any(g.target != g.move.from_version or g.moving for g in guarded),
            actor=actor,
        )
        return replace(change, regions=tuple(replace(g.move, to_version=g.target) for g in others))

    def _update(self, plan: Plan, g: Guarded) -> object:
        assert plan.alias is not None
        return self.ctx.lambda_.update_alias(
            g.move.function,
            plan.alias,
            g.target,
            g.current.revision_id,
            clear_routing=bool(g.current.routing),
        )

    def guard(self, skill: Skill, plan: Plan, actor: str, *, resumed: bool) -> list[Guarded]:
        """Every placement's alias read and version published (side by side), and every
        guard checked: what each alias moves to, or the error of a placement that refuses
        (nothing has moved then)."""
        assert plan.alias is not None
        lam = self.ctx.lambda_
        reads = [self.pool.submit(lam.get_alias, m.function, plan.alias) for m in plan.moves]
        publishing: dict[str, Future[Version]] = {
            m.region: self.pool.submit(
                publish_guarded, lam, m.function, m.code_sha256 or "", plan, actor
            )
            for m, read in zip(plan.moves, reads, strict=True)
            # publish only where an earlier attempt did not finish
            if m.to_version is None and not (resumed and self._done_now(m, read))
        }
        for read in reads:
            read.exception()
        for publishing_one in publishing.values():
            publishing_one.exception()
        guarded: list[Guarded] = []
        errors: dict[str, SkillbotError] = {}
        for move, read in zip(plan.moves, reads, strict=True):
            try:
                publish = publishing.get(move.region)
                published = _result(publish) if publish is not None else None
                guarded.append(self._checked(skill, plan, move, _result(read), published, resumed))
            except SkillbotError as err:
                errors[move.region] = err
        if errors:  # nothing moved in this attempt
            raise self._failed(plan, guarded, [], errors)
        return guarded

    def _checked(
        self,
        skill: Skill,
        plan: Plan,
        move: Move,
        current: AliasState | None,
        published: Version | None,
        resumed: bool,
    ) -> Guarded:
        """One placement's guards, before anything moves anywhere."""
        assert plan.alias is not None
        try:
            state = rotation.require_alias(current, skill, plan.alias, move.function)
            if resumed and self._done(move, state):
                return Guarded(move, state, state.version, done=True)
            rotation.check_fresh(plan, state, move)
            target = move.to_version
            if published is not None:
                if published.code_sha256 != move.code_sha256:
                    # AWS enforces CodeSha256 on publish; this holds where it is not enforced
                    raise code_changed(
                        plan, move.code_sha256 or "", published.code_sha256, "No alias was moved."
                    )
                target = published.number
            assert target is not None
            rotation.check_published(target, plan.alias)
        except SkillbotError as err:
            raise in_region(err, where(plan, move)) from err
        return Guarded(move, state, target)

    def _failed(
        self,
        plan: Plan,
        guarded: Sequence[Guarded],
        moved_now: Sequence[Guarded],
        failed: dict[str, SkillbotError],
    ) -> SkillbotError:
        """The error to raise when some placement failed: its own error while none has
        moved, else :class:`PartlyApplied` naming what moved and what did not."""
        finished = [g for g in guarded if g.done] + list(moved_now)
        if not finished:
            region, err = next(iter(failed.items()))
            return in_region(err, region if len(plan.moves) > 1 else "")
        lines = [
            f"{g.move.region} {version_label(g.move.from_version)} → {version_label(g.target)}"
            for g in finished
        ]
        finished_regions = {g.move.region for g in finished}
        waiting = [
            (m.region, failed[m.region].message if m.region in failed else "not tried")
            for m in plan.moves
            if m.region not in finished_regions
        ]
        # a placement that changed meanwhile needs a new plan; anything else, this one again
        replan = all(isinstance(e, (StalePlan, Refused, NotFound)) for e in failed.values())
        message, hint = regions.partly_applied(
            f"{plan.operation} {plan.skill} ({plan.alias})",
            lines,
            waiting,
            plan.run,
            replan=replan,
        )
        log.warning("%s", message)
        return StalePlan(message, hint=hint) if replan else PartlyApplied(message, hint=hint)

    # -- what an earlier attempt did ---------------------------------------------------------
    def _done(self, move: Move, current: AliasState | None) -> bool:
        """Does the alias already serve the plan's code, moved by an earlier attempt of
        this plan (its version differs from the one the plan moved it from)?"""
        if current is None or current.routing or current.version == move.from_version:
            return False
        if move.to_version is not None:
            return current.version == move.to_version
        if current.version == LATEST:
            return False
        serving = self.ctx.lambda_.get_version(move.function, current.version)
        return serving is not None and serving.code_sha256 == move.code_sha256

    def _done_now(self, move: Move, read: Future[AliasState | None]) -> bool:
        """:meth:`_done` over a read still under way (a failed read: not done)."""
        if read.exception() is not None:
            return False
        try:
            return self._done(move, read.result())
        except SkillbotError:
            return False

    def canary_targets(self, skill: Skill, plan: Plan, actor: str) -> list[CanaryTarget]:
        """A canary plan's placements, published and guarded: each live alias as it is and
        the version its weights go to."""
        return [
            CanaryTarget(where(plan, g.move), g.move.function, g.current, g.target)
            for g in self.guard(skill, plan, actor, resumed=False)
        ]

    def started(self, plan: Plan) -> bool:
        """After a crash: did any placement of the plan move already (recovery finishes it)?"""
        assert plan.alias is not None
        return any(
            self._done(m, self.ctx.lambda_.get_alias(m.function, plan.alias)) for m in plan.moves
        )


def code_changed(plan: Plan, shown_sha256: str, now_sha256: str, outcome: str) -> StalePlan:
    """The refusal of a plan whose ``$LATEST`` changed since it was shown."""
    return StalePlan(
        f"The code in $LATEST changed since this plan was shown "
        f"({shown_sha256[:12]}… → {now_sha256[:12]}…).",
        hint=words(f"{outcome} Run ", plan.run, " again to see the new code."),
    )


def publish_guarded(
    lam: LambdaPort, function: str, code_sha256: str, plan: Plan, actor: str
) -> Version:
    """Publish ``function``'s ``$LATEST`` only if its hash is ``code_sha256``; while a
    deployment is still being applied, wait for it and check the code again."""
    description = with_provenance(
        f"skillbot {plan.operation} by {actor}: {plan.reason}".strip(": "), plan.provenance
    )
    try:
        return lam.publish_version(function, code_sha256, description)
    except Busy:
        latest = lam.wait_until_updated(function)
        if latest.code_sha256 != code_sha256:
            raise code_changed(
                plan, code_sha256, latest.code_sha256, "Nothing was published."
            ) from None
        return lam.publish_version(function, code_sha256, description)


def _result(future: Future[T]) -> T:
    error = future.exception()
    if error is not None:
        raise error
    return future.result()
