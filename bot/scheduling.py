"""The scheduler: APScheduler runs a reminder pass every second; a sender thread posts.

The schedule itself lives in the database (:mod:`bot.reminders`); APScheduler's job is
only the heartbeat, so its job store stays in memory: a persistent APScheduler job
store must not be shared between schedulers, and the reminders table already is.
Every process that runs a scheduler (``python -m bot`` or ``python -m bot scheduler``,
one or several) can run this safely::

    stop = start_scheduler(services)
    ...
    stop()      # at shutdown: finish the post in progress, give back unsent claims
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import jobs
from bot.ports import Clock
from bot.reminders import Dispatch, Pacing, ReminderBook, ReminderService, build_schedules

if TYPE_CHECKING:
    from bot.wiring import Services

log = logging.getLogger(__name__)

REMINDER_PASS_JOB = "reminder-pass"


class ReminderSender:
    """One thread that posts claimed reminders in send-time order.

    It waits for each claim's ``send_at``, keeps posts to one channel ``channel_spacing``
    apart (also when a post ran late), and pauses for as long as Slack's ``Retry-After``
    asks. While it has work, passes claim nothing new: a slow or rate-limited Slack
    leaves the remaining reminders due in the database, where any replica can take them.
    """

    def __init__(
        self,
        deliver: Callable[[Dispatch], float | None],
        clock: Clock,
        *,
        channel_spacing: float = 1.0,
    ) -> None:
        self._deliver = deliver
        self._clock = clock
        self._spacing = channel_spacing
        self._queue: list[tuple[datetime, int, Dispatch]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._posting = False
        self._stopping = False
        self._paused_until = 0.0  # time.monotonic()
        self._last_post: dict[str, float] = {}  # channel -> time.monotonic()
        self._thread = threading.Thread(target=self._run, name="skillbot-reminders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, dispatches: Sequence[Dispatch]) -> None:
        if not dispatches:
            return
        with self._cond:
            for dispatch in dispatches:
                heapq.heappush(self._queue, (dispatch.send_at, next(self._order), dispatch))
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing queued, nothing being posted, no rate-limit pause."""
        with self._cond:
            return not self._queue and not self._posting and time.monotonic() >= self._paused_until

    def stop(self, timeout: float = 20.0) -> list[Dispatch]:
        """Let the post in progress finish; return the claims that were not posted."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._cond:
            unsent = [dispatch for _, _, dispatch in sorted(self._queue)]
            self._queue.clear()
        return unsent

    def _next(self) -> Dispatch | None:
        """The first claim that may go out now (another channel's is not held up)."""
        with self._cond:
            while not self._stopping:
                if not self._queue:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                wall = self._clock()
                waits = [
                    max(
                        (send_at - wall).total_seconds(),
                        self._last_post.get(d.channel, -self._spacing) + self._spacing - now,
                        self._paused_until - now,
                    )
                    for send_at, _, d in self._queue
                ]
                wait, index = min((w, i) for i, w in enumerate(waits))
                if wait > 0:
                    self._cond.wait(min(wait, 1.0))
                    continue
                _, _, dispatch = self._queue.pop(index)
                heapq.heapify(self._queue)
                self._posting = True
                return dispatch
            return None

    def _run(self) -> None:
        while (dispatch := self._next()) is not None:
            retry_after = None
            try:
                retry_after = self._deliver(dispatch)
            except Exception:  # the database went away mid-delivery: the lease recovers it
                log.exception("reminders: delivering %s failed", dispatch.certification_id)
            with self._cond:
                self._posting = False
                now = time.monotonic()
                self._last_post[dispatch.channel] = now
                if retry_after:
                    self._paused_until = max(self._paused_until, now + retry_after)
                if len(self._last_post) > 1000:  # only recent posts matter for spacing
                    cutoff = now - self._spacing
                    self._last_post = {c: t for c, t in self._last_post.items() if t > cutoff}


class ReminderRunner:
    """What the ``reminder_pass`` job runs: a pass, whose claims go to the sender."""

    def __init__(self, service: ReminderService, sender: ReminderSender) -> None:
        self.service = service
        self.sender = sender
        self._failing_since: float | None = None

    def run_pass(self) -> None:
        began = time.monotonic()
        try:
            dispatches = self.service.run_pass(claim=self.sender.idle())
        except Exception as err:
            # the database is down or restarting: say so once, not every second
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                log.warning("reminders: a pass failed (%s); retrying every second", err)
            return
        if self._failing_since is not None:
            log.info(
                "reminders: passes work again after %.0f s",
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None
        self.sender.submit(dispatches)
        took = time.monotonic() - began
        if took > self.service.pacing.tick:
            log.warning("reminders: a pass took %.2f s (more than a tick)", took)
        else:
            log.debug("reminders: pass took %.1f ms, %d claimed", took * 1000, len(dispatches))


def start_scheduler(services: Services, *, pacing: Pacing | None = None) -> Callable[[], None]:
    """Start reminder passes in the background; returns the function that stops them.

    A wrong ``reminder_schedule`` raises :class:`~bot.domain.errors.ConfigError`
    before anything starts.
    """
    pacing = pacing or Pacing()
    config = services.config
    executor_log = logging.getLogger("apscheduler.executors.default")
    if executor_log.level == logging.NOTSET:  # not "Running job ..." every second
        executor_log.setLevel(logging.WARNING)
    schedules = build_schedules(config, services.skills)
    announcer = services.announcer
    service = ReminderService(
        ReminderBook(services.store.engine),
        services.store,
        services.notifier,
        schedules,
        clock=services.clock,
        approvers=config.approvers,
        reaction=config.promote_reaction,
        # read at each reminder: SMAPI wiring may replace it after the announcer is built
        review_status=lambda cert: announcer.review_status(cert),
        pacing=pacing,
    )
    sender = ReminderSender(service.deliver, services.clock, channel_spacing=pacing.channel_spacing)
    runner_id = jobs.register(ReminderRunner(service, sender))
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        timezone=config.timezone,
    )
    scheduler.add_job(
        jobs.REMINDER_PASS,
        trigger=IntervalTrigger(seconds=pacing.tick, timezone=config.timezone),
        args=[runner_id],
        id=REMINDER_PASS_JOB,
        name="certification reminders",
        replace_existing=True,
        # the database knows what is due: a late pass is always worth running, once
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),  # catch up on start, not a tick later
    )
    maintenance_ids = add_maintenance_jobs(scheduler, services)
    sender.start()
    scheduler.start()
    log.info(
        "reminders: scheduled (%s, %s) as %s",
        config.reminder_schedule,
        config.timezone,
        service.owner,
    )
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        scheduler.shutdown(wait=True)
        jobs.unregister(runner_id)
        for maintenance_id in maintenance_ids:
            jobs.unregister(maintenance_id)
        unsent = sender.stop()
        try:
            service.release(unsent)
        except Exception:  # leases expire anyway
            log.exception("reminders: could not give back %d claim(s)", len(unsent))

    return stop


