"""The :class:`bot.ports.ChartPort`: a release's figures drawn with matplotlib's Agg
backend, imported at the first chart (never at start: start-up and acks do not pay for
it). Three panels share the time axis — invocations per period, error rate, p99
duration — one line per executed version, the change marked; colours from the
Okabe–Ito palette, told apart with colour blindness, and by their line styles too::

    png = MatplotlibCharts().draw(points, title="trivia PROD1: 1h before and after v7 → v9",
                                  change_at=change.at)
"""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.health import VersionPoint

#: Okabe & Ito's palette (blue, vermillion, bluish green, orange, sky blue, purple)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7")
STYLES = ("-", "--", "-.", ":")
#: Slack previews images about 1000 px wide
SIZE_INCHES, DPI = (10.0, 7.0), 100

_drawing = threading.Lock()  # matplotlib's font cache and text layout are not thread safe


def health_figure(points: Sequence[VersionPoint], *, title: str, change_at: datetime | None) -> Any:
    """The chart as a matplotlib ``Figure`` (what :meth:`MatplotlibCharts.draw` renders)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    series: dict[str, list[VersionPoint]] = {}
    for point in sorted(points, key=lambda p: p.start):
        series.setdefault(point.version, []).append(point)
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    # fixed margins: a constrained layout measures every text twice for the same result
    figure.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.1, hspace=0.12)
    calls, errors, p99 = figure.subplots(3, 1, sharex=True)
    for index, (version, shown) in enumerate(sorted(series.items(), key=_by_number)):
        style = {
            "color": PALETTE[index % len(PALETTE)],
            "linestyle": STYLES[index % len(STYLES)],
            "linewidth": 2,
            "label": f"v{version}",
            "marker": "o" if len(shown) < 3 else None,
        }
        at = [p.start for p in shown]
        calls.plot(at, [p.invocations for p in shown], **style)
        rates = [100.0 * p.errors / p.invocations if p.invocations else None for p in shown]
        errors.plot(at, [r if r is not None else float("nan") for r in rates], **style)
        durations = [p.p99_ms if p.p99_ms is not None else float("nan") for p in shown]
        p99.plot(at, durations, **style)
    calls.set_ylabel("invocations\nper period")
    errors.set_ylabel("error rate (%)")
    p99.set_ylabel("p99 duration (ms)")
    if not any(p.p99_ms is not None for p in points):
        p99.text(0.5, 0.5, "no p99 durations from CloudWatch", transform=p99.transAxes,
                 ha="center", va="center", color="#555555")  # fmt: skip
    for axes in (calls, errors, p99):
        axes.grid(True, color="#dddddd")
        axes.set_ylim(bottom=0)
        if change_at is not None:
            axes.axvline(change_at, color="#000000", linewidth=1.5, linestyle="--")
    if change_at is not None:
        calls.annotate("change", (change_at, 1.0), xycoords=("data", "axes fraction"),
                       xytext=(4, -12), textcoords="offset points")  # fmt: skip
    calls.legend(title="executed version", loc="upper left", fontsize=10)
    p99.set_xlabel("time (UTC)")
    figure.autofmt_xdate()
    figure.suptitle(title, fontsize=14)
    return figure


class MatplotlibCharts:
    """Draws with matplotlib (Agg), one chart at a time."""

    def draw(
        self, points: Sequence[VersionPoint], *, title: str, change_at: datetime | None
    ) -> bytes:
        with _drawing:
            figure = health_figure(points, title=title, change_at=change_at)
            out = io.BytesIO()
            figure.savefig(out, format="png", dpi=DPI)
            figure.clear()
            del figure
            # a figure's buffers live in reference cycles, and the heap frozen at start
            # makes full collections rare: without this each chart kept a few MiB
            gc.collect()
        return out.getvalue()


def _by_number(item: tuple[str, Any]) -> tuple[int, str]:
    version = item[0]
    return (int(version), version) if version.isdigit() else (10**9, version)
