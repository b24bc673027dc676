"""CloudWatch's side of a canary for service tests: invocations and errors per version,
summed per aligned metric period like ``GetMetricData`` sums them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.canary import Figures, Period, Tally, aligned
from bot.domain.health import VersionPoint


class FakeMetrics:
    """Keeps what Lambda would have published; answers one read per check."""

    def __init__(self) -> None:
        #: (at, function, alias, version, invocations, errors)
        self.points: list[tuple[datetime, str, str, str, int, int]] = []
        #: each version's p99 duration, in ms
        self.p99_ms: dict[str, float] = {}
        self.reads = 0

    def record(
        self,
        at: datetime,
        version: str,
        invocations: int,
        errors: int = 0,
        *,
        function: str = "trivia-skill",
        alias: str = "PROD1",
    ) -> None:
        self.points.append((at, function, alias, version, invocations, errors))

    def canary_figures(
        self,
        function: str,
        alias: str,
        old_version: str,
        new_version: str,
        start: datetime,
        end: datetime,
        period: int,
    ) -> Figures:
        self.reads += 1
        first, last = aligned(start, period), aligned(end, period) + timedelta(seconds=period)
        sums: dict[datetime, dict[str, Tally]] = {}
        for at, fn, al, version, invocations, errors in self.points:
            if fn != function or al != alias or not first <= at < last:
                continue
            side = {old_version: "old", new_version: "new"}.get(version)
            if side is None:
                continue
            bucket = sums.setdefault(aligned(at, period), {})
            bucket[side] = bucket.get(side, Tally()) + Tally(invocations, errors)
        return Figures(
            tuple(
                Period(at, old=found.get("old", Tally()), new=found.get("new", Tally()))
                for at, found in sorted(sums.items())
            )
        )

    def version_points(
        self,
        function: str,
        alias: str,
        versions: Sequence[str],
        start: datetime,
        end: datetime,
        period: int,
    ) -> list[VersionPoint]:
        """Sums per period of each of ``versions`` (p99: :attr:`p99_ms` of the version)."""
        self.reads += 1
        first, last = aligned(start, period), aligned(end, period) + timedelta(seconds=period)
        sums: dict[tuple[str, datetime], list[int]] = {}
        for at, fn, al, version, invocations, errors in self.points:
            if fn != function or al != alias or version not in versions:
                continue
            if not (first <= at < last and start <= at < end):
                continue
            bucket = sums.setdefault((version, aligned(at, period)), [0, 0])
            bucket[0] += invocations
            bucket[1] += errors
        return [
            VersionPoint(version, at, inv, err, self.p99_ms.get(version))
            for (version, at), (inv, err) in sorted(sums.items(), key=lambda i: i[0][1])
        ]


def publish_lambda_metrics(
    cloudwatch: Any,
    version: str,
    invocations: int,
    errors: int = 0,
    *,
    at: datetime | None = None,
    function: str = "trivia-skill",
    alias: str = "PROD1",
) -> None:
    """What Lambda publishes for a weighted alias (moto publishes nothing itself):
    ``Invocations`` and ``Errors`` of one executed version, at ``at`` (now)."""
    dims = [
        {"Name": "FunctionName", "Value": function},
        {"Name": "Resource", "Value": f"{function}:{alias}"},
        {"Name": "ExecutedVersion", "Value": version},
    ]
    when = at or datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": when}
            for name, value in (("Invocations", invocations), ("Errors", errors))
        ],
    )


def run_canary_pass(services: Any, clock: Any = None, **advance: float) -> None:
    """One canary pass, after moving ``clock`` on by ``advance`` (if given)."""
    if advance:
        clock.advance(**advance)
    assert services.runtime.canary_pass is not None
    services.runtime.canary_pass.run_pass()