RECOVERY_EVERY = 60.0  # seconds; also runs once at start
ALEXA_POLL_EVERY = 300.0  # seconds; SMAPI's review status changes over days
DELIVERIES_KEPT = timedelta(days=7)


class _Guarded:
    """A periodic task whose failure is logged, never raised into the scheduler."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        self.name, self.work = name, work

    def run_pass(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception("%s failed; it runs again at its next slot", self.name)


def add_maintenance_jobs(scheduler: BackgroundScheduler, services: Services) -> list[str]:
    """Crash recovery (at start, then every minute) and, with SMAPI, Alexa's status."""
    from bot.recovery import Recovery

    store = services.store
    tasks: list[tuple[str, float, Callable[[], object]]] = [
        ("crash recovery", RECOVERY_EVERY, lambda: Recovery(services).run()),
        # processed Slack event ids only matter while Slack may still retry
        (
            "forget old deliveries",
            3600.0,
            lambda: store.prune_deliveries(services.clock() - DELIVERIES_KEPT),
        ),
    ]
    alexa = services.alexa
    if alexa is not None:
        tasks.append(
            (
                "Alexa certification status",
                ALEXA_POLL_EVERY,
                lambda: alexa.poll(services.store.pending_certifications()),
            )
        )
    ids = []
    for name, every, work in tasks:
        runner_id = jobs.register(_Guarded(name, work))
        ids.append(runner_id)
        scheduler.add_job(
            jobs.MAINTENANCE_PASS,
            trigger=IntervalTrigger(seconds=every),
            args=[runner_id],
            id=f"maintenance-{name}",
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
    return ids
