"""Canary hotfixes: started by a Confirm, ended (completed or aborted) exactly once.

The start and the end are two separate guarded changes of the live alias:

- **start** (:meth:`Canaries.start`, under the skill lock, the plan claimed): a row in
  ``starting`` first, then ``UpdateAlias`` with ``AdditionalVersionWeights`` {new: P}
  and the ``RevisionId`` read for the plan, then ``running``. A crash in between leaves
  the row; :meth:`Canaries.resume` finds out from AWS which side of the call it died on.
- **end** (:meth:`Canaries.end`): the decision (complete or abort, by the figures or a
  person's button) is written first (``ending``), then under the skill lock the alias's
  main version becomes the target and the weights are cleared in one ``UpdateAlias``,
  then the row and its audit event are written in one transaction. Whoever finds an
  ``ending`` row later (a restart, another replica) finishes the same decision.

The checks that lead to a decision run in :mod:`bot.service.canary.checks`::

    change = applying.apply(plan.id, actor="U0ALICE")   # a canary plan: weights set
    canaries.request_end(canary_id, actor="U0ALICE", verdict=Verdict.ABORT)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, replace
from datetime import timedelta

from bot.domain.canary import (
    Canary,
    CanaryRegion,
    CanaryRules,
    CanaryState,
    Verdict,
    end_headline,
)
from bot.domain.errors import Busy, NotFound, Refused, SkillbotError, StalePlan, Unavailable
from bot.domain.model import (
    AuditEvent,
    Change,
    Move,
    Outcome,
    Plan,
    Skill,
    new_id,
)
from bot.domain.news import CanaryEnded, CanaryNews
from bot.domain.words import Run, Words, words
from bot.ports import CanaryBook
from bot.service.canary.weights import (
    CanaryTarget,
    Started,
    changed_meanwhile,
    check_targets,
    end_everywhere,
    partly_started,
    read_aliases,
    set_weights,
    take_back,
)
from bot.service.context import RotationContext
from bot.service.outbox import Delivery, Outbox

log = logging.getLogger(__name__)

#: who decides when the figures do
BY_FIGURES = "skillbot-canary"


@dataclass(frozen=True)
class CanaryPacing:
    """Seconds: the metric period, how often a canary is checked, how long a claim holds."""

    period: int = 60
    #: twice per period, so a bad period is seen within half a period of its end
    check_every: float = 30.0
    lease: float = 120.0
    #: an end not announced this long after it happened was left behind by a crash
    announce_grace: float = 30.0

    @classmethod
    def for_period(cls, period: int) -> CanaryPacing:
        return cls(period=period, check_every=period / 2, lease=max(30.0, 2.0 * period))


@dataclass(eq=False)
class Canaries:
    """Starting, ending and showing canaries over the canaries table, AWS and Slack."""

    ctx: RotationContext
    book: CanaryBook
    outbox: Outbox
    _: KW_ONLY
    rules: CanaryRules
    pacing: CanaryPacing
    owner: str
    # every placement's call of one step runs side by side
    pool: ThreadPoolExecutor
    #: after every start and end (the App Home)
    refresh: Callable[[], None] = lambda: None

    # -- the start (the caller holds the skill lock and has claimed the plan) ---------
    def start(
        self, skill: Skill, plan: Plan, actor: str, targets: Sequence[CanaryTarget]
    ) -> Change:
        """Weights {new: P} on the live alias of every function (one, or every region's),
        each guarded by the revision just read."""
        assert plan.alias is not None and plan.canary_weight and plan.canary_seconds
        check_targets(plan.alias, skill.name, targets)
        left = self.book.by_plan(plan.id)  # an earlier attempt that never set weights
        if left is not None and left.state is CanaryState.STARTING:
            self.book.forget(left.id, left.version)
        first = targets[0]
        places = tuple(
            CanaryRegion(t.region, t.function, t.current.version, t.new_version) for t in targets
        )
        canary = Canary(
            id=new_id(),
            skill=skill.name,
            alias=plan.alias,
            old_version=first.current.version,
            new_version=first.new_version,
            weight=plan.canary_weight,
            seconds=plan.canary_seconds,
            requested_by=plan.requested_by,
            confirmed_by=actor,
            reason=plan.reason,
            plan_id=plan.id,
            created_at=self.ctx.clock(),
            regions=places if len(places) > 1 else (),
        )
        self.book.add(canary)  # refused when the skill already runs one
        started = set_weights(self.ctx.lambda_, self.pool, canary, targets)
        if started.failed:
            raise self._not_started(canary, started)
        running = self._running(canary)
        return self._start_change(plan, running)

    def _not_started(self, canary: Canary, started: Started) -> SkillbotError:
        """The error of a start that failed somewhere; weights set where a region changed
        meanwhile are taken back (a canary never runs in some regions only)."""
        unknown = any(e.outcome_unknown for e in started.failed.values())
        if not started.set:
            if not unknown:  # surely not set: the row must not block the skill
                self.book.forget(canary.id, canary.version)
            return next(iter(started.failed.values()))
        changed = [
            r for r, e in started.failed.items() if isinstance(e, (StalePlan, Refused, NotFound))
        ]
        if not changed:
            return partly_started(canary, started)
        by_region = {p.region: p for p in canary.regions}
        left = take_back(
            self.ctx.lambda_,
            self.pool,
            canary.alias,
            [(by_region[r], state) for r, state in started.set.items()],
        )
        if not left and not unknown:
            self.book.forget(canary.id, canary.version)
        return changed_meanwhile(canary, changed, left)

    def resume(self, skill: Skill, plan: Plan) -> Change | None:
        """A canary plan cut short: the change once every function has the weights (the
        ones still without them get them now); None when none has them (the row it left
        is dropped). The caller holds the skill lock."""
        canary = self.book.by_plan(plan.id)
        if canary is None:
            return None
        if canary.state is CanaryState.STARTING:
            lam = self.ctx.lambda_
            places = canary.places(skill.placements[0].function)
            states = read_aliases(lam, self.pool, canary.alias, places)
            ours = {
                p.region: s
                for p, s in zip(places, states, strict=True)
                if s is not None
                and s.version == p.old_version
                and canary.weights_are_ours(s.routing, p.new_version)
            }
            if not ours:
                self.book.forget(canary.id, canary.version)
                return None
            rest = [(p, s) for p, s in zip(places, states, strict=True) if p.region not in ours]
            changed = [
                p.region for p, s in rest if s is None or s.version != p.old_version or s.routing
            ]
            if changed:
                raise self._not_started(
                    canary, Started(set=ours, failed={r: StalePlan(r) for r in changed})
                )
            started = set_weights(
                lam,
                self.pool,
                canary,
                [CanaryTarget(p.region, p.function, s, p.new_version) for p, s in rest if s],
            )
            if started.failed:
                raise partly_started(canary, Started({**ours, **started.set}, started.failed))
            canary = self._running(canary)
        return self._start_change(plan, canary)

    def _running(self, canary: Canary) -> Canary:
        now = self.ctx.clock()
        values = dict(
            state=CanaryState.RUNNING,
            started_at=now,
            next_check_at=now + timedelta(seconds=self.pacing.check_every),
        )
        if not self.book.change(canary.id, canary.version, **values):
            raise Busy(  # only this lock holder writes a starting row
                "The canary record changed while it was starting.",
                hint=words("Look at ", Run("status"), "; nothing else was changed."),
            )
        return replace(canary, version=canary.version + 1, **values)  # type: ignore[arg-type]

    def _start_change(self, plan: Plan, canary: Canary) -> Change:
        others = tuple(
            Move(p.region, p.function, p.old_version, p.new_version, plan.code_sha256)
            for p in canary.regions[1:]
        )
        return Change(
            plan=plan,
            regions=others,
            alias=canary.alias,
            from_version=canary.old_version,
            to_version=canary.new_version,
            code_sha256=plan.code_sha256,
            live_alias=canary.alias,
            notes=(
                "The canary message in the channel shows its figures every period; it "
                "completes or aborts by itself.",
            ),
        )

    def announce_start(self, change: Change) -> Words | None:
        """After a recorded start: the canary message (once), then the App Home. Returns
        what to tell the person when Slack did not take the message (the outbox posts it)."""
        canary = self.book.by_plan(change.plan.id)
        told = None
        if canary is not None:
            delivery = self.post_message(canary)
            if not delivery.posted:
                channel = self.ctx.skill(canary.skill).channel
                told = delivery.note(channel, what="the canary message (with its Abort button)")
        self._refresh()
        return told

    # -- the canary message -------------------------------------------------------------
    def post_message(self, canary: Canary) -> Delivery:
        """The one top-level message of a canary (its ts is recorded once Slack takes it)."""
        key = f"canary:{canary.id}"
        channel = self.ctx.skill(canary.skill).channel
        news = CanaryNews(canary, self.ctx.clock(), self.rules)
        return self.outbox.send(self.outbox.post(key, channel, news, on_posted=key))

    def update_message(self, canary: Canary) -> None:
        """The canary message made to show ``canary`` now (the newest owed wins)."""
        channel = canary.channel or self.ctx.skill(canary.skill).channel
        news = CanaryNews(canary, self.ctx.clock(), self.rules)
        self.outbox.send(
            self.outbox.update(channel, news, of=f"canary:{canary.id}", ts=canary.message_ts)
        )

    # -- the end --------------------------------------------------------------------------
    def request_end(self, canary_id: str, *, actor: str, verdict: Verdict) -> Canary:
        """A person's *Complete now* or *Abort*: decided at once, then ended."""
        ctx = self.ctx
        canary = self.book.get(canary_id)
        if canary is None:
            raise NotFound(
                "This canary is not known (it may come from another installation).",
                hint=words(Run("status"), " shows what runs."),
            )
        verb = "complete" if verdict is Verdict.COMPLETE else "abort"
        try:
            ctx.access.require_operator(actor, f"{verb} a canary")
            if verdict is Verdict.COMPLETE:  # an abort is never held back by a lock
                ctx.check_may_change(ctx.skill(canary.skill))
            if canary.state is not CanaryState.RUNNING or not self.book.change(
                canary.id,
                canary.version,
                state=CanaryState.ENDING,
                decision=verdict.value,
                decided_by=actor,
                outcome=f"{'completed' if verb == 'complete' else 'aborted'} by <@{actor}>",
                claimed_by=self.owner,
                claim_until=ctx.clock() + timedelta(seconds=self.pacing.lease),
            ):
                fresh = self.book.get(canary.id) or canary
                raise Refused(
                    f"This canary is {fresh.state}"
                    + (f": {fresh.outcome}" if fresh.outcome else "")
                    + ".",
                    hint="Nothing more to do; its message in the channel shows how it ends.",
                )
        except SkillbotError as err:
            ctx.audit(canary.skill, f"canary-{verb}", Outcome.REFUSED, actor, "", detail=str(err))
            raise
        try:
            ended = self.end(canary.id)
        except SkillbotError as err:  # decided: the canary pass finishes the end
            raise type(err)(
                f"The canary is decided ({verb}), but ending it failed for now: {err.message}",
                hint="skillbot finishes it at its next checks, region by region; the canary "
                "message in the channel shows when it has ended.",
                retry_after=err.retry_after,
                outcome_unknown=err.outcome_unknown,
            ) from err
        return ended or canary

    def end(self, canary_id: str, *, lock_timeout: float | None = None) -> Canary | None:
        """Carry out a decided canary's end under the skill lock, then announce it.

        Returns the ended canary; None when it is not ``ending`` (someone else ended it)
        or the skill is busy (a later pass ends it)."""
        ctx = self.ctx
        canary = self.book.get(canary_id)
        if canary is None or canary.state is not CanaryState.ENDING:
            return None
        skill = ctx.skill(canary.skill)
        try:
            timeout = ctx.lock_timeout if lock_timeout is None else lock_timeout
            with ctx.store.skill_lock(skill.name, timeout):
                try:
                    ended = self._end_locked(skill, canary_id)
                except Busy as err:  # AWS's conflict, not the lock: the end failed
                    raise Unavailable(
                        err.said, hint=err.todo, outcome_unknown=err.outcome_unknown
                    ) from err
        except Busy as err:  # the skill is locked: a later pass ends it
            log.info("canary %s: ending later (%s)", canary_id, err.message)
            return None
        if ended is not None:
            self.announce_end(ended)
        return ended

    def _end_locked(self, skill: Skill, canary_id: str) -> Canary | None:
        ctx = self.ctx
        canary = self.book.get(canary_id)
        if canary is None or canary.state is not CanaryState.ENDING:
            return None
        outcome, note, reached = end_everywhere(
            ctx.lambda_, self.pool, canary, skill.placements[0].function
        )
        completed = canary.decision == Verdict.COMPLETE.value and reached
        final = replace(
            canary,
            state=CanaryState.COMPLETED if completed else CanaryState.ABORTED,
            outcome=canary.outcome + note,
            ended_at=ctx.clock(),
        )
        target = canary.target
        event = AuditEvent(
            id=new_id(),
            at=ctx.clock(),
            skill=canary.skill,
            operation="canary-complete" if completed else "canary-abort",
            outcome=outcome,
            actor=canary.decided_by or BY_FIGURES,
            reason=canary.reason,
            alias=canary.alias,
            from_version=canary.old_version,
            to_version=target if reached else None,
            detail=end_headline(final)[:2000],
            plan_id=canary.plan_id,
        )
        if not self.book.finish(
            canary.id,
            canary.version,
            event,
            state=final.state,
            outcome=final.outcome,
            ended_at=final.ended_at,
            claimed_by=None,
            claim_until=None,
        ):
            return None
        log.info("canary %s of %s: %s", canary.id, canary.skill, final.state)
        return self.book.get(canary.id)

    def announce_end(self, canary: Canary) -> None:
        """The end in the channel (once, whichever process gets to it) and the message."""
        channel = self.ctx.skill(canary.skill).channel
        self.outbox.send(self.outbox.post(f"canary-end:{canary.id}", channel, CanaryEnded(canary)))
        if canary.audit_id:  # owed: no later pass needs to announce it
            self.ctx.store.claim_announcement(canary.audit_id, self.ctx.clock())
        self.update_message(canary)
        self._refresh()

    def _refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # the App Home is not worth failing a canary for
            log.exception("refreshing after a canary failed")
