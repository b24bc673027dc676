"""Start to ready with 10,000 skills, each with one pending certification (SPEC §7).

Writes a skills file of 10,000 skills and seeds a SQLite database (migrated by
``open_store``, then one bulk insert into its ``certifications`` table), then starts
``python -m bot`` in HTTP mode several times and times each start from process launch
to the first ``GET /healthz`` 200; the resident memory (VmRSS) is read right after ready.
A start with one skill and an empty database, in the same run, is the baseline.

AWS is moto_server behind ``bench.delay_proxy`` with no delay, which counts the AWS calls
a start makes (none of the 10,000 functions exists there: every call is a quick 404, so
the time a start spends on AWS here is a lower bound of the time it would spend on AWS).
Slack is the fake Slack Web API (Bolt calls ``auth.test`` once at start). A start that
is not ready within a cap is reported as such and not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    NotReady,
    heading,
    median,
    ms,
    proxied_requests,
    ratio,
    rss_mb,
    stand_ins,
    start_proxy,
    start_timed,
    table,
    verdict,
)
from bot.devkit.json_server import free_port
from tests.support.process import bot_env
from tests.support.skills import skills_config, write_skills_file

SKILLS = 10_000
BUDGET_READY = 2.0
BUDGET_RSS_MB = 150.0


def skill_name(i: int) -> str:
    return f"skill-{i:05d}"


def many_skills(count: int) -> dict[str, Any]:
    """A valid skills file of ``count`` skills (one function and channel each)."""
    return skills_config({skill_name(i): f"C{i:08d}" for i in range(count)})


def seed_pending(database_url: str, count: int) -> None:
    """One pending certification per skill, in one transaction on the store's own table."""
    from bot.adapters.store import open_store
    from bot.adapters.store.schema import certifications
    from bot.domain.model import CertificationState, new_id

    store = open_store(database_url)
    started = datetime.now(UTC) - timedelta(hours=1)  # no reminder due at start
    rows = [
        {
            "id": new_id(),
            "skill": skill_name(i),
            "alias": "PROD2",
            "version": "2",
            "code_sha256": f"{i:064x}",
            "requested_by": "U0ALICE",
            "note": "bench",
            "created_at": started + timedelta(seconds=i % 600),
            "state": CertificationState.PENDING.value,
            "channel": f"C{i:08d}",
            "message_ts": f"1700000000.{i:06d}",
        }
        for i in range(count)
    ]
    try:
        if rows:
            with store.engine.begin() as conn:
                conn.execute(certifications.insert(), rows)
        assert len(store.pending_certifications()) == count
    finally:
        store.close()


@dataclass
class Starts:
    ready: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    aws_calls: list[int] = field(default_factory=list)
    #: set when a start was not ready within the cap: (seconds waited, AWS calls by then,
    #: resident memory by then)
    not_ready: tuple[float, int, float] | None = None


def _starts(world: dict[str, Any], skills_file: Path, database_url: str, role: str) -> Starts:
    procs, tmp, proxy = world["procs"], world["tmp"], world["proxy"]
    out = Starts()
    for n in range(world["times"]):
        env = bot_env(
            tmp,
            port=free_port(),
            slack_api_url=world["slack"],
            aws_endpoint_url=proxy,
            config=skills_file,
            database_url=database_url,
            log_level="WARNING",  # only warnings: a start's own logging is not timed
        )
        calls_before = proxied_requests(proxy)
        try:
            child, _base, seconds = start_timed(
                procs, tmp, env, role=role, name=f"bot-{role}-{n}", ready_timeout=world["cap"]
            )
        except NotReady as err:
            out.not_ready = (
                err.waited,
                proxied_requests(proxy) - calls_before,
                rss_mb(err.child) if err.child.alive() else float("nan"),
            )
            procs.stop(err.child)
            break
        out.ready.append(seconds)
        out.rss_mb.append(rss_mb(child))
        out.aws_calls.append(proxied_requests(proxy) - calls_before)
        procs.stop(child)
    return out


def _row(name: str, starts: Starts, base: Starts | None) -> list[object]:
    if starts.not_ready is not None and not starts.ready:
        waited, calls, rss = starts.not_ready
        return [name, f"> {waited:.0f} s (not ready)", "", f"{rss:.0f} MiB by then", "", "",
                f"{calls:,} by then"]  # fmt: skip
    r, m = median(starts.ready), median(starts.rss_mb)
    return [
        name,
        ms(r),
        ms(max(starts.ready)),
        f"{m:.0f} MiB",
        ratio(r, median(base.ready)) if base else "",
        f"+{m - median(base.rss_mb):.0f} MiB" if base else "",
        f"{median(starts.aws_calls):,.0f}",
    ]


def run(quick: bool = False) -> dict[str, Any]:
    times = 3 if quick else 5
    cap = 15.0 if quick else 30.0
    roles = ["all", "web"]
    heading(f"startup: {SKILLS:,} skills with one pending certification each, {times} starts")
    rows: list[list[object]] = []
    result: dict[str, Any] = {}
    with stand_ins("startup") as stand:
        procs, tmp = stand.procs, stand.tmp
        _proxy, proxy_url = start_proxy(procs, tmp, stand.moto_url, 0.0)
        world = {
            "procs": procs,
            "tmp": tmp,
            "proxy": proxy_url,
            "slack": stand.fake.api_url,
            "times": times,
            "cap": cap,
        }
        small_file = write_skills_file(tmp / "one.toml", many_skills(1))
        small_db = f"sqlite:///{tmp / 'one.db'}"
        seed_pending(small_db, 0)
        big_file = write_skills_file(tmp / "many.toml", many_skills(SKILLS))
        big_db = f"sqlite:///{tmp / 'many.db'}"
        seed_pending(big_db, SKILLS)
        for role in roles:
            base = _starts(world, small_file, small_db, role)
            big = _starts(world, big_file, big_db, role)
            rows.append(_row(f"{role}: 1 skill, empty db", base, None))
            rows.append(_row(f"{role}: {SKILLS:,} skills, {SKILLS:,} pending", big, base))
            result[role] = big
    print(
        table(
            ["python -m bot", "median ready", "max", "RSS", "vs 1 skill", "RSS vs 1", "AWS calls"],
            rows,
        )
    )
    for role, big in result.items():
        if not big.ready:
            assert big.not_ready is not None
            waited, calls, rss = big.not_ready
            print(
                f"budget {role}: ready ≤ {BUDGET_READY:.0f} s → not ready after {waited:.0f} s "
                f"({calls:,} AWS calls made by then) OVER budget; RSS after ready not measured "
                f"({rss:.0f} MiB by then)"
            )
            continue
        ready, rss = median(big.ready), median(big.rss_mb)
        print(
            f"budget {role}: ready ≤ {BUDGET_READY:.0f} s → {ms(ready)} "
            f"{verdict(ready <= BUDGET_READY)}; RSS ≤ {BUDGET_RSS_MB:.0f} MB → "
            f"{rss:.0f} MiB {verdict(rss * 1.048576 <= BUDGET_RSS_MB)}"
        )
    return {role: vars(big) for role, big in result.items()}


if __name__ == "__main__":
    run()
