"""Nothing Slack refuses is lost: the audit log and the certifications are the outbox.

A post that Slack *refused* (an error answer: the outcome is known) gives its claim back
and is tried again here with a growing pause (at least what Slack's ``Retry-After``
asks), until Slack accepts it. A post whose outcome is unknown (the request went out, no
answer came back) stays claimed: posting again could double it. What a crashed process
left unannounced is picked up once its owner's grace has passed::

    outbox.run()   # the scheduler, every few seconds
"""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from bot.domain.model import Operation, Outcome
from bot.ports import Clock, Store
from bot.service.announcing import Announcer
from bot.service.retries import RetryBook

log = logging.getLogger(__name__)

#: an announcement not claimed this long after its change was left behind by a crash
ANNOUNCE_GRACE = timedelta(seconds=30)
#: a certification message still unposted after this long is no longer news to post
CERTIFICATION_MESSAGE_OWED = timedelta(days=7)
ANNOUNCED_OPERATIONS = [
    "hotfix",
    "certify",
    "rollback",
    "promote",
    "cancel",
    "fix:create_alias",
    "fix:add_trigger",
    "fix:clear_routing",
    "fix:record_roles",
    "lock",
    "unlock",
]


@dataclass
class OutboxReport:
    messages: list[str] = field(default_factory=list)
    announcements: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Outbox:
    store: Store
    announcer: Announcer
    retries: RetryBook
    clock: Clock
    _: KW_ONLY
    grace: timedelta = ANNOUNCE_GRACE

    def _ready(self, key: str, since: datetime) -> bool:
        due = self.retries.due(key)
        if due is None:  # never refused here: its owner may still be posting it
            return since < self.clock() - self.grace
        return due

    def run(self) -> OutboxReport:
        report = OutboxReport()
        now = self.clock()
        self._certification_messages(now, report)
        self._announcements(now, report)
        if report.messages or report.announcements:
            log.info("outbox: posted %s", report)
        return report

    def _certification_messages(self, now: datetime, report: OutboxReport) -> None:
        """Messages never posted, and messages whose update Slack refused."""
        owed_since = now - CERTIFICATION_MESSAGE_OWED
        for cert in self.store.certifications_without_message(now, owed_since):
            if not self._ready(f"certification-message:{cert.id}", cert.created_at):
                continue
            delivery = self.announcer.post_certification_message(cert)
            if delivery.posted and delivery.by_us:
                report.messages.append(cert.skill)
        for cert in self.store.certifications_with_stale_message(owed_since):
            changed = cert.ended_at or cert.created_at  # its owner updates it meanwhile
            ready = self._ready(f"certification-update:{cert.id}", changed)
            if ready and self.announcer.refresh_message(cert).posted:
                report.messages.append(cert.skill)

    def _announcements(self, now: datetime, report: OutboxReport) -> None:
        for event in self.store.unannounced(now, ANNOUNCED_OPERATIONS):
            if event.outcome is not Outcome.APPLIED:
                continue
            if not self._ready(f"announce:{event.id}", event.at):
                continue
            if not self.store.claim_announcement(event.id, self.clock()):
                continue
            if event.operation == Operation.CERTIFY.value:
                continue  # its announcement is the certification message, handled above
            if self.announcer.announce_recorded(event).posted:
                report.announcements.append(event.detail)
