"""The health chart, drawn with matplotlib from fixed figures: a PNG of Slack's preview
size whose legend names the versions; the library is loaded by the first chart, never
by the bot's start."""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bot.adapters.charts import MatplotlibCharts, health_figure
from bot.domain.health import VersionPoint

CHANGE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POINTS = [
    *(VersionPoint("7", CHANGE + timedelta(minutes=m), 100, 1, 180.0) for m in range(-60, 0)),
    *(VersionPoint("9", CHANGE + timedelta(minutes=m), 100, 3, 175.0) for m in range(60)),
]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_the_chart_is_a_png_of_slacks_preview_size():
    png = MatplotlibCharts().draw(POINTS, title="trivia PROD1: 1h before and after v7 → v9",
                                  change_at=CHANGE)  # fmt: skip
    assert png_size(png) == (1000, 700)
    assert len(png) > 20_000, "three panels of lines, not an empty canvas"


def test_the_legend_names_each_version_and_the_axes_their_units():
    figure = health_figure(POINTS, title="trivia PROD1", change_at=CHANGE)
    calls, errors, p99 = figure.axes
    assert [t.get_text() for t in calls.get_legend().get_texts()] == ["v7", "v9"]
    assert [a.get_ylabel() for a in (calls, errors, p99)] == [
        "invocations\nper period",
        "error rate (%)",
        "p99 duration (ms)",
    ]
    assert figure.get_suptitle() == "trivia PROD1"
    assert any(t.get_text() == "change" for t in calls.texts)


def test_without_durations_the_p99_panel_says_so():
    no_p99 = [p._replace(p99_ms=None) for p in POINTS]
    figure = health_figure(no_p99, title="trivia PROD1", change_at=CHANGE)
    assert [t.get_text() for t in figure.axes[2].texts] == ["no p99 durations from CloudWatch"]


def test_matplotlib_is_not_loaded_by_the_start_nor_by_the_chart_module():
    probe = (
        "import sys, bot.bootstrap, bot.serve, bot.adapters.charts, handlers\n"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
