"""Certification reminders (SPEC §3): when each one is due, and who sends it, exactly once.

The database is the source of truth, so reminders survive restarts and work across
replicas. Each pending certification has one row in ``reminders`` with the slot it is
next due at. A *pass* (every second, from the scheduler, see :mod:`bot.adapters.scheduler`):

1. adds a row for every pending certification that has none (first slot after
   ``created_at``), so certifications created by any process are picked up;
2. *claims* due rows inside one short transaction that replicas take in turn (a
   PostgreSQL advisory lock, ``BEGIN IMMEDIATE`` on SQLite); every claim is also a
   conditional ``UPDATE ... WHERE version = :seen``, so a row is claimed once;
3. gives each claim a send time that keeps one channel's reminders at least a second
   apart, and all reminders a fifth of a second apart (Slack allows about one message
   per second per channel), and claims only what can go out before the next pass:
   the rest stays due in the database, not in a process's memory.

A sender then delivers each claim (:meth:`ReminderService.deliver`): it moves the row
to the first slot *strictly after now* (missed slots collapse into one catch-up
reminder), marks it as being posted, posts the thread reply, and records it. A claim that was
never started is taken over by anyone once its lease ends. The reply is owed in the
outbox under a key of its certification and slot, so a refused one is tried again by the
outbox and a lost answer is looked up, never doubled::

    service = ReminderService(store.reminder_book(), store, outbox, schedules,
                              clock=clock, approvers=["U0CAROL"], reaction="white_check_mark")
    for dispatch in service.run_pass():
        service.deliver(dispatch)
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import SkillbotError
from bot.domain.model import Certification
from bot.domain.news import Reminder
from bot.ports import Clock, NewReminder, ReminderBook, Store
from bot.schedules import Schedules
from bot.service.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pacing:
    """How often passes run and how reminders are spread; seconds."""

    #: a pass every ``tick``: how late after its slot a reminder can be, at most
    tick: float = 1.0
    #: Slack: about one message per second per channel
    channel_spacing: float = 1.0
    #: and a workspace-wide limit: at most five reminders a second overall
    global_spacing: float = 0.2
    #: a pass claims only what can be sent this soon; the rest waits in the database
    horizon: float = 0.8
    #: a claim not started by then may be taken over (its process is gone)
    claim_lease: float = 30.0
    #: a post not finished by then (or by the next slot) counts as "outcome unknown"
    posting_lease: float = 600.0
    #: due rows read per query while claiming
    batch: int = 50
    #: rows created per pass for certifications not tracked yet
    new_rows_per_pass: int = 1000


@dataclass(frozen=True)
class Dispatch:
    """A claimed reminder: post it at ``send_at`` if the row still has ``version``."""

    certification_id: str
    version: int
    slot: datetime
    send_at: datetime
    channel: str
    failures: int = 0


# -- the logic ---------------------------------------------------------------------------


def default_owner() -> str:
    """``host:pid:random``: who holds a claim, as shown in the table and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(eq=False)
