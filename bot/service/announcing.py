"""What Slack sees of a change: announcements, the certification message and its thread.

The use cases hand over a recorded :class:`Change`; this says which messages it owes
(SPEC §3, §4), owed with its record in one transaction (:meth:`messages_for` is what
:meth:`RotationContext.record_change` writes beside the audit event), and sends them
through the one outbox. Posting problems never undo a change that AWS already made: the
outbox posts a refused message once Slack takes it::

    announcer.change_applied(change)   # certify: posts the certification message
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import timedelta

from bot.domain.model import AuditEvent, Certification, Change, Operation, Outcome, Skill, new_id
from bot.domain.news import Announcement, AwsFunction, CertificationNews, News, NotAnApprover
from bot.domain.words import Words
from bot.ports import Clock, OwedMessage, Store
from bot.service.outbox import POSTED, Delivery, Outbox

log = logging.getLogger(__name__)

#: a change recorded without its messages (by an earlier version) this long ago is owed
ANNOUNCE_GRACE = timedelta(seconds=30)
#: a certification message still unposted after this long is no longer news to post
CERTIFICATION_MESSAGE_OWED = timedelta(days=7)
ANNOUNCED_OPERATIONS = [
    "hotfix",
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


def certification_key(cert: Certification) -> str:
    """The certification message's idempotency key (its thread's parent)."""
    return f"certification:{cert.id}"


#: a line on a certification's Alexa review for messages, reminders and status (or None)
ReviewStatus = Callable[[Certification], str | None]
#: the certification message's line naming the endpoint certification calls (or None)
EndpointLine = Callable[[Certification], Words | None]


def no_endpoint_line(cert: Certification) -> Words | None:
    return None


def no_review(cert: Certification) -> str | None:
    return None


@dataclass(eq=False)
class Announcer:
    outbox: Outbox
    store: Store
    skills: dict[str, Skill]
    _: KW_ONLY
    approvers: Sequence[str]
    reaction: str
    #: how many approvers' yes a promotion needs
    approvals: int = 1
    #: the skills file's zone (a scheduled promotion's time is shown in it)
    timezone: str = "UTC"
    region: str | None
    clock: Clock
    review_status: ReviewStatus = no_review
    #: called after every change (e.g. the App Home refresh)
    after_change: Sequence[Callable[[Change], None]] = ()
    #: the certification message's line naming the endpoint certification calls
    endpoint_line: EndpointLine = no_endpoint_line

    def console(self, skill: Skill) -> AwsFunction | None:
        return AwsFunction(self.region, skill.placements[0].function) if self.region else None

    # -- what a change owes ---------------------------------------------------------------
    def messages_for(self, change: Change) -> list[OwedMessage]:
        """The messages ``change`` owes Slack: its announcement (certify: the certification
        message), and the certification message's update and thread reply."""
        if change.noop:
            return []
        skill = self.skills[change.plan.skill]
        op = change.plan.operation
        cert = change.certification
        if op is Operation.CERTIFY and cert:
            return [self._certification_message(cert, change.from_version)]
        owed = []
        if not (op is Operation.CANCEL and cert):  # a cancel's news is its message's
            key = f"announce:{change.audit_id or change.plan.id}"
            owed.append(
                self.outbox.post(key, skill.channel, Announcement(change, self.console(skill)))
            )
        if op in (Operation.CANCEL, Operation.PROMOTE) and cert:
            owed += self.certification_update(cert, news=change.headline(), about=change.audit_id)
        return owed

    def change_applied(self, change: Change) -> Delivery:
        """Send what ``change`` owes (owed again harmlessly when its record owed it)."""
        delivery = self.outbox.send(*self.messages_for(change)) if not change.noop else POSTED
        for hook in self.after_change:
            try:
                hook(change)
            except Exception:
                log.exception("after-change hook failed for %s", change.headline())
        return delivery

    def event_messages(self, event: AuditEvent) -> list[OwedMessage]:
        """What a change whose record says it all (a lock, an unlock) owes: its record's
        words, in the skill's channel."""
        skill = self.skills.get(event.skill)
        if skill is None:
            return []  # no longer configured: nobody to tell
        return [self.outbox.post(f"announce:{event.id}", skill.channel, event.detail)]

    def event_recorded(self, event: AuditEvent) -> Delivery:
        """Send what :meth:`event_messages` owed with the record."""
        return self.outbox.send(*self.event_messages(event))

    def owe_left_behind(self) -> list[str]:
        """What a change recorded without its messages (by an earlier version of the bot,
        or before a crash) still owes: owed now, sent by the outbox. Their keys."""
        now = self.clock()
        owed: list[OwedMessage] = []
        for event in self.store.unannounced(now - ANNOUNCE_GRACE, ANNOUNCED_OPERATIONS):
            skill = self.skills.get(event.skill)
            if (
                event.outcome is Outcome.APPLIED
                and skill is not None
                and self.store.claim_announcement(event.id, now)
            ):
                key = f"announce:{event.id}"
                owed.append(self.outbox.post(key, skill.channel, event.detail))
        since = now - CERTIFICATION_MESSAGE_OWED
        for cert in self.store.certifications_without_message(now, since):
            if cert.skill in self.skills and cert.created_at < now - ANNOUNCE_GRACE:
                owed.append(self._certification_message(cert))
        self.outbox.owe(owed)
        return [message.key for message in owed]

    # -- the certification message --------------------------------------------------------
    def _certification_message(
        self, cert: Certification, from_version: str | None = None
    ) -> OwedMessage:
        """The one top-level message of a certification; its ts is recorded for threads."""
        key = certification_key(cert)
        channel = self.skills[cert.skill].channel
        return self.outbox.post(key, channel, self.news(cert, from_version), on_posted=key)

    def news(self, cert: Certification, from_version: str | None = None) -> CertificationNews:
        """What the certification message says of ``cert`` now."""
        skill = self.skills[cert.skill]
        if from_version is None:
            # the version the candidate alias left, from the certify record
            for event in self.store.alias_moves(cert.skill, cert.alias, limit=20):
                if event.operation == "certify" and event.to_version == cert.version:
                    from_version = event.from_version
                    break
        return CertificationNews(
            cert,
            self.clock(),
            tuple(self.approvers),
            self.reaction,
            from_version=from_version,
            review_status=self.review_status(cert),
            endpoint=self.endpoint_line(cert),
            console=self.console(skill),
            lock=self.store.lock_of(cert.skill) if cert.pending else None,
            approvals=self.approvals,
            approved=tuple(self.store.approvals(cert.id)) if self.approvals > 1 else (),
            scheduled=self.store.scheduled_promotion(cert.id) if cert.pending else None,
            timezone=self.timezone,
        )

    def certification_update(
        self, cert: Certification, *, news: str | Words | None = None, about: str | None = None
    ) -> list[OwedMessage]:
        """The certification message made to show ``cert`` as it is now, and ``news`` said
        in its thread (keyed by ``about``, the change it tells of, when there is one)."""
        fresh = self.store.get_certification(cert.id) or cert
        channel = fresh.channel or self.skills[fresh.skill].channel
        key = certification_key(fresh)
        owed = [self.outbox.update(channel, self.news(fresh), of=key, ts=fresh.message_ts)]
        if news:
            owed.append(self._reply(fresh, news, key=f"reply:{about or new_id()}"))
        return owed

    def certification_changed(self, cert: Certification, *, news: str | None = None) -> Delivery:
        """Update the certification message in place; say what happened in its thread."""
        return self.outbox.send(*self.certification_update(cert, news=news))

    def _reply(self, cert: Certification, text: str | Words, *, key: str) -> OwedMessage:
        channel = cert.channel or self.skills[cert.skill].channel
        return self.outbox.post(
            key, channel, text, thread=certification_key(cert), thread_ts=cert.message_ts
        )

    def thread_reply(self, cert: Certification, text: str | Words) -> Delivery:
        """A reply in the certification message's thread (posted once the message is)."""
        if not (cert.channel and cert.message_ts):
            cert = self.store.get_certification(cert.id) or cert  # posted since it was read
        return self.outbox.send(self._reply(cert, text, key=f"reply:{new_id()}"))

    # -- to one person --------------------------------------------------------------------
    def tell(self, channel: str, user: str, said: News) -> None:
        """A reply only ``user`` sees (an ephemeral message in ``channel``)."""
        self.outbox.send(self.outbox.tell(channel, user, said))

    def not_an_approver(self, channel: str, user: str) -> None:
        """Tell ``user`` privately that only the approvers promote by reacting."""
        self.tell(channel, user, NotAnApprover(user, self.approvers, self.reaction))
