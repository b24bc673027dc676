"""The scheduler: APScheduler runs a reminder pass every second; a sender thread posts.

The schedule itself lives in the database (:mod:`bot.service.reminders`); APScheduler's
job is only the heartbeat, so its job store stays in memory: a persistent APScheduler job
store must not be shared between schedulers, and the reminders table already is. Every
process that runs a scheduler (``python -m bot`` or ``python -m bot scheduler``, one or
several) can run this safely.

APScheduler keeps a job as a text reference (``"bot.adapters.scheduler:reminder_pass"``)
and plain arguments, so a job holds only the id under which its runner is registered
here; several schedulers in one process (tests) each have their own::

    scheduler = Scheduler(reminder_service, [("crash recovery", 60.0, recovery.run)], clock,
                          timezone="Europe/Berlin")
    scheduler.start()
    ...
    scheduler.stop()   # at shutdown: finish the post in progress, give back unsent claims
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.ports import Clock
from bot.service.reminders import Dispatch, ReminderService

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


class PassRunner(Protocol):
    def run_pass(self) -> None: ...


_runners: dict[str, PassRunner] = {}
_guard = threading.Lock()

REMINDER_PASS = "bot.adapters.scheduler:reminder_pass"
MAINTENANCE_PASS = "bot.adapters.scheduler:maintenance_pass"


def register(runner: PassRunner) -> str:
    """Make ``runner`` reachable from jobs; returns the id to pass as the job argument."""
    runner_id = uuid.uuid4().hex
    with _guard:
        _runners[runner_id] = runner
    return runner_id


def unregister(runner_id: str) -> None:
    with _guard:
        _runners.pop(runner_id, None)


def _run(runner_id: str) -> None:
    with _guard:
        runner = _runners.get(runner_id)
    if runner is None:  # the scheduler is stopping
        log.debug("pass for %s skipped: not registered", runner_id)
        return
    runner.run_pass()


def reminder_pass(runner_id: str) -> None:
    """One reminder pass: track new certifications, claim and hand out due reminders."""
    _run(runner_id)


def maintenance_pass(runner_id: str) -> None:
    """A maintenance task: crash recovery, pruning, or reading Alexa's review status."""
    _run(runner_id)


class _Guarded:
    """A periodic task whose failure is logged, never raised into the scheduler."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        self.name, self.work = name, work

    def run_pass(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception("%s failed; it runs again at its next slot", self.name)


class Scheduler:
    """Reminder passes every tick plus periodic maintenance tasks ``(name, every, work)``,
    each run once at start."""

    def __init__(
        self,
        reminders: ReminderService,
        tasks: Sequence[tuple[str, float, Callable[[], object]]],
        clock: Clock,
        *,
        timezone: str,
    ) -> None:
        self.reminders = reminders
        self.tasks = list(tasks)
        self.clock = clock
        self.timezone = timezone
        pacing = reminders.pacing
        self.sender = ReminderSender(
            reminders.deliver, clock, channel_spacing=pacing.channel_spacing
        )
        self._ids: list[str] = []
        self._stopped = threading.Event()
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)}, timezone=timezone
        )

    def start(self) -> None:
        executor_log = logging.getLogger("apscheduler.executors.default")
        if executor_log.level == logging.NOTSET:  # not "Running job ..." every second
            executor_log.setLevel(logging.WARNING)
        pacing = self.reminders.pacing
        runner_id = register(ReminderRunner(self.reminders, self.sender))
        self._ids.append(runner_id)
        self._add(
            REMINDER_PASS,
            IntervalTrigger(seconds=pacing.tick, timezone=self.timezone),
            runner_id,
            REMINDER_PASS_JOB,
            "certification reminders",
        )
        for name, every, work in self.tasks:
            task_id = register(_Guarded(name, work))
            self._ids.append(task_id)
            self._add(
                MAINTENANCE_PASS,
                IntervalTrigger(seconds=every),
                task_id,
                f"maintenance-{name}",
                name,
            )
        self.sender.start()
        self._scheduler.start()

    def _add(
        self, func: str, trigger: IntervalTrigger, runner_id: str, job_id: str, name: str
    ) -> None:
        self._scheduler.add_job(
            func,
            trigger=trigger,
            args=[runner_id],
            id=job_id,
            name=name,
            replace_existing=True,
            # the database knows what is due: a late pass is always worth running, once
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # catch up on start, not a tick later
        )

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        for runner_id in self._ids:
            unregister(runner_id)
        unsent = self.sender.stop()
        try:
            self.reminders.release(unsent)
        except Exception:  # leases expire anyway
            log.exception("reminders: could not give back %d claim(s)", len(unsent))
