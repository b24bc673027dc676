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

Runs at start and then periodically (``bot.jobs``)::

    Recovery(services).run()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.errors import Busy, SkillbotError
from bot.domain.model import CertificationState, Change, Operation, Outcome, Plan, Roles
from bot.services import RotationService
from bot.wiring import Services

log = logging.getLogger(__name__)

#: an announcement not claimed this long after its change was left behind by a crash
ANNOUNCE_GRACE = timedelta(seconds=30)
ANNOUNCED_OPERATIONS = ["hotfix", "certify", "rollback", "promote", "cancel"]
RECOVERED_BY = "skillbot-recovery"


@dataclass
class RecoveryReport:
    completed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    promotions: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    announcements: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (self.completed, self.interrupted, self.promotions, self.messages, self.announcements)
        )


class Recovery:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.rotation: RotationService = services.rotation

    def run(self) -> RecoveryReport:
        report = RecoveryReport()
        for plan in self.s.store.plans_in_status("applying"):
            self._guarded(plan.skill, lambda p=plan: self._plan(p, report))
        for cert in self.s.store.promotions_under_way():
            self._guarded(cert.skill, lambda c=cert: self._promotion(c.id, report))
        for cert in self.s.store.certifications_without_message(self.s.clock() - ANNOUNCE_GRACE):
            self.s.announcer.post_certification_message(cert)
            report.messages.append(cert.skill)
        self._announcements(report)
        if report:
            log.warning("recovery: %s", report)
        return report

    def _guarded(self, skill: str, work: object) -> None:
        """Under the skill's lock, which a live owner would still hold; skip if held."""
        try:
            with self.s.store.skill_lock(skill, timeout=0.2):
                work()  # type: ignore[operator]
        except Busy:
            log.info("recovery: %s is busy; its owner is alive", skill)
        except SkillbotError as err:
            log.warning("recovery of %s postponed: %s", skill, err)

    # -- plans cut short -----------------------------------------------------------
    def _plan(self, plan: Plan, report: RecoveryReport) -> None:
        if self.s.store.plan_status(plan.id) != "applying":
            return  # finished by its owner meanwhile
        skill = self.rotation.skill(plan.skill)
        change: Change | None = None
        if plan.operation in (Operation.HOTFIX, Operation.CERTIFY, Operation.ROLLBACK):
            assert plan.alias is not None
            current = self.s.lambda_.get_alias(skill.function, plan.alias)
            if current is not None and current.version != plan.from_version:
                change = self.rotation.complete_interrupted(skill, plan, current)
        elif plan.operation is Operation.CANCEL and plan.certification_id:
            cert = self.s.store.get_certification(plan.certification_id)
            if cert is not None and cert.state is CertificationState.CANCELLED:
                change = Change(
                    plan=plan,
                    alias=cert.alias,
                    from_version=cert.version,
                    to_version=cert.version,
                    code_sha256=cert.code_sha256,
                    live_alias=self.rotation.roles(skill).live_alias,
                    certification=cert,
                )
        if change is None:
            self.s.store.finish_plan(plan.id, "interrupted")
            self.rotation.record_interruption(plan)
            report.interrupted.append(plan.summary())
            return
        recorded = self.rotation.record_recovered(change)
        report.completed.append(plan.summary())
        self.s.announcer.change_applied(recorded)

    # -- certifications ----------------------------------------------------------------
    def _promotion(self, cert_id: str, report: RecoveryReport) -> None:
        cert = self.s.store.get_certification(cert_id)
        if cert is None or not cert.pending:
            return
        skill = self.rotation.skill(cert.skill)
        roles: Roles = self.rotation.roles(skill)
        if roles.recorded and roles.live_alias == cert.alias:
            # the tag was written, the record was not: the promotion happened
            change = self.rotation.complete_promotion(skill, cert, RECOVERED_BY)
            report.promotions.append(f"{cert.skill} {cert.alias}")
            self.s.announcer.change_applied(change)
        else:
            self.s.store.mark_promoting(cert.id, None)  # it died before the tag: nothing moved

    # -- announcements -----------------------------------------------------------------
    def _announcements(self, report: RecoveryReport) -> None:
        before = self.s.clock() - ANNOUNCE_GRACE
        for event in self.s.store.unannounced(before, ANNOUNCED_OPERATIONS):
            if event.outcome is not Outcome.APPLIED:
                continue
            if not self.s.store.claim_announcement(event.id, self.s.clock()):
                continue
            if event.operation == Operation.CERTIFY.value:
                continue  # its announcement is the certification message, handled above
            skill = self.s.skills.get(event.skill)
            if skill is None:
                continue
            try:
                self.s.notifier.post(skill.channel, event.detail)
            except SkillbotError as err:
                log.warning("recovery: could not announce %s: %s", event.detail, err)
                continue
            report.announcements.append(event.detail)
