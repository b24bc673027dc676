"""One reminder pass over 10,000 pending certifications, and the memory it needs (SPEC §7).

The passes run in a fresh process of their own (``python -m bench.reminders --worker``),
over the bot's own services built by ``bot.bootstrap.build_services`` from a skills file of
10,000 skills and a SQLite database seeded with one pending certification per skill
(as ``bench.startup`` does), so its resident memory is the bot's, not the benchmark's.
Each pass is ``ReminderService.run_pass()``, as the scheduler runs it every second; the
clock is the worker's own, moved one second per pass. Claimed reminders are not posted.

Timed, median of several passes each:

- first passes: the 10,000 certifications become tracked (a bounded number per pass);
- first pass of a restarted process, all 10,000 already tracked;
- steady state, nothing due;
- everything due at once (the clock 25 h later): passes claim what can go out now.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    PYTHON,
    base_env,
    heading,
    median,
    ms,
    percentile,
    run_to_end,
    table,
    verdict,
)
from bench.startup import SKILLS, many_skills, seed_pending
from bot.devkit.json_server import free_port
from tests.support.skills import write_skills_file

BUDGET_PASS = 0.100
BUDGET_RSS_MB = 150.0


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(database_url: str, skills_file: str, slack_api_url: str) -> dict[str, Any]:
    """Runs in its own process: time passes, report seconds and RSS."""
    from bot.adapters.slack.notifier import web_client
    from bot.bootstrap import build_services
    from bot.config import Settings, load_skills_file
    from bot.schedules import build_schedules
    from bot.service.reminders import ReminderService

    rss_before = _rss_mb()
    clock = _Clock(datetime.now(UTC))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench",
        slack_api_url=slack_api_url,
        database_url=database_url,
    )
    config = load_skills_file(skills_file)
    services = build_services(
        settings, config, slack_client=web_client("xoxb-bench", slack_api_url), clock=clock
    )

    def new_service() -> Any:
        # built as bot.bootstrap builds it, new: a fresh start follows schedule changes once
        return ReminderService(
            services.runtime.store.reminder_book(),
            services.runtime.store,
            services.runtime.outbox,
            build_schedules(config.reminder_schedule, config.timezone, services.runtime.skills),
            clock=clock,
            approvers=config.approvers,
            reaction=config.promote_reaction,
        )

    def one_pass(service: Any) -> tuple[float, int]:
        started = time.perf_counter()
        claimed = service.run_pass()
        took = time.perf_counter() - started
        clock.now += timedelta(seconds=1)
        return took, len(claimed)

    rss_built = _rss_mb()
    service = new_service()
    tracking = []
    for _ in range(100):  # bounded: 10,000 / rows per pass, and then one more
        before = service.book.pending_without_row(1)
        took, _claimed = one_pass(service)
        tracking.append(took)
        if not before:
            break
    tracking = tracking[:-1] or tracking  # the last one found nothing new
    restarts = [one_pass(new_service())[0] for _ in range(3)]
    steady = [one_pass(service)[0] for _ in range(10)]
    clock.now += timedelta(hours=25)
    due = [one_pass(service) for _ in range(10)]
    result = {
        "tracking": tracking,
        "restart": restarts,
        "steady": steady,
        "due": [t for t, _ in due],
        "due_claimed": [n for _, n in due],
        "rss_start": rss_before,
        "rss_built": rss_built,
        "rss_after": _rss_mb(),
    }
    services.close()
    return result


def run(quick: bool = False) -> dict[str, Any]:
    heading(f"reminders: one pass over {SKILLS:,} pending certifications")
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp_name:
        tmp = Path(tmp_name)
        skills_file = write_skills_file(tmp / "many.toml", many_skills(SKILLS))
        database_url = f"sqlite:///{tmp / 'many.db'}"
        seed_pending(database_url, SKILLS)
        closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing is posted by a pass
        out = run_to_end(
            [PYTHON, "-m", "bench.reminders", "--worker", database_url, str(skills_file), closed],
            "reminder worker",
            env=base_env(),
            timeout=240,
            cwd=tmp,
        )
    r = json.loads(out.strip().splitlines()[-1])

    def row(name: str, values: list[float], note: str = "") -> list[object]:
        return [name, len(values), ms(median(values)), ms(percentile(values, 90)),
                ms(max(values)), note]  # fmt: skip

    rows = [
        row("first passes: tracking 10,000 new", r["tracking"]),
        row("first pass after a restart", r["restart"]),
        row("steady state, nothing due", r["steady"]),
        row("all 10,000 due", r["due"], f"claimed {sum(r['due_claimed'])} in {len(r['due'])}"),
    ]
    print(table(["pass", "n", "median", "p90", "max", "note"], rows))
    print(
        f"RSS of the worker: {r['rss_start']:.0f} MiB at start, {r['rss_built']:.0f} MiB with "
        f"the services built, {r['rss_after']:.0f} MiB after the passes"
    )
    worst = max(median(r[k]) for k in ("tracking", "restart", "steady", "due"))
    print(
        f"budget: a pass ≤ {BUDGET_PASS * 1000:.0f} ms → slowest median {ms(worst)} "
        f"{verdict(worst <= BUDGET_PASS)}; RSS ≤ {BUDGET_RSS_MB:.0f} MB → "
        f"{r['rss_after']:.0f} MiB {verdict(r['rss_after'] * 1.048576 <= BUDGET_RSS_MB)}"
    )
    return dict(r)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(*sys.argv[2:5])))
    else:
        run("--quick" in sys.argv)
