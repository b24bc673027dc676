"""One rotation over every regional function of a skill, in lockstep.

A skill sold in several marketplaces calls a function in each Alexa region (``NA``,
``EU``, ``FE``). A plan then carries one move per region (the default region's in the
plan's own fields, the others in ``plan.regions``), and applying it moves every region::

    plan = lockstep.plan_regions(skill, plan, from_latest=True)  # refuses regions out of sync
    change = lockstep.apply(skill, plan, actor="U0ALICE", resumed=False, alias_change=...)

Applying reads every region's alias while publishing in every region (all at once), checks
every guard of every region before anything moves, then moves every region's alias (all at
once, each guarded by its own ``RevisionId``). When a region fails after another moved, the
person is told which moved and which did not (:class:`PartlyApplied`), the plan stays
confirmable, and confirming again finishes the rest: a region whose alias already serves
the plan's code is done and is not moved again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.domain import regions, rotation
from bot.domain.errors import (
    NotFound,
    PartlyApplied,
    Refused,
    SkillbotError,
    StalePlan,
)
from bot.domain.model import (
    LATEST,
    AliasState,
    Change,
    Operation,
    Plan,
    RegionMove,
    Skill,
    Version,
    version_label,
)
from bot.service.canary_places import CanaryTarget
from bot.service.context import RotationContext
from bot.service.fanout import in_region, run_each
from bot.service.publishing import publish_guarded

log = logging.getLogger(__name__)

T = TypeVar("T")

#: makes the change of an applied plan: (skill, plan, from, to, certify=, moved=)
AliasChange = Callable[..., Change]


@dataclass(frozen=True)
class PreparedRegion:
    """One region while a plan is applied: its move and what AWS showed."""

    move: RegionMove
    current: AliasState | None = None
    target: str | None = None
    done: bool = False  # an earlier attempt of this plan already moved it


class Lockstep:
    """Plans and applies the regional part of a skill's rotation."""

    def __init__(self, ctx: RotationContext, pool: ThreadPoolExecutor | None = None) -> None:
        self.ctx = ctx
        # every region's calls of one step run side by side
        self.pool = pool or ThreadPoolExecutor(max_workers=8, thread_name_prefix="skillbot-regions")

    # -- planning ------------------------------------------------------------------------
    def plan_regions(self, skill: Skill, plan: Plan, *, from_latest: bool) -> Plan:
        """``plan`` (the default region's move) with every other region's move; refuses
        before anything moves when the regions' code differs or a version is missing."""
        if not skill.regional_functions or plan.operation is Operation.CANCEL:
            return plan
        assert plan.alias is not None and plan.code_sha256 is not None
        futures = run_each(
            self.pool,
            lambda item: self._region_move(skill, plan, item[0], item[1], from_latest),
            skill.regional_functions,
        )
        moves: list[RegionMove] = []
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
            result = future.result()
            assert isinstance(result, RegionMove)
            moves.append(result)
        if from_latest:
            regions.check_same_code(
                skill.name,
                plan.command,
                [
                    (skill.default_region, plan.code_sha256, plan.code_last_modified or ""),
                    *((m.region, m.code_sha256 or "", m.code_last_modified or "") for m in moves),
                ],
                now=self.ctx.clock(),
            )
        noop = plan.noop and all(m.noop for m in moves)
        return plan.with_(default_region=skill.default_region, regions=tuple(moves), noop=noop)

    def _region_move(
        self, skill: Skill, plan: Plan, region: str, function: str, from_latest: bool
    ) -> RegionMove:
        lam = self.ctx.lambda_
        assert plan.alias is not None and plan.code_sha256 is not None
        try:
            current = rotation.require_alias(
                lam.get_alias(function, plan.alias), replace(skill, function=function), plan.alias
            )
            if from_latest:
                latest = lam.get_latest(function)
                sha, modified, target = latest.code_sha256, latest.last_modified, None
                serving = (
                    lam.get_version(function, current.version)
                    if current.version.isdigit()
                    else None
                )
                noop = (
                    serving is not None and serving.code_sha256 == sha and not current.routing
                ) and plan.operation is not Operation.CERTIFY
                if noop:
                    target = current.version
            else:
                assert plan.to_version is not None
                sha, modified = plan.code_sha256, plan.code_last_modified or ""
                target = self._version_with_code(skill, region, function, plan)
                noop = target == current.version and not current.routing
        except SkillbotError as err:
            raise in_region(err, region) from err
        return RegionMove(
            region, function, current.version, target, sha, current.revision_id, modified, noop
        )

    def _version_with_code(self, skill: Skill, region: str, function: str, plan: Plan) -> str:
        """The region's version with the code of the plan's (named) version: the same
        number when it holds that code, else the newest version that does."""
        assert plan.to_version is not None and plan.code_sha256 is not None
        lam = self.ctx.lambda_
        same = lam.get_version(function, plan.to_version)
        if same is not None and same.code_sha256 == plan.code_sha256:
            return same.number
        found = regions.version_with_code(
            [(v.number, v.code_sha256) for v in lam.list_versions(function)], plan.code_sha256
        )
        if found is None:
            raise regions.missing_version(
                skill.name, region, version_label(plan.to_version), plan.code_sha256
            )
        return found

    # -- applying (under the skill's lock) ---------------------------------------------------
    def apply(
        self, skill: Skill, plan: Plan, actor: str, *, resumed: bool, alias_change: AliasChange
    ) -> Change:
        """Move every region's alias as the plan says, or none when a guard refuses."""
        states = self.prepare(skill, plan, actor, resumed=resumed)
        return self._move(skill, plan, states, alias_change)

    def prepare(
        self, skill: Skill, plan: Plan, actor: str, *, resumed: bool
    ) -> list[PreparedRegion]:
        """Every region's alias read and version published (side by side), and every
        region's guards checked: what each region moves to, or the error of a region
        that refuses (nothing has moved then). The default region's comes first."""
        assert plan.alias is not None
        alias = plan.alias
        moves = [self.default_move(skill, plan), *plan.regions]
        lam = self.ctx.lambda_
        reads = {m.region: self.pool.submit(lam.get_alias, m.function, alias) for m in moves}
        if resumed:  # publish only where the earlier attempt did not finish
            pending = [m for m in moves if not self._done_now(m, reads[m.region], plan)]
        else:
            pending = moves
        to_publish = [m for m in pending if m.to_version is None]
        lam = self.ctx.lambda_
        publishing = {
            m.region: self.pool.submit(
                publish_guarded, lam, m.function, m.code_sha256 or "", plan, actor
            )
            for m in to_publish
        }
        for read in reads.values():
            read.exception()
        for publish in publishing.values():
            publish.exception()
        states: list[PreparedRegion] = []
        errors: dict[str, SkillbotError] = {}
        for move in moves:
            try:
                current = _result(reads[move.region])
                published = _result(publishing[move.region]) if move.region in publishing else None
                states.append(self._checked(skill, plan, move, current, published, resumed))
            except SkillbotError as err:
                errors[move.region] = err
        if errors:  # nothing moved in this attempt
            raise self._failed(plan, moves, states, [], errors)
        return states

    def _checked(
        self,
        skill: Skill,
        plan: Plan,
        move: RegionMove,
        current: AliasState | None,
        published: Version | None,
        resumed: bool,
    ) -> PreparedRegion:
        """One region's guards, before anything moves in any region."""
        assert plan.alias is not None
        try:
            state = rotation.require_alias(
                current, replace(skill, function=move.function), plan.alias
            )
            if resumed and self._done(move, state, plan):
                return PreparedRegion(move, state, state.version, done=True)
            rotation.check_fresh(
                plan.with_(from_version=move.from_version, revision_id=move.revision_id), state
            )
            target = move.to_version
            if published is not None:
                if published.code_sha256 != move.code_sha256:
                    raise StalePlan(
                        f"The code in $LATEST changed since this plan was shown "
                        f"({(move.code_sha256 or '')[:12]}… → {published.code_sha256[:12]}…).",
                        hint=f"No alias was moved. Run `/skill {plan.command}` again.",
                    )
                target = published.number
            assert target is not None
            rotation.check_published(target, plan.alias)
        except SkillbotError as err:
            raise in_region(err, move.region) from err
        return PreparedRegion(move, state, target)

    def _move(
        self, skill: Skill, plan: Plan, states: list[PreparedRegion], alias_change: AliasChange
    ) -> Change:
        assert plan.alias is not None
        alias = plan.alias
        lam = self.ctx.lambda_

        def update(state: PreparedRegion) -> object:
            assert state.current is not None and state.target is not None
            return lam.update_alias(
                state.move.function,
                alias,
                state.target,
                state.current.revision_id,
                clear_routing=bool(state.current.routing),
            )

        moving = [
            s
            for s in states
            if not s.done
            and s.current is not None
            and (s.target != s.current.version or s.current.routing)
        ]
        futures = run_each(self.pool, update, moving)
        failed: dict[str, SkillbotError] = {}
        for state, future in zip(moving, futures, strict=True):
            error = future.exception()
            if isinstance(error, SkillbotError):
                failed[state.move.region] = error
            elif error is not None:
                log.error("moving %s in %s failed", alias, state.move.region, exc_info=error)
                failed[state.move.region] = SkillbotError(f"internal error: {error!r}")
        if failed:
            moved = [s for s in moving if s.move.region not in failed]
            raise self._failed(plan, [s.move for s in states], states, moved, failed)
        default, *others = states
        changed = any(s.target != s.move.from_version or s in moving for s in states)
        change = alias_change(
            skill,
            plan,
            plan.from_version,
            default.target,
            certify=plan.operation is Operation.CERTIFY
            and self.ctx.store.pending_certification(skill.name) is None,
            moved=changed,
        )
        return replace(change, regions=tuple(replace(s.move, to_version=s.target) for s in others))

    def _failed(
        self,
        plan: Plan,
        moves: list[RegionMove],
        states: list[PreparedRegion],
        moved_now: list[PreparedRegion],
        failed: dict[str, SkillbotError],
    ) -> SkillbotError:
        """The error to raise when some region failed: that region's own error while no
        region has moved, else :class:`PartlyApplied` naming what moved and what did not."""
        finished = [s for s in states if s.done] + moved_now
        if not finished:
            region, err = next(iter(failed.items()))
            return in_region(err, region)
        lines = [
            f"{s.move.region} {version_label(s.move.from_version)} → {version_label(s.target)}"
            for s in finished
        ]
        finished_regions = {s.move.region for s in finished}
        waiting = [
            (m.region, failed[m.region].message if m.region in failed else "not tried")
            for m in moves
            if m.region not in finished_regions
        ]
        # a region that changed meanwhile needs a new plan; anything else, this one again
        replan = all(isinstance(e, (StalePlan, Refused, NotFound)) for e in failed.values())
        message, hint = regions.partly_applied(
            f"{plan.operation} {plan.skill} ({plan.alias})",
            lines,
            waiting,
            plan.command,
            replan=replan,
        )
        log.warning("%s", message)
        return StalePlan(message, hint=hint) if replan else PartlyApplied(message, hint=hint)

    # -- per region ------------------------------------------------------------------------
    @staticmethod
    def default_move(skill: Skill, plan: Plan) -> RegionMove:
        """The default region's move, from the plan's own fields."""
        return RegionMove(
            plan.default_region or skill.default_region,
            skill.function,
            plan.from_version,
            plan.to_version,
            plan.code_sha256,
            plan.revision_id,
            plan.code_last_modified,
        )

    def _done(self, move: RegionMove, current: AliasState | None, plan: Plan) -> bool:
        """Does the region's alias already serve the plan's code, moved by an earlier
        attempt of this plan (its version differs from the one the plan moved it from)?"""
        if current is None or current.routing or current.version == move.from_version:
            return False
        if move.to_version is not None:
            return current.version == move.to_version
        if current.version == LATEST:
            return False
        serving = self.ctx.lambda_.get_version(move.function, current.version)
        return serving is not None and serving.code_sha256 == move.code_sha256

    def _done_now(self, move: RegionMove, read: Future[AliasState | None], plan: Plan) -> bool:
        """:meth:`_done` over a read still under way (a failed read: not done)."""
        if read.exception() is not None:
            return False
        try:
            return self._done(move, read.result(), plan)
        except SkillbotError:
            return False

    def canary_targets(self, skill: Skill, plan: Plan, actor: str) -> list[CanaryTarget]:
        """A canary plan's functions, published and guarded: each region's live alias as
        it is and the version its weights go to."""
        return [
            CanaryTarget(r.move.region, r.move.function, r.current, r.target)
            for r in self.prepare(skill, plan, actor, resumed=False)
            if r.current is not None and r.target is not None
        ]

    def started(self, skill: Skill, plan: Plan) -> bool:
        """After a crash: did any region of the plan move already (recovery finishes it)?"""
        assert plan.alias is not None
        for move in [self.default_move(skill, plan), *plan.regions]:
            current = self.ctx.lambda_.get_alias(move.function, plan.alias)
            if current is not None and self._done(move, current, plan):
                return True
        return False


def _result(future: Future[T]) -> T:
    error = future.exception()
    if error is not None:
        raise error
    return future.result()