class ReminderService:
    """Reminder passes and deliveries over the reminders table, the store and Slack."""

    book: ReminderBook
    store: Store
    outbox: Outbox
    schedules: Schedules
    _: KW_ONLY
    clock: Clock
    approvers: Sequence[str]
    reaction: str
    review_status: Callable[[Certification], str | None] = lambda cert: None
    pacing: Pacing = field(default_factory=Pacing)
    #: who holds this process's claims, as the table and the logs show it
    owner: str = field(default_factory=default_owner)
    _followed_schedules: bool = field(default=False, init=False)

    # -- the pass ---------------------------------------------------------------------
    def run_pass(self, *, claim: bool = True) -> list[Dispatch]:
        """Add rows for new certifications, then claim what is due (unless ``claim`` is
        False: the sender is still busy, or paused by Slack's rate limit)."""
        if not self._followed_schedules:
            self.follow_schedule_changes()
            self._followed_schedules = True
        self.add_missing()
        return self.claim_due() if claim else []

    def add_missing(self) -> int:
        """A row for every pending certification without one: due at its first slot."""
        # bounded, so that a first start over thousands of pending certifications keeps
        # each pass short; the rest follow in the next passes
        missing = self.book.pending_without_row(self.pacing.new_rows_per_pass)
        if not missing:
            return 0
        rows = []
        # cron: certifications started between two slots share the next one
        known: dict[str, tuple[datetime, datetime]] = {}
        for cert_id, skill, created_at in missing:
            schedule = self.schedules.for_skill(skill)
            seen = known.get(schedule.text)
            if schedule.cron is not None and seen and seen[0] <= created_at < seen[1]:
                first = seen[1]
            else:
                first = schedule.next_after(created_at, created_at)
                known[schedule.text] = (created_at, first)
            rows.append(NewReminder(cert_id, schedule.text, first))
        self.book.add(rows)
        log.info("reminders: tracking %d new pending certification(s)", len(rows))
        return len(rows)

    def follow_schedule_changes(self) -> int:
        """Rows computed with another schedule than the skills file's now are moved to the
        new schedule's first slot after their last reminder (or their start).

        Run once per process start; reads only the rows that can differ when few skills
        override the schedule (the usual case), so a start over thousands stays quick.
        """
        overrides = self.schedules.per_skill
        candidates = self.book.schedules_in_use(
            self.clock(),
            unlike=self.schedules.default.text,
            or_skills=sorted(overrides) if len(overrides) <= 500 else None,
        )
        changed = {
            cert_id: self.schedules.for_skill(skill)
            for cert_id, skill, text in candidates
            if text != self.schedules.for_skill(skill).text
        }
        moved = 0
        ids = sorted(changed)
        for start in range(0, len(ids), 500):
            for row in self.book.anchors(ids[start : start + 500]):
                schedule = changed[row.certification_id]
                due = schedule.next_after(row.created_at, row.last_sent_at or row.created_at)
                if self.book.reschedule(row.certification_id, row.version, schedule.text, due):
                    moved += 1
        if moved:
            log.info("reminders: %d certification(s) follow a changed schedule", moved)
        return moved

    def claim_due(self) -> list[Dispatch]:
        """Claim due reminders that can be sent within the horizon, spread per channel."""
        p = self.pacing
        now = self.clock()
        horizon = now + timedelta(seconds=p.horizon)
        channel_gap = timedelta(seconds=p.channel_spacing)
        global_gap = timedelta(seconds=p.global_spacing)
        claimed: list[Dispatch] = []
        with self.book.claiming() as claims:
            last = claims.recent_sends(now - max(channel_gap, global_gap))
            channel_free = {channel: at + channel_gap for channel, at in last.items()}
            global_free = max([now, *(at + global_gap for at in last.values())])
            busy = {channel for channel, free in channel_free.items() if free > horizon}
            handled: set[str] = set()
            while global_free <= horizon:
                rows = claims.due(now, skip_channels=busy, limit=p.batch)
                progressed = False
                for row in rows:
                    if global_free > horizon:
                        break
                    if row.channel in busy or row.certification_id in handled:
                        continue
                    handled.add(row.certification_id)
                    progressed = True
                    if not row.pending:
                        claims.forget(row.certification_id)
                        continue
                    schedule = self.schedules.for_skill(row.skill)
                    if not (row.channel and row.message_ts):
                        log.warning(
                            "reminders: certification %s of %s has no Slack message; "
                            "no reminder for the slot due %s",
                            row.certification_id,
                            row.skill,
                            row.next_due_at.isoformat(),
                        )
                        claims.skip_slot(
                            row, schedule.next_after(row.created_at, now), schedule.text
                        )
                        continue
                    busy.add(row.channel)  # one per channel per pass: spacing >= horizon
                    send_at = max(now, channel_free.get(row.channel, now), global_free)
                    if send_at > horizon:
                        continue
                    if row.posting_since is not None:
                        log.warning(
                            "reminders: %s stopped while posting the reminder of certification "
                            "%s (started %s); it may or may not have reached Slack and is not "
                            "repeated",
                            row.claimed_by,
                            row.certification_id,
                            row.posting_since.isoformat(),
                        )
                    until = send_at + timedelta(seconds=p.claim_lease)
                    if claims.claim(row, self.owner, send_at, until):
                        claimed.append(
                            Dispatch(
                                certification_id=row.certification_id,
                                version=row.version + 1,
                                slot=row.next_due_at,
                                send_at=send_at,
                                channel=row.channel,
                                failures=row.failures,
                            )
                        )
                        channel_free[row.channel] = send_at + channel_gap
                        global_free = send_at + global_gap
                if not progressed:
                    break
        return claimed

    # -- delivering -------------------------------------------------------------------
    def deliver(self, dispatch: Dispatch) -> float | None:
        """Post one claimed reminder (now; the sender waits for ``send_at``).

        Returns the seconds Slack asked to wait when it rate-limited the post, else None.
        """
        cert = self.store.get_certification(dispatch.certification_id)
        if cert is None or not cert.pending:
            self.book.forget(dispatch.certification_id)
            return None
        if not (cert.channel and cert.message_ts):  # claimed only with a message: defensive
            self.book.release(cert.id, dispatch.version)
            return None
        now = self.clock()
        schedule = self.schedules.for_skill(cert.skill)
        regular = schedule.next_after(cert.created_at, now)
        version = dispatch.version
        # held while posting, but never past the next slot: if this process dies
        # mid-post, the next slot is not held up by it
        posting_until = min(regular, now + timedelta(seconds=self.pacing.posting_lease))
        if not self.book.start(
            cert.id,
            version,
            next_due_at=regular,
            schedule=schedule.text,
            now=now,
            until=posting_until,
        ):
            log.info("reminders: the claim on %s was taken over; not posting", cert.id)
            return None
        version += 1
        news = Reminder(
            cert, now, self.approvers, self.reaction, review_status=self._review_status(cert)
        )
        # owed once per slot (a claim taken over never owes it twice); the outbox tries a
        # refused one again, until the next slot makes it old news
        reminder = self.outbox.post(
            f"reminder:{cert.id}:{dispatch.slot.isoformat()}",
            cert.channel,
            news,
            thread=f"certification:{cert.id}",
            thread_ts=cert.message_ts,
            lasts=max(regular - now, timedelta(minutes=1)),
        )
        try:
            delivery = self.outbox.send(reminder)
        except SkillbotError as err:  # the database, not Slack: the lease recovers it
            log.warning("reminders: could not owe the reminder of %s: %s", cert.id, err)
            return None
        self.book.finish(cert.id, version, sent_at=self.clock())
        log.info(
            "reminders: %s %s (v%s on %s, due since %s)",
            "reminded" if delivery.posted else "owed the reminder of",
            cert.skill,
            cert.version,
            cert.alias,
            dispatch.slot.isoformat(),
        )
        return delivery.retry_after

    def release(self, dispatches: Sequence[Dispatch]) -> None:
        """Give back claims that will not be posted here (shutting down)."""
        for dispatch in dispatches:
            self.book.release(dispatch.certification_id, dispatch.version)

    def _review_status(self, cert: Certification) -> str | None:
        try:
            return self.review_status(cert)
        except Exception:  # a status line is not worth losing the reminder for
            log.exception("reminders: could not read the review status of %s", cert.id)
            return None
