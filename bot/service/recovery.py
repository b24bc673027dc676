"""After a crash: finish what AWS already did, release what it did not, announce the rest.

A process killed in the middle of an operation leaves one of these behind; each is
repaired once, whichever process finds it (the skill lock proves its owner is gone, and
announcements are claimed in the database):

- a plan still ``applying``: if AWS already serves the plan's code, the change is recorded
  and announced; otherwise the plan becomes ``interrupted`` and can be confirmed again;
- a promotion under way whose alias is already recorded live (the tag was written,
  the database was not): the promotion is completed;
- a pending certification without its Slack message: the message is posted;
- an applied change never announced: it is announced.

Runs at start and then periodically (the scheduler's maintenance jobs)::

    Recovery(store, applying, promotion, announcer, outbox, clock).run()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from bot.domain.errors import Busy, SkillbotError
from bot.domain.model import CertificationState, Change, Operation, Outcome, Plan
from bot.ports import Clock, Store
from bot.service.announcing import Announcer
from bot.service.applying import Applying
from bot.service.cancelling import cancel_change
from bot.service.context import RotationContext
from bot.service.outbox import Outbox
from bot.service.promotion import Promotion

log = logging.getLogger(__name__)

RECOVERED_BY = "skillbot-recovery"


@dataclass
class RecoveryReport:
    completed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    promotions: list[str] = field(default_factory=list)
    #: messages owed for changes recorded without them (an earlier version, a crash)
    owed: list[str] = field(default_factory=list)
    #: messages the outbox sent (refused before, or owed by a crashed process)
    sent: int = 0

    def __bool__(self) -> bool:
        return any((self.completed, self.interrupted, self.promotions, self.owed, self.sent))


@dataclass(eq=False)
class Recovery:
    store: Store
    applying: Applying
    promotion: Promotion
    announcer: Announcer
    outbox: Outbox
    clock: Clock

    @property
    def ctx(self) -> RotationContext:
        return self.applying.ctx

    def run(self) -> RecoveryReport:
        report = RecoveryReport()
        for plan in self.store.plans_in_status("applying"):
            self._guarded(plan.skill, partial(self._plan, plan, report))
        for cert in self.store.promotions_under_way():
            self._guarded(cert.skill, partial(self._promotion, cert.id, report))
        report.owed = self.announcer.owe_left_behind()
        report.sent = self.outbox.run()  # what a crash (or Slack) left unposted
        if report:
            log.warning("recovery: %s", report)
        return report

    def _guarded(self, skill: str, work: Callable[[], None]) -> None:
        """Under the skill's lock, which a live owner would still hold; skip if held."""
        try:
            with self.store.skill_lock(skill, timeout=0.2):
                work()
        except Busy:
            log.info("recovery: %s is busy; its owner is alive", skill)
        except SkillbotError as err:
            log.warning("recovery of %s postponed: %s", skill, err)

    def finish_abandoned(self, plan: Plan) -> None:
        """Finish one plan a dead process left "applying" (the caller holds the lock)."""
        report = RecoveryReport()
        self._plan(plan, report)
        if report:
            log.warning("recovery: %s", report)

    # -- plans cut short -----------------------------------------------------------
    def _plan(self, plan: Plan, report: RecoveryReport) -> None:
        if self.store.plan_status(plan.id) != "applying":
            return  # finished by its owner meanwhile
        skill = self.ctx.skill(plan.skill)
        change: Change | None = None
        if plan.operation in (
            Operation.HOTFIX,
            Operation.CERTIFY,
            Operation.ROLLBACK,
            Operation.CANARY,
        ):
            # some placement may have moved (any one): the confirmed plan is finished
            try:
                change = self.applying.complete_interrupted(skill, plan)
            except SkillbotError as err:
                self.store.finish_plan(plan.id, "interrupted")
                self.ctx.audit_plan(plan, Outcome.FAILED, f"after a restart: {err}")
                report.interrupted.append(plan.summary())
                return
        elif plan.operation is Operation.CANCEL and plan.certification_id:
            cert = self.store.get_certification(plan.certification_id)
            if cert is not None and cert.state is CertificationState.CANCELLED:
                change = cancel_change(self.applying.ctx, skill, plan, cert)
        if change is None:
            self.store.finish_plan(plan.id, "interrupted")
            self.ctx.audit_plan(
                plan,
                Outcome.FAILED,
                "interrupted by a restart before AWS changed; confirm the plan again",
            )
            report.interrupted.append(plan.summary())
            return
        recorded = self.ctx.record_change(
            change, plan.requested_by, finish_plan=True, owe=self.applying.owed
        )
        report.completed.append(plan.summary())
        if plan.operation is Operation.CANARY:
            self.applying.finish(recorded)  # the canary message, not an announcement
        else:
            self.announcer.change_applied(recorded)

    # -- certifications ----------------------------------------------------------------
    def _promotion(self, cert_id: str, report: RecoveryReport) -> None:
        cert = self.store.get_certification(cert_id)
        if cert is None or not cert.pending:
            return
        skill = self.ctx.skill(cert.skill)
        roles = self.ctx.roles(skill)
        if roles.recorded and roles.live_alias == cert.alias:
            # the tag was written, the record was not: the promotion happened
            self.promotion.complete_promotion(skill, cert, RECOVERED_BY)
            report.promotions.append(f"{cert.skill} {cert.alias}")
        else:
            self.store.mark_promoting(cert.id, None)  # it died before the tag: nothing moved
