"""The scheduler: APScheduler runs the jobs it is handed, each every so many seconds.

What is due lives in the database (the reminders table, plan claims, the outbox,
canaries), so APScheduler is only the heartbeat and its job store stays in memory.
APScheduler's guide asks a job kept in a *persistent* store to name a module-level
callable by text and take only plain ids, because the store outlives the process; a
memory store holds nothing across a restart, so its jobs are the callables the
composition root hands in (bound methods of the services it built). Restart safety is
the database's: every job runs once at start (``next_run_time`` now) and finds there
what was due while the process was down, and a persistent job store would be wrong
here anyway, since it must not be shared by schedulers while every replica runs one::

    scheduler = Scheduler([Job("crash recovery", 60.0, recovery.run)], timezone="UTC")
    scheduler.start()
    ...
    scheduler.stop()   # waits for the job in progress
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """``run`` every ``every`` seconds, and once at start; a failure is logged, never
    raised into the scheduler."""

    name: str
    every: float
    run: Callable[[], object]

    def __call__(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("%s failed; it runs again at its next slot", self.name)


class Scheduler:
    """The jobs on one APScheduler thread, one job at a time."""

    def __init__(self, jobs: Sequence[Job], *, timezone: str) -> None:
        self.jobs = list(jobs)
        self.timezone = timezone
        self._stopped = threading.Event()
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)}, timezone=timezone
        )

    def start(self) -> None:
        executor_log = logging.getLogger("apscheduler.executors.default")
        if executor_log.level == logging.NOTSET:  # not "Running job ..." every second
            executor_log.setLevel(logging.WARNING)
        for job in self.jobs:
            self._scheduler.add_job(
                job,
                trigger=IntervalTrigger(seconds=job.every, timezone=self.timezone),
                id=job.name,
                name=job.name,
                replace_existing=True,
                # the database knows what is due: a late run is always worth making, once
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),  # catch up on start, not a period later
            )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop running jobs; waits for the one in progress. Stopping twice is harmless."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
