"""The periodic canary pass: checks running canaries, ends decided ones, repairs the rest.

Run by the scheduler every few seconds in every process that runs one (like the reminder
pass). Each due canary is *claimed* by a conditional update of its row (``version``),
so it is checked by one process at a time however many run; a claim held by a process
that died ends with its lease. A check is one ``GetMetricData`` call, one decision
(:func:`bot.domain.canary.decide`) and one ``chat.update`` of the canary message::

    CanaryPass(canaries, metrics, store).run_pass()
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from bot.domain.canary import Canary, CanaryState, Verdict, combined, decide_regions
from bot.domain.errors import SkillbotError
from bot.ports import MetricsPort, Store
from bot.service.canary import BY_FIGURES, Canaries

log = logging.getLogger(__name__)

#: canaries handled per pass (one skill has at most one)
BATCH = 50
#: a pass waits this long for a skill's lock; a busy skill is ended at a later pass
LOCK_WAIT = 1.0


class CanaryPass:
    def __init__(self, canaries: Canaries, metrics: MetricsPort, store: Store) -> None:
        self.canaries = canaries
        self.metrics = metrics
        self.store = store

    def run_pass(self) -> None:
        c = self.canaries
        now = c.ctx.clock()
        for canary in c.book.all_active():
            if canary.state is CanaryState.STARTING:
                self._safely(canary, self.left_starting)
        for canary in c.book.without_message():
            self._safely(canary, c.post_message)
        for canary in c.book.due(now, BATCH):
            self._safely(canary, self.work)
        grace = now - timedelta(seconds=c.pacing.announce_grace)
        for canary in c.book.unannounced_ends(grace):
            self._safely(canary, c.announce_end)

    def _safely(self, canary: Canary, work: object) -> None:
        try:
            work(canary)  # type: ignore[operator]
        except SkillbotError as err:
            log.warning("canary %s of %s: %s", canary.id, canary.skill, err)
        except Exception:
            log.exception(
                "canary %s of %s failed; retried at the next pass", canary.id, canary.skill
            )

    # -- one due canary ---------------------------------------------------------------
    def work(self, canary: Canary) -> None:
        c = self.canaries
        now = c.ctx.clock()
        if not c.book.change(
            canary.id,
            canary.version,
            claimed_by=c.owner,
            claim_until=now + timedelta(seconds=c.pacing.lease),
        ):
            return  # another process took it
        version = canary.version + 1
        if canary.state is CanaryState.ENDING:
            c.end(canary.id, lock_timeout=LOCK_WAIT)
            return
        self.check(canary, version)

    def check(self, canary: Canary, version: int) -> None:
        """Read the figures, decide, and record (or start the end)."""
        c = self.canaries
        now = c.ctx.clock()
        skill = c.ctx.skill(canary.skill)
        assert canary.started_at is not None and canary.ends_at is not None
        next_check = now + timedelta(seconds=c.pacing.check_every)
        places = canary.places(skill.placements[0].function)
        try:  # one read per function (its own region's CloudWatch)
            by_region = [
                (
                    place.region,
                    self.metrics.canary_figures(
                        place.function,
                        canary.alias,
                        place.old_version,
                        place.new_version,
                        canary.started_at,
                        now,
                        c.pacing.period,
                    ),
                )
                for place in places
            ]
        except SkillbotError as err:
            log.warning("canary %s: no figures this time (%s)", canary.id, err)
            c.book.change(
                canary.id, version, next_check_at=next_check, claimed_by=None, claim_until=None
            )
            return
        decision = decide_regions(by_region, c.rules, window_over=now >= canary.ends_at)
        figures = combined([f for _, f in by_region])
        figures_now: dict[str, object] = dict(old=figures.old, new=figures.new)
        if canary.regions:
            figures_now["regions"] = tuple(
                replace(place, old=f.old, new=f.new)
                for place, (_, f) in zip(canary.regions, by_region, strict=True)
            )
        if decision.verdict in (Verdict.CONTINUE, Verdict.WAIT):
            waiting = decision.verdict is Verdict.WAIT
            if c.book.change(
                canary.id,
                version,
                next_check_at=next_check,
                claimed_by=None,
                claim_until=None,
                waiting=waiting,
                outcome=decision.reason if waiting else "",
                **figures_now,
            ):
                fresh = c.book.get(canary.id)
                if fresh is not None:
                    c.update_message(fresh)
            return
        completing = decision.verdict is Verdict.COMPLETE
        log.info(
            "canary %s of %s: %s — %s", canary.id, canary.skill, decision.verdict, decision.reason
        )
        if c.book.change(
            canary.id,
            version,
            state=CanaryState.ENDING,
            decision=decision.verdict.value,
            decided_by=BY_FIGURES,
            outcome=f"{'completed' if completing else 'aborted'}: {decision.reason}",
            **figures_now,
        ):
            c.end(canary.id, lock_timeout=LOCK_WAIT)

    def left_starting(self, canary: Canary) -> None:
        """A canary row still ``starting`` whose plan nobody is applying: a Confirm that
        failed with an unknown outcome. AWS says whether the weights were set."""
        c = self.canaries
        if self.store.plan_status(canary.plan_id) == "applying":
            return  # its Confirm (or recovery) is on it
        plan = self.store.get_plan(canary.plan_id)
        if plan is None:
            return
        skill = c.ctx.skill(canary.skill)
        with self.store.skill_lock(skill.name, timeout=LOCK_WAIT):
            fresh = c.book.get(canary.id)
            if fresh is None or fresh.state is not CanaryState.STARTING:
                return
            change = c.resume(skill, plan)
            if change is None:
                log.info("canary %s never started; its row is dropped", canary.id)
                return
            c.ctx.record_change(change, canary.confirmed_by or plan.requested_by, finish_plan=True)
        log.warning("canary %s was started by a Confirm whose answer was lost", canary.id)
