"""Module-level callables that the scheduler runs, referenced by text.

APScheduler keeps a job as a reference (``"bot.jobs:reminder_pass"``) and plain
arguments, so a job cannot hold the services it works with. :func:`bot.scheduling.
start_scheduler` registers what it built here under an id and gives the job only that
id; several schedulers in one process (tests) each have their own::

    runner_id = jobs.register(runner)      # runner.run_pass() does the work
    scheduler.add_job("bot.jobs:reminder_pass", args=[runner_id], ...)
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Protocol

log = logging.getLogger(__name__)

REMINDER_PASS = "bot.jobs:reminder_pass"
MAINTENANCE_PASS = "bot.jobs:maintenance_pass"


class PassRunner(Protocol):
    def run_pass(self) -> None: ...


_runners: dict[str, PassRunner] = {}
_guard = threading.Lock()


def register(runner: PassRunner) -> str:
    """Make ``runner`` reachable from jobs; returns the id to pass as the job argument."""
    runner_id = uuid.uuid4().hex
    with _guard:
        _runners[runner_id] = runner
    return runner_id


def unregister(runner_id: str) -> None:
    with _guard:
        _runners.pop(runner_id, None)


def reminder_pass(runner_id: str) -> None:
    """One reminder pass: track new certifications, claim and hand out due reminders."""
    with _guard:
        runner = _runners.get(runner_id)
    if runner is None:  # the scheduler is stopping
        log.debug("reminder pass for %s skipped: not registered", runner_id)
        return
    runner.run_pass()


def maintenance_pass(runner_id: str) -> None:
    """Crash recovery, or reading Alexa's certification status (see bot.scheduling)."""
    with _guard:
        runner = _runners.get(runner_id)
    if runner is None:
        return
    runner.run_pass()
