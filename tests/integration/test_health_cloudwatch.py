"""A release's figures from CloudWatch: invocations and errors (sums) and p99 durations
per executed version, read as real CloudWatch answers (botocore's Stubber); when the
percentiles cannot be read, the counts still make a report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from botocore.stub import ANY, Stubber

from bot.adapters.cloudwatch import CloudWatchMetrics
from bot.domain.health import VersionPoint

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MINUTES = [START + timedelta(minutes=m) for m in range(2)]


def results(*series: tuple[str, list[float]]) -> dict:
    return {
        "MetricDataResults": [
            {"Id": query_id, "Label": query_id, "Timestamps": MINUTES, "Values": values,
             "StatusCode": "Complete"}
            for query_id, values in series
        ]
    }  # fmt: skip


def client():
    return boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_counts_and_p99_of_each_version_per_minute():
    cw = client()
    with Stubber(cw) as stub:
        stub.add_response(
            "get_metric_data",
            results(("inv0", [100, 90]), ("err0", [1, 0]), ("inv1", [5, 10]), ("err1", [0, 2])),
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
        )
        stub.add_response(
            "get_metric_data",
            results(("p990", [180.5, 181.0]), ("p991", [95.0, 120.0])),
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
        )
        points = CloudWatchMetrics(cw).version_points(
            "trivia-skill", "PROD1", ["7", "9"], START, START + timedelta(minutes=2), 60
        )
    assert points == [
        VersionPoint("7", MINUTES[0], 100, 1, 180.5),
        VersionPoint("9", MINUTES[0], 5, 0, 95.0),
        VersionPoint("7", MINUTES[1], 90, 0, 181.0),
        VersionPoint("9", MINUTES[1], 10, 2, 120.0),
    ]


def test_without_percentiles_the_counts_still_come():
    cw = client()
    with Stubber(cw) as stub:
        stub.add_response(
            "get_metric_data", results(("inv0", [100, 90]), ("err0", [1, 0])),
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
        )  # fmt: skip
        stub.add_client_error("get_metric_data", "InvalidParameterValue", http_status_code=400)
        points = CloudWatchMetrics(cw).version_points(
            "trivia-skill", "PROD1", ["7"], START, START + timedelta(minutes=2), 60
        )
    assert [(p.invocations, p.errors, p.p99_ms) for p in points] == [(100, 1, None), (90, 0, None)]
