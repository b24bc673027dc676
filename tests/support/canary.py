"""CloudWatch's side of a canary for service tests: invocations and errors per version,
summed per aligned metric period like ``GetMetricData`` sums them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.canary import Figures, Period, Tally, aligned


class FakeMetrics:
    """Keeps what Lambda would have published; answers one read per check."""

    def __init__(self) -> None:
        #: (at, function, alias, version, invocations, errors)
        self.points: list[tuple[datetime, str, str, str, int, int]] = []
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
