"""Nothing Slack refuses is lost, nothing is doubled: every message the bot owes Slack is a
row of one outbox, delivered by one deliverer with one retry policy.

A use case owes its messages (announcements, the certification message and its updates,
thread replies, canary messages, reminders, replies only one person sees, App Homes) —
with the state change that owes them where it can (:meth:`Store.add_audit`) — and asks
for them to be sent at once, so the person learns at the first refusal. A refused row is
tried again after a growing pause (exactly what Slack's ``Retry-After`` asks, when it
does), by whichever replica claims it first, also after a restart. A post whose answer
was lost is looked up by its idempotency key (in the message's metadata) before it is
posted again. An update or a Home owed again replaces what is still owed::

    outbox.send(outbox.post(f"announce:{audit_id}", "C0TRIVIA", Announcement(change)))
    outbox.run()   # the scheduler, every few seconds: what is due, from any replica
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta

from bot.domain.errors import SkillbotError, Unavailable
from bot.domain.model import new_id
from bot.domain.news import HomeView, News
from bot.domain.words import Channel, Icon, Words, words
from bot.ports import (
    EPHEMERAL,
    FILE,
    HOME,
    POST,
    UPDATE,
    Clock,
    OutboxStore,
    OwedMessage,
    OwedRow,
    Presenter,
    SharedFile,
    SlackSender,
)

log = logging.getLogger(__name__)

#: how long a message is worth posting
WEEK = timedelta(days=7)
#: a reply only one person sees is of no use to them later than this
TELL_LASTS = timedelta(minutes=10)
HOME_LASTS = timedelta(days=1)


@dataclass(frozen=True)
class Delivery:
    """What became of a message: taken by Slack, refused (tried again later), or unknown."""

    posted: bool
    reason: str = ""
    unknown: bool = False
    #: False when another process had already claimed (and so handles) this message
    by_us: bool = True
    ts: str | None = None
    #: what Slack's Retry-After asked, when it refused
    retry_after: float | None = None
    #: why, when Slack refused it just now
    error: SkillbotError | None = None

    def note(
        self, channel: str, *, what: str = "the announcement", done: str = "Applied in AWS"
    ) -> Words:
        """What to tell the person whose change it was."""
        if self.unknown:
            return words(
                Icon("warning"),
                f"{done}, but Slack did not answer while {what} was posted in ",
                Channel(channel),
                ": it may have been posted. skillbot looks for it there and posts it again "
                "only if Slack does not show it, so it is never doubled.",
            )
        return words(
            Icon("warning"),
            f"{done}, but Slack refused {what} in ",
            Channel(channel),
            f": {self.reason} It is posted as soon as Slack accepts it.",
        )


POSTED = Delivery(True)
HANDLED_ELSEWHERE = Delivery(True, by_us=False)


def backoff(first: float, longest: float, failures: int, retry_after: float | None) -> float:
    """Seconds to wait after ``failures`` earlier failures: what Slack's ``Retry-After``
    asked when it said (it knows when it takes posts again), else ``first``, doubling, at
    most ``longest``.

    >>> backoff(5, 300, 3, None), backoff(5, 300, 3, 8.0), backoff(5, 300, 9, None)
    (40, 8.0, 300)
    """
    return retry_after if retry_after else min(longest, first * 2 ** min(failures, 30))


@dataclass(eq=False)
class Outbox:
    store: OutboxStore
    slack: SlackSender
    presenter: Presenter
    clock: Clock
    _: KW_ONLY
    #: this process, for claims (a claim of one that died lapses after ``lease``)
    owner: str = field(default_factory=new_id)
    first: float = 5.0
    longest: float = 300.0
    #: longer than one delivery can take (three posts and lookups of at most 15 s each)
    lease: timedelta = timedelta(seconds=120)
    #: posts made again at once after a lost answer Slack's history does not show
    lost_answer_tries: int = 3
    batch: int = 50

    # -- what is owed -------------------------------------------------------------------
    def post(
        self,
        key: str,
        channel: str,
        news: News | str | Words,
        *,
        thread: str | None = None,
        thread_ts: str | None = None,
        on_posted: str | None = None,
        lasts: timedelta = WEEK,
    ) -> OwedMessage:
        """A post in ``channel`` (in the thread of the message keyed ``thread``, or of
        ``thread_ts``); ``on_posted`` records its ts with its subject."""
        return OwedMessage(
            key,
            POST,
            channel,
            self.presenter.render(news),
            parent=thread,
            parent_ts=thread_ts,
            on_posted=on_posted,
            lasts=lasts,
        )

    def update(
        self, channel: str, news: News, *, of: str | None = None, ts: str | None = None
    ) -> OwedMessage:
        """The message keyed ``of`` (or at ``ts``) made to show ``news``; owed again, the
        newest replaces what is still owed."""
        return OwedMessage(
            f"update:{of or f'{channel}:{ts}'}",
            UPDATE,
            channel,
            self.presenter.render(news),
            parent=of,
            parent_ts=ts,
        )

    def share(
        self,
        key: str,
        channel: str,
        file: SharedFile,
        comment: News | str | Words,
        *,
        thread: str | None = None,
        thread_ts: str | None = None,
    ) -> OwedMessage:
        """``file`` shared in ``channel`` (in the thread of the message keyed ``thread``, or
        of ``thread_ts``) with ``comment``."""
        return OwedMessage(
            key,
            FILE,
            channel,
            self.presenter.render(comment),
            parent=thread,
            parent_ts=thread_ts,
            file=file,
        )

    def tell(self, channel: str, user: str, news: News | str | Words) -> OwedMessage:
        """A reply only ``user`` sees, in ``channel``."""
        rendered = self.presenter.render(news)
        return OwedMessage(
            f"tell:{new_id()}", EPHEMERAL, channel, rendered, user=user, lasts=TELL_LASTS
        )

    def home(self, user: str, view: HomeView) -> OwedMessage:
        return OwedMessage(
            f"home:{user}", HOME, rendered=self.presenter.home(view), user=user, lasts=HOME_LASTS
        )

    # -- sending ------------------------------------------------------------------------
    def owe(self, messages: Sequence[OwedMessage]) -> None:
        self.store.owe(messages, self.clock())

    def send(self, *messages: OwedMessage) -> Delivery:
        """Owe ``messages`` and try each now: the first that Slack did not take tells
        why, else the first's delivery (with its ts)."""
        self.owe(messages)
        return self.deliver_all([m.key for m in messages])

    def deliver_all(self, keys: Sequence[str]) -> Delivery:
        deliveries = [self.deliver(key) for key in keys]
        failed = [d for d in deliveries if not d.posted]
        return failed[0] if failed else (deliveries[0] if deliveries else POSTED)

    def deliver(self, key: str) -> Delivery:
        """Send the row ``key`` now if it is due and this process gets its claim."""
        now = self.clock()
        row = self.store.claim_owed(key, self.owner, now, now + self.lease)
        if row is None:
            return self._not_claimed(key)
        message = row.message
        try:
            ts = self._send(row)
        except SkillbotError as err:
            unknown = bool(err.outcome_unknown) and message.kind in (POST, FILE)
            if err.outcome_unknown and message.kind == EPHEMERAL:
                self.store.owed_sent(key, row.version, None, self.clock())  # never twice
                return POSTED
            pause = backoff(self.first, self.longest, row.attempts, err.retry_after)
            reason = f"{err.message} {err.hint}".strip()
            self.store.owed_failed(
                key, row.version, self.clock() + timedelta(seconds=pause), reason, unknown=unknown
            )
            log.warning(
                "slack: %s %s not %s (%s); trying again in %.0f s",
                message.kind,
                key,
                "known to be taken" if unknown else "taken",
                err.message,
                pause,
            )
            return Delivery(False, reason, unknown=unknown, retry_after=err.retry_after, error=err)
        except Exception:
            # an internal error: tried again after the longest pause, never in a loop
            self.store.owed_failed(
                key,
                row.version,
                self.clock() + timedelta(seconds=self.longest),
                "internal error",
                unknown=message.kind in (POST, FILE),
            )
            raise
        self.store.owed_sent(key, row.version, ts, self.clock())
        return Delivery(True, ts=ts)

    def _not_claimed(self, key: str) -> Delivery:
        row = self.store.owed(key)
        if row is None or row.state == "sent":
            return Delivery(True, by_us=False, ts=row.ts if row else None)
        if row.state == "expired":
            return Delivery(False, "It is no longer worth posting.")
        if row.attempts:  # refused before: waiting for its next try
            return Delivery(False, row.last_error, unknown=row.unknown)
        if row.message.parent and not row.message.parent_ts:
            return Delivery(False, "It follows the message it belongs to, not posted yet.")
        return HANDLED_ELSEWHERE

    def _send(self, row: OwedRow) -> str | None:
        message = row.message
        match message.kind:
            case "post":
                return self._post(row)
            case "update":
                assert message.parent_ts is not None  # claimed only once the parent is posted
                self.slack.update(message.channel, message.parent_ts, message.rendered)
            case "ephemeral":
                assert message.user is not None
                self.slack.tell(message.channel, message.user, message.rendered)
            case "home":
                assert message.user is not None
                self.slack.publish_home(message.user, message.rendered)
            case "file":
                return self._share(row)
        return None

    def _share(self, row: OwedRow) -> str | None:
        """Share once: after a lost answer, the file is looked for first."""
        message = row.message
        assert message.file is not None
        if row.unknown:
            found = self.slack.find_file(message.channel, message.file.filename, message.parent_ts)
            if found is not None:
                return found
        return self.slack.share_file(
            message.channel,
            message.file,
            comment=message.rendered.text,
            thread_ts=message.parent_ts,
        )

    def _post(self, row: OwedRow) -> str:
        """Post once: after a lost answer, the key is looked for first."""
        message = row.message
        where = (message.channel, message.key, message.parent_ts)
        if row.unknown and (found := self.slack.find(*where)) is not None:
            log.info("slack: %s was posted; its answer was lost", message.key)
            return found
        for tries in range(1, self.lost_answer_tries + 1):
            try:
                return self.slack.post(
                    message.channel, message.rendered, key=message.key, thread_ts=message.parent_ts
                )
            except Unavailable as err:
                if not err.outcome_unknown or tries == self.lost_answer_tries:
                    raise
                found = self.slack.find(*where)
                if found is not None:
                    log.info("slack: %s was posted; its answer was lost", message.key)
                    return found
                log.info("slack: %s was not posted; posting it again", message.key)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # -- the scheduler's pass -----------------------------------------------------------
    def run(self) -> int:
        """Send what is due (from any replica, after any restart); the number sent."""
        now = self.clock()
        for row in self.store.expire_owed(now):
            log.warning(
                "slack: %s %s given up after %d attempts: %s",
                row.message.kind,
                row.message.key,
                row.attempts,
                row.last_error,
            )
        sent = 0
        for _ in range(5):  # again while it sends: a reply or an update whose message it posted
            keys = self.store.due_owed(self.clock(), self.batch)
            sent_now, paused = 0, False
            for key in keys:
                delivery = self.deliver(key)
                if delivery.posted and delivery.by_us:
                    sent_now += 1
                elif delivery.retry_after:  # Slack asked for a pause: the rest wait with it
                    paused = True
                    break
            sent += sent_now
            if paused or not sent_now:
                break
        if sent:
            log.info("slack: the outbox sent %d message(s)", sent)
        return sent
