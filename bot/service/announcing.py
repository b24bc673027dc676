"""What Slack sees of a change: announcements, the certification message and its thread.

The use cases hand over a recorded :class:`Change`; this turns it into Slack messages
(SPEC §3, §4). Posting problems are logged and never undo a change that AWS already
made; the audit log is the outbox, so a change is announced once whichever process
gets to it::

    announcer.change_applied(change)   # certify: posts the certification message
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass

from bot.domain.errors import SkillbotError
from bot.domain.model import AuditEvent, Certification, Change, Operation, Skill
from bot.domain.news import Announcement, AwsFunction, CertificationNews, News, NotAnApprover
from bot.domain.words import Channel, Icon, Words, words
from bot.ports import Clock, Notifier, Store
from bot.service.retries import RetryBook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What became of a post: taken by Slack, refused (tried again later), or unknown."""

    posted: bool
    reason: str = ""
    unknown: bool = False
    #: False when another process had already claimed (and so handles) this post
    by_us: bool = True

    def note(
        self, channel: str, *, what: str = "the announcement", done: str = "Applied in AWS"
    ) -> Words:
        """What to tell the person whose change it was."""
        if self.unknown:
            return words(
                Icon("warning"),
                f"Slack did not answer while {what} was posted in ",
                Channel(channel),
                ": it may have been posted, and is not repeated so that it is never doubled.",
            )
        return words(
            Icon("warning"),
            f"{done}, but Slack refused {what} in ",
            Channel(channel),
            f": {self.reason} It is posted as soon as Slack accepts it.",
        )


