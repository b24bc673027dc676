"""One health chart (SPEC §7: drawn in ≤ 1 s, ≤ 60 MB more resident memory; the library
never loaded before the first chart).

Runs in a fresh interpreter: it imports what a start imports (the composition root, the
HTTP face, the listeners) and checks matplotlib is not among them, then draws the chart
of a day before and after a change (1,440 points a version, two versions) several times:
the first draw includes loading matplotlib and its fonts, the others are the steady cost.
Resident memory (VmRSS) is read before the first draw and after the last.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.harness import heading, median, ms, table, verdict

BUDGET_DRAW = 1.0
BUDGET_MB = 60.0

WORKER = r"""
import json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

import bot.bootstrap, bot.serve, handlers  # what a start imports
loaded_at_start = "matplotlib" in sys.modules
from bot.adapters.charts import MatplotlibCharts
from bot.domain.health import VersionPoint

change = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# what a 24 h report draws: 24-minute periods (bot.service.health.period_for), both sides
points = [VersionPoint("7", change + timedelta(minutes=24 * m), 2400, m % 7 == 0, 180.0)
          for m in range(-60, 0)]
points += [VersionPoint("9", change + timedelta(minutes=24 * m), 2400, m % 5 == 0, 175.0)
           for m in range(60)]
charts, rounds = MatplotlibCharts(), int(sys.argv[1])
before = rss()
took, size, after_first = [], 0, 0.0
for n in range(rounds):
    started = time.perf_counter()
    size = len(charts.draw(points, title="trivia PROD1: 24h before and after v7 -> v9",
                           change_at=change))
    took.append(time.perf_counter() - started)
    if n == 0:
        after_first = rss()
print(json.dumps({"loaded_at_start": loaded_at_start, "took": took, "rss_before": before,
                  "rss_first": after_first, "rss_after": rss(), "size": size}))
"""


def run(quick: bool) -> dict[str, Any]:
    rounds = 3 if quick else 8
    heading(f"chart: a 24 h health chart (2 versions × 60 periods), {rounds} draws")
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(rounds)], capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    first, rest = found["took"][0], found["took"][1:]
    grown = found["rss_first"] - found["rss_before"]
    later = found["rss_after"] - found["rss_first"]
    print(
        table(
            ["what", "figure"],
            [
                ("matplotlib loaded by a start", "yes" if found["loaded_at_start"] else "no"),
                ("first draw (loads matplotlib)", ms(first)),
                (f"later draws, median of {len(rest)}", ms(median(rest))),
                ("PNG size", f"{found['size'] / 1024:.0f} KiB"),
                ("resident memory added by the first chart", f"{grown:.1f} MiB"),
                (f"and by the {len(rest)} after it", f"{later:.1f} MiB"),
            ],
        )
    )
    within = first <= BUDGET_DRAW and grown <= BUDGET_MB and not found["loaded_at_start"]
    print(
        f"one chart ≤ {BUDGET_DRAW:.0f} s and ≤ {BUDGET_MB:.0f} MB more, library loaded lazily "
        f"→ {verdict(within)}"
    )
    return found
