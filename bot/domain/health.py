"""How a release does: the live alias's figures before and after a change, and the
verdict a health report gives (SPEC §3, "Health report").

Each side is the same length of time (the report's delay) before and after the change,
all executed versions together; a release is *worse* when the error rate rose by more
than the canary margin (with enough invocations after it to tell), or the p99 duration
grew by more than half::

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    >>> before = side([VersionPoint("7", at, 1000, 4, 180.0)])
    >>> after = side([VersionPoint("9", at, 1000, 40, 175.0)])
    >>> v = judge(before, after, max_error_rate_increase=1.0, min_invocations=10)
    >>> v.worse, v.why
    (True, 'error rate up 3.6 points')
    >>> v.line()
    'Error rate 0.4% → 4.0%, p99 180 ms → 175 ms: worse than before (error rate up 3.6 points).'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

#: a release is worse when its p99 duration grew beyond this factor
P99_FACTOR = 1.5


class VersionPoint(NamedTuple):
    """One metric period of one executed version behind an alias: what CloudWatch sums
    (invocations, errors) and its p99 duration in milliseconds (None when not known)."""

    version: str
    start: datetime
    invocations: int
    errors: int
    p99_ms: float | None


@dataclass(frozen=True)
class Side:
    """One side of a change: every version's invocations and errors together, and the
    p99 duration (the invocation-weighted mean of the periods' p99s)."""

    invocations: int = 0
    errors: int = 0
    p99_ms: float | None = None

    @property
    def rate(self) -> float | None:
        """Errors per 100 invocations; None without invocations."""
        return 100.0 * self.errors / self.invocations if self.invocations > 0 else None


def side(points: Sequence[VersionPoint]) -> Side:
    """The totals of ``points``.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    >>> side([VersionPoint("7", at, 30, 3, 100.0), VersionPoint("7", at, 10, 0, 300.0)])
    Side(invocations=40, errors=3, p99_ms=150.0)
    """
    invocations = sum(p.invocations for p in points)
    timed = [(p.p99_ms, p.invocations) for p in points if p.p99_ms is not None and p.invocations]
    weight = sum(n for _, n in timed)
    p99 = sum(ms * n for ms, n in timed) / weight if weight else None
    return Side(invocations, sum(p.errors for p in points), p99)


@dataclass(frozen=True)
class Verdict:
    """Before → after, and whether the release is worse (and why)."""

    before: Side
    after: Side
    worse: bool
    why: str = ""

    @property
    def no_data(self) -> bool:
        return self.before.invocations == 0 and self.after.invocations == 0

    def line(self) -> str:
        """The one line under the chart."""
        if self.no_data:
            return "CloudWatch has no invocations around this change yet."
        told = (
            f"Error rate {_rate(self.before.rate)} → {_rate(self.after.rate)}, "
            f"p99 {_ms(self.before.p99_ms)} → {_ms(self.after.p99_ms)}"
        )
        if self.worse:
            return f"{told}: worse than before ({self.why})."
        if self.after.invocations == 0:
            return f"{told}: no invocations since the change yet."
        return f"{told}: no worse than before."


def judge(
    before: Side,
    after: Side,
    *,
    max_error_rate_increase: float,
    min_invocations: int,
    p99_factor: float = P99_FACTOR,
) -> Verdict:
    """The canary's margin applied to a release: worse when, with at least
    ``min_invocations`` after it, the error rate rose by more than
    ``max_error_rate_increase`` points or the p99 grew beyond ``p99_factor``.

    >>> judge(Side(100, 0, 100.0), Side(100, 0, 200.0), max_error_rate_increase=1,
    ...       min_invocations=10).why
    'p99 up 100%'
    >>> judge(Side(100, 0), Side(5, 5), max_error_rate_increase=1, min_invocations=10).worse
    False
    """
    if after.invocations < min_invocations:
        return Verdict(before, after, False)
    rise = (after.rate or 0.0) - (before.rate or 0.0)
    if rise > max_error_rate_increase:
        return Verdict(before, after, True, f"error rate up {rise:.1f} points")
    if before.p99_ms and after.p99_ms and after.p99_ms > before.p99_ms * p99_factor:
        grew = 100.0 * (after.p99_ms / before.p99_ms - 1)
        return Verdict(before, after, True, f"p99 up {grew:.0f}%")
    return Verdict(before, after, False)


def _rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1f}%"


def _ms(ms: float | None) -> str:
    return "–" if ms is None else f"{ms:.0f} ms"