POSTED = Delivery(True)
HANDLED_ELSEWHERE = Delivery(True, by_us=False)

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
    notifier: Notifier
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
    #: when refused posts are tried again (see bot.service.outbox)
    retries: RetryBook | None = None
    #: the certification message's line naming the endpoint certification calls
    endpoint_line: EndpointLine = no_endpoint_line

    def console(self, skill: Skill) -> AwsFunction | None:
        return AwsFunction(self.region, skill.placements[0].function) if self.region else None

    def change_applied(self, change: Change) -> Delivery:
        """Announce a change in the skill's channel (and the certification's thread)."""
        if change.noop:
            return POSTED
        if change.audit_id and not self.store.claim_announcement(change.audit_id, self.clock()):
            return HANDLED_ELSEWHERE  # announced already (by the outbox after a restart)
        skill = self.skills[change.plan.skill]
        op = change.plan.operation
        delivery = POSTED
        if op is Operation.CERTIFY and change.certification:
            delivery = self.post_certification_message(
                change.certification, from_version=change.from_version
            )
        elif op is Operation.CANCEL and change.certification:
            # its news is the certification message's: updated, and said in its thread
            # (an update Slack refuses is made again by the outbox, showing the cancel)
            delivery = self._message_changed(change.certification, news=change.headline())
        else:
            try:
                self._announce(skill, change)
            except SkillbotError as err:
                delivery = self._refused(f"announce:{change.audit_id}", err, change.headline())
                if change.audit_id and not err.outcome_unknown:
                    self.store.release_announcement(change.audit_id)
            if op is Operation.PROMOTE and change.certification:
                # apart from the announcement: neither is posted again for the other
                self._message_changed(change.certification, news=change.headline())
        for hook in self.after_change:
            try:
                hook(change)
            except Exception:
                log.exception("after-change hook failed for %s", change.headline())
        return delivery

    def announce_recorded(self, event: AuditEvent) -> Delivery:
        """Announce a change known only from its audit record (left unannounced by a crash,
        or refused by Slack before); the caller has claimed it."""
        skill = self.skills.get(event.skill)
        if skill is None:
            return POSTED  # no longer configured: nobody to tell
        try:
            self.notifier.post(skill.channel, event.detail)
        except SkillbotError as err:
            if not err.outcome_unknown:
                self.store.release_announcement(event.id)
            return self._refused(f"announce:{event.id}", err, event.detail)
        self._posted(f"announce:{event.id}")
        return POSTED

    def event_recorded(self, event: AuditEvent) -> Delivery:
        """Announce a change whose record says it all (a lock, an unlock): claimed here,
        or, when Slack refuses it now, posted by the outbox once Slack accepts it."""
        if not self.store.claim_announcement(event.id, self.clock()):
            return HANDLED_ELSEWHERE
        return self.announce_recorded(event)

    def _refused(self, key: str, err: SkillbotError, what: str) -> Delivery:
        if err.outcome_unknown:
            log.warning("no answer from Slack for %r (%s); not repeated", what, err.message)
            self._posted(key)
            return Delivery(False, err.message, unknown=True)
        retry_at = self.retries.refused(key, err) if self.retries else None
        log.warning(
            "Slack refused %r: %s %s; trying again%s",
            what,
            err.message,
            err.hint,
            f" at {retry_at:%H:%M:%S}" if retry_at else " later",
        )
        return Delivery(False, f"{err.message} {err.hint}".strip())

    def _posted(self, key: str) -> None:
        if self.retries:
            self.retries.done(key)

    def _announce(self, skill: Skill, change: Change) -> None:
        self.notifier.post(skill.channel, Announcement(change, self.console(skill)))

    def post_certification_message(
        self, cert: Certification, *, from_version: str | None = None
    ) -> Delivery:
        """The one top-level message of a certification; its ts is recorded for threads.

        Claimed in the database first, so a recovering replica never posts it twice; a
        post Slack refused gives the claim back, to be posted by the outbox."""
        key = f"certification-message:{cert.id}"
        if not self.store.first_delivery(key, self.clock()):
            return HANDLED_ELSEWHERE
        channel = self.skills[cert.skill].channel
        try:
            ts = self.notifier.post(channel, self.news(cert, from_version))
        except SkillbotError as err:
            if not err.outcome_unknown:
                self.store.forget_delivery(key)
            return self._refused(key, err, f"the certification message of {cert.id}")
        self.store.set_certification_message(cert.id, channel, ts, cert.state)
        self._posted(key)
        return POSTED

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

    def certification_changed(self, cert: Certification, *, news: str | None = None) -> None:
        """Update the certification message in place; say what happened in its thread."""
        fresh = self.store.get_certification(cert.id) or cert
        if not (fresh.channel and fresh.message_ts):
            # not posted yet: the outbox posts it, showing how it stands then
            log.warning("certification %s has no Slack message to update", fresh.id)
            return
        self.notifier.update(fresh.channel, fresh.message_ts, self.news(fresh))
        self.store.certification_message_shows(fresh.id, fresh.state)
        if news:
            self.notifier.post(fresh.channel, news, thread_ts=fresh.message_ts)

    def _message_changed(self, cert: Certification, *, news: str) -> Delivery:
        """:meth:`certification_changed`, telling (not raising) what Slack refused; the
        outbox makes a refused update again."""
        try:
            self.certification_changed(cert, news=news)
        except SkillbotError as err:
            return self._refused(f"certification-update:{cert.id}", err, news)
        return POSTED

    def refresh_message(self, cert: Certification) -> Delivery:
        """The outbox's retry of a refused update: the message shows ``cert`` as it is."""
        try:
            self.certification_changed(cert)
        except SkillbotError as err:
            return self._refused(f"certification-update:{cert.id}", err, cert.id)
        self._posted(f"certification-update:{cert.id}")
        return POSTED

    def tell(self, channel: str, user: str, said: News) -> None:
        """A reply only ``user`` sees (an ephemeral message in ``channel``)."""
        try:
            self.notifier.tell(channel, user, said)
        except SkillbotError as err:
            log.warning("could not tell %s in %s: %s", user, channel, err)

    def not_an_approver(self, channel: str, user: str) -> None:
        """Tell ``user`` privately that only the approvers promote by reacting."""
        self.tell(channel, user, NotAnApprover(user, self.approvers, self.reaction))

    def thread_reply(self, cert: Certification, text: str | Words) -> None:
        if not (cert.channel and cert.message_ts):
            cert = self.store.get_certification(cert.id) or cert  # posted since it was read
        if cert.channel and cert.message_ts:
            self.notifier.post(cert.channel, text, thread_ts=cert.message_ts)
        else:
            log.warning("certification %s has no Slack thread for: %s", cert.id, text)
