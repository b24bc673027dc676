"""When a post Slack refused may be tried again: a growing pause, at least what Slack's
``Retry-After`` asks::

    at = retries.refused("announce:42", err)   # then retries.due(...), retries.done(...)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import SkillbotError
from bot.ports import Clock


def backoff(first: float, longest: float, failures: int, retry_after: float | None) -> float:
    """Seconds to wait after ``failures`` earlier failures: what Slack's ``Retry-After``
    asked when it said (it knows when it takes posts again), else ``first``, doubling, at
    most ``longest``.

    >>> backoff(5, 300, 3, None), backoff(5, 300, 3, 8.0)
    (40, 8.0)
    """
    return retry_after if retry_after else min(longest, first * 2**failures)


@dataclass
class RetryBook:
    """When a refused post may be tried again (this process's memory; the database keeps
    what is still to be posted, so a restart only resets the pauses)."""

    clock: Clock
    first: float = 5.0
    longest: float = 300.0
    _next: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refused(self, key: str, err: SkillbotError) -> datetime:
        with self._lock:
            failures = self._next.get(key, (0, self.clock()))[0] + 1
            pause = backoff(self.first, self.longest, failures - 1, err.retry_after)
            at = self.clock() + timedelta(seconds=pause)
            self._next[key] = (failures, at)
            return at

    def due(self, key: str) -> bool | None:
        """True or False for a refused post; None when this process never saw it refused."""
        with self._lock:
            entry = self._next.get(key)
        return None if entry is None else entry[1] <= self.clock()

    def done(self, key: str) -> None:
        with self._lock:
            self._next.pop(key, None)
