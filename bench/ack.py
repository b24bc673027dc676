"""Ack latency of ``/skill`` while every AWS call takes 1 s (SPEC §7, first budget).

Set-up, all on 127.0.0.1: moto_server (its own process) behind a delaying proxy (its own
process, +1 s on every AWS call); the bot as ``python -m bot`` in HTTP mode with
``AWS_ENDPOINT_URL`` at the proxy; a bare Bolt app that only acks (``bench.bare_app``),
served by the same waitress settings; the fake Slack Web API receiving what the lazy
listeners post to response_urls.

Load: bursts of 50 concurrent signed ``/skill status`` and ``/skill hotfix`` commands,
alternating between the two servers (bare, bot, bot, bare, …) with a pause between bursts,
from a separate single-threaded load process (``bench.load``). Each command is timed from
connect to the complete HTTP response, which is the ack; an answer other than 200 (Bolt
answers 404 when a listener has not acked within 3 s) counts as failed, at its time.
A third line, the floor, is the same burst against a path the same server answers 404
without Bolt: what the server, the load process and two cores cost by themselves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    PYTHON,
    Processes,
    aws_env_in_this_process,
    base_env,
    heading,
    median,
    ms,
    percentile,
    ratio,
    run_to_end,
    stand_ins,
    start_proxy,
    table,
    verdict,
    wait_for_http,
)
from bot.devkit.json_server import free_port
from tests.support.process import Child
from tests.support.slack_world import SECRET

CONCURRENCY = 50
AWS_DELAY = 1.0
BUDGET_RATIO = 1.5
BUDGET_P99 = 0.050
FUNCTION = "trivia-skill"


def _commands(fake_base: str, tag: str, count: int) -> list[dict[str, str]]:
    commands = []
    for i in range(count):
        kind = "status" if i % 2 == 0 else "hotfix"
        text = "status trivia" if kind == "status" else "hotfix trivia -- bench"
        commands.append(
            {"kind": kind, "text": text, "response_url": f"{fake_base}/response/{tag}-{i}"}
        )
    return commands


def _load(plan: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    out = run_to_end(
        [PYTHON, "-m", "bench.load"],
        "load generator",
        env=base_env(),
        timeout=timeout,
        stdin=json.dumps(plan),
    )
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _start_bare(procs: Processes, tmp: Path, slack_api_url: str) -> tuple[Child, str]:
    port = free_port()
    env = base_env()
    env.update(
        PORT=str(port),
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN="xoxb-bench-bare",
        SLACK_API_URL=slack_api_url,
    )
    child = procs.start(Child([PYTHON, "-m", "bench.bare_app"], env, cwd=tmp, name="bare-bolt"))
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/healthz", child, timeout=30)
    return child, base


def _summary_row(
    name: str, results: list[dict[str, Any]], expected: int = 200
) -> tuple[list[object], float]:
    ok = [r["seconds"] for r in results if r["status"] == expected]
    bad = len(results) - len(ok)
    # a refused or failed ack counts at its time: it is no faster for Slack
    times = [r["seconds"] for r in results]
    p99 = percentile(times, 99)
    row = [
        name,
        len(results),
        bad,
        ms(percentile(times, 50)),
        ms(percentile(times, 90)),
        ms(p99),
        ms(max(times) if times else float("nan")),
    ]
    return row, p99


def run(quick: bool = False) -> dict[str, Any]:
    from bot.devkit.aws import create_skill_function

    bursts_per_target = 2 if quick else 12
    role = "all"
    heading(
        f"ack: {CONCURRENCY} concurrent /skill status|hotfix, every AWS call +{AWS_DELAY:.0f} s"
    )
    with stand_ins("ack") as world:
        procs, tmp, fake = world.procs, world.tmp, world.fake
        with aws_env_in_this_process(world.moto_url):
            create_skill_function(FUNCTION, world.moto_url)
        _proxy, proxy_url = start_proxy(procs, tmp, world.moto_url, AWS_DELAY)
        bot_base = world.serve(proxy_url, role)
        _bare, bare_base = _start_bare(procs, tmp, fake.api_url)
        targets = {"bare": f"{bare_base}/slack/events", "bot": f"{bot_base}/slack/events"}
        # the floor: the same waitress and WSGI app answering 404 on another path, no Bolt
        floor_url = f"{bare_base}/not-slack"

        # warm-up: first request pays auth.test and imports; not measured
        warm = [
            {"label": f"warm-{name}", "url": url, "commands": _commands(fake.base_url, name, 2)}
            for name, url in targets.items()
        ]
        _load({"secret": SECRET, "gap": 0.2, "bursts": warm}, timeout=60)
        time.sleep(1.0)

        order = []
        for n in range(bursts_per_target):  # bare, bot, bot, bare, … and a floor burst
            order += ["floor", "bare", "bot"] if n % 2 == 0 else ["bot", "bare"]
        bursts = [
            {
                "label": name,
                "url": targets.get(name, floor_url),
                "commands": _commands(fake.base_url, f"{name}{n}", CONCURRENCY),
            }
            for n, name in enumerate(order)
        ]
        started = time.monotonic()
        results = _load(
            {"secret": SECRET, "gap": 1.0, "timeout": 30, "bursts": bursts},
            timeout=300,
        )
        elapsed = time.monotonic() - started
        answered = len([r for r in fake.responses() if "/response/bot" in r.get("_url", "")])

    bare = [r for r in results if r["label"] == "bare"]
    bot = [r for r in results if r["label"] == "bot"]
    floor = [r for r in results if r["label"] == "floor"]
    row, _ = _summary_row("floor: waitress, 404, no Bolt", floor, expected=404)
    rows, p99 = [row], {}
    for name, subset in (
        ("bare Bolt (ack only)", bare),
        (f"bot (python -m bot {role})", bot),
        ("  bot: status", [r for r in bot if r["kind"] == "status"]),
        ("  bot: hotfix", [r for r in bot if r["kind"] == "hotfix"]),
    ):
        row, p99[name] = _summary_row(name, subset)
        rows.append(row)
    print(table(["server", "requests", "failed", "p50", "p90", "p99", "max"], rows))
    bare_p99 = p99["bare Bolt (ack only)"]
    bot_p99 = p99[f"bot (python -m bot {role})"]
    bare_p50 = percentile([r["seconds"] for r in bare], 50)
    bot_p50 = percentile([r["seconds"] for r in bot], 50)
    print(
        f"ratio bot/bare: p50 {ratio(bot_p50, bare_p50)}, p99 {ratio(bot_p99, bare_p99)}"
        f"  ({len(order) - len(floor) // CONCURRENCY} bursts of {CONCURRENCY} in {elapsed:.1f} s; "
        f"{answered} of {len(bot)} bot commands finished their AWS work meanwhile)"
    )
    statuses = sorted({r["status"] for r in bot if r["status"] != 200})
    if statuses:
        errors = sorted({r["error"] for r in bot if r["error"]})[:3]
        print(f"bot non-200 answers: statuses {statuses} {errors or ''}".rstrip())
    print(
        f"budget p99 ≤ {BUDGET_RATIO}× bare and ≤ {BUDGET_P99 * 1000:.0f} ms: "
        f"{ratio(bot_p99, bare_p99)} and {ms(bot_p99)} → "
        f"{verdict(bot_p99 <= BUDGET_RATIO * bare_p99 and bot_p99 <= BUDGET_P99)}"
    )
    return {
        "bare_p50": bare_p50,
        "bare_p99": bare_p99,
        "bot_p50": bot_p50,
        "bot_p99": bot_p99,
        "bot_non_200": sum(r["status"] != 200 for r in bot),
        "median_bot": median([r["seconds"] for r in bot]),
    }


if __name__ == "__main__":
    run()
