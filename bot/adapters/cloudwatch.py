"""CloudWatch through boto3: the real :class:`bot.ports.MetricsPort`.

Lambda publishes ``Invocations`` and ``Errors`` for a weighted alias per executed
version, with the dimensions ``FunctionName``, ``Resource`` (``function:alias``) and
``ExecutedVersion``. One ``GetMetricData`` call reads both metrics of both versions,
summed per period, for the whole canary so far::

    metrics = CloudWatchMetrics(boto3.client("cloudwatch"))
    figures = metrics.canary_figures("trivia-skill", "PROD1", "7", "8", start, end, 60)
    figures.new.rate   # errors per 100 invocations of v8
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.adapters.aws_errors import aws_errors
from bot.adapters.aws_regions import ClientsByRegion, function_client
from bot.domain.canary import Figures, Period, Tally, aligned
from bot.domain.health import VersionPoint

log = logging.getLogger(__name__)

NAMESPACE = "AWS/Lambda"


#: a release's figures: (query tag, metric, statistic)
COUNTS = (("inv", "Invocations", "Sum"), ("err", "Errors", "Sum"))
P99 = (("p99", "Duration", "p99"),)


def function_name(function: str) -> str:
    """The name CloudWatch uses, also when the skills file gives an ARN."""
    if function.startswith("arn:"):
        return function.split(":")[6]
    return function


class CloudWatchMetrics:
    """The metrics port over a boto3 ``cloudwatch`` client."""

    def __init__(
        self,
        client: Any = None,
        *,
        connect: Callable[[], Any] | None = None,
        regional_client: Callable[[str], Any] | None = None,
    ) -> None:
        """A boto3 client, or ``connect`` to make one at the first read (a start never
        fails for want of CloudWatch; a check does, with an error to act on). A function
        ARN in another region is read through ``regional_client(region)``'s client."""
        self._client = client
        self._connect = connect
        self._regional = ClientsByRegion(regional_client) if regional_client else None

    def _c(self, function: str) -> Any:
        """The client of the function's region (made at the first read)."""
        if self._client is None and self._connect is not None:
            self._client = self._connect()
        return function_client(self._client, function, self._regional)

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
        """Sums per ``period`` seconds from ``start`` (rounded down to a period) to the
        end of the period holding ``end``: one ``GetMetricData`` call."""
        first = aligned(start, period)
        last = aligned(end, period) + timedelta(seconds=period)
        found = self._series(
            function, alias, [old_version, new_version], first, last, period, COUNTS,
            doing="read the canary's metrics",
        )  # fmt: skip
        by_period: dict[datetime, dict[int, Tally]] = {}
        for (index, at), values in found.items():
            tally = Tally(round(values.get("inv", 0)), round(values.get("err", 0)))
            by_period.setdefault(at, {})[index] = tally
        return Figures(
            tuple(
                Period(at, old=sides.get(0, Tally()), new=sides.get(1, Tally()))
                for at, sides in sorted(by_period.items())
                if first <= at < last
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
        """Invocations and errors (sums) and the p99 ``Duration`` of each executed version
        per ``period``: two ``GetMetricData`` calls, the percentiles apart, so that a
        CloudWatch (or a stand-in) that cannot give them still gives the counts."""
        first = aligned(start, period)
        last = aligned(end, period) + timedelta(seconds=period)
        counts = self._series(function, alias, versions, first, last, period, COUNTS)
        try:
            p99 = self._series(function, alias, versions, first, last, period, P99)
            for key, values in p99.items():
                counts.setdefault(key, {}).update(values)
        except Exception as err:  # the counts alone still make a report
            log.warning("cloudwatch: no p99 durations for %s (%s)", function, err)
        return [
            VersionPoint(
                versions[index],
                at,
                round(values.get("inv", 0)),
                round(values.get("err", 0)),
                values.get("p99"),
            )
            for (index, at), values in sorted(counts.items(), key=lambda i: (i[0][1], i[0][0]))
            if first <= at < last
        ]

    def _series(
        self,
        function: str,
        alias: str,
        versions: Sequence[str],
        first: datetime,
        last: datetime,
        period: int,
        metrics: Sequence[tuple[str, str, str]],
        *,
        doing: str = "read the release's metrics",
    ) -> dict[tuple[int, datetime], dict[str, float]]:
        """(version index, period start) → {tag: value} of one ``GetMetricData`` call."""
        name = function_name(function)
        queries = [
            {
                "Id": f"{tag}{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "FunctionName", "Value": name},
                            {"Name": "Resource", "Value": f"{name}:{alias}"},
                            {"Name": "ExecutedVersion", "Value": version},
                        ],
                    },
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
            for index, version in enumerate(versions)
            for tag, metric, stat in metrics
        ]
        with aws_errors(doing, function):
            resp = self._c(function).get_metric_data(
                MetricDataQueries=queries, StartTime=first, EndTime=last,
                ScanBy="TimestampAscending",
            )  # fmt: skip
        found: dict[tuple[int, datetime], dict[str, float]] = {}
        for result in resp.get("MetricDataResults", []):
            query_id = str(result.get("Id", ""))
            tag, index = query_id[:3], query_id[3:]
            if not index.isdigit() or int(index) >= len(versions):
                continue
            stamps, values = result.get("Timestamps", []), result.get("Values", [])
            for stamp, value in zip(stamps, values, strict=True):
                at = aligned(stamp.astimezone(UTC), period)
                found.setdefault((int(index), at), {})[tag] = value
        return found
