"""What every benchmark needs beyond ``bot.devkit`` and the tests' helpers
(``tests.support``: the bot process, its environment, skills files): child processes
that are always stopped, readiness timed over HTTP, the niced stand-ins for AWS, and
statistics.

Children are started in a :class:`Processes` (a context manager); leaving it, normally,
on an error or on Ctrl-C/SIGTERM, stops each child it started, by its own pid::

    with Processes() as procs, tempfile.TemporaryDirectory() as tmp:
        moto = start_moto(procs, Path(tmp))
        bot, base, seconds = start_timed(procs, Path(tmp), env)
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.devkit.json_server import free_port
from tests.support.process import REGION, Child, bot_env, http_status, isolated_env, start_bot
from tests.support.skills import skills_config, write_skills_file

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


# -- commands, signals ---------------------------------------------------------------------------


def run_to_end(
    argv: Sequence[str],
    what: str,
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> str:
    """Run a command to its end; its stdout, or RuntimeError with the end of its stderr."""
    done = subprocess.run(
        list(argv),
        input=stdin,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def sigterm_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` stops its children."""

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


# -- child processes -----------------------------------------------------------------


def rss_mb(child: Child) -> float:
    """Resident memory (VmRSS of /proc/<pid>/status) in MiB."""
    for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {child.name} (pid {child.pid})")


class Processes:
    """The children one benchmark started; all are stopped when the block ends."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, child: Child) -> Child:
        """Start ``child`` (unless it runs already) and stop it with the others."""
        self.children.append(child)
        return child if child.alive() else child.start()

    def stop(self, child: Child, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        with contextlib.suppress(ProcessLookupError):
            child.stop(grace=grace)
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            # a second Ctrl-C while stopping must not leave the rest running
            with contextlib.suppress(Exception, KeyboardInterrupt):
                self.stop(child)


# -- HTTP ------------------------------------------------------------------------------


class NotReady(RuntimeError):
    """A child did not answer in time (it is still running: stop it)."""

    def __init__(self, message: str, child: Child, waited: float) -> None:
        super().__init__(message)
        self.child = child
        self.waited = waited


def wait_for_http(
    url: str,
    child: Child,
    *,
    timeout: float,
    interval: float = 0.005,
    want: int | None = 200,
    request_timeout: float = 1.0,
) -> float:
    """Poll ``url`` until it answers ``want`` (None: any HTTP status); monotonic time of
    that answer.

    Fails early, with the child's log, when the child exits.
    """
    deadline = time.monotonic() + timeout
    while True:
        status = http_status(url, timeout=request_timeout)
        if status is not None and want in (None, status):
            return time.monotonic()
        if not child.alive():
            raise RuntimeError(
                f"{child.name} exited with {child.returncode} before {url} answered:\n"
                + child.log_tail()
            )
        if time.monotonic() > deadline:
            raise NotReady(
                f"{child.name} did not answer {url} within {timeout:.0f} s:\n" + child.log_tail(),
                child,
                timeout,
            )
        time.sleep(interval)


# -- environment, moto, the bot --------------------------------------------------------


def base_env() -> dict[str, str]:
    """The isolated environment of a child, with the benchmarks importable."""
    env = isolated_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@contextlib.contextmanager
def aws_env_in_this_process(endpoint_url: str) -> Any:
    """Fake credentials for boto3 clients made in the benchmark process itself."""
    keys = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    dropped = {
        k: os.environ.pop(k) for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN") if k in os.environ
    }
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(dropped)


# moto_server and the delaying proxy stand in for AWS, which runs on other machines: on
# two shared cores they yield the CPU to the process under test instead of being
# charged to its latency (both servers compared are measured with the same set-up)
REMOTE_NICE = 10


def start_moto(procs: Processes, tmp: Path) -> tuple[Child, str]:
    """moto_server on a free port of 127.0.0.1; returns the child and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    child = procs.start(Child(argv, base_env(), cwd=tmp, name="moto_server", nice=REMOTE_NICE))
    wait_for_http(f"{url}/moto-api/data.json", child, timeout=30, interval=0.05)
    return child, url


def start_proxy(procs: Processes, tmp: Path, upstream: str, delay: float) -> tuple[Child, str]:
    """``bench.delay_proxy`` in front of ``upstream`` (its own process); returns its URL."""
    port = free_port()
    argv = [PYTHON, "-m", "bench.delay_proxy", upstream, str(delay), str(port)]
    child = procs.start(Child(argv, base_env(), cwd=tmp, name="delay-proxy", nice=REMOTE_NICE))
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/__bench_proxy/count", child, timeout=30, interval=0.05)
    return child, url


def proxied_requests(proxy_url: str) -> int:
    """How many requests the proxy has forwarded so far."""
    with urllib.request.urlopen(f"{proxy_url}/__bench_proxy/count", timeout=5) as response:
        return int(response.read())


def start_timed(
    procs: Processes,
    tmp: Path,
    env: dict[str, str],
    *,
    role: str = "web",
    name: str = "bot",
    ready_timeout: float = 60.0,
) -> tuple[Child, str, float]:
    """``python -m bot ROLE`` in HTTP mode; waits for GET /healthz 200.

    Returns the child, its base URL and the seconds from start to ready.
    """
    base = f"http://127.0.0.1:{env['PORT']}"
    started = time.monotonic()
    # in tmp, no .env of the repository is read
    child = procs.start(start_bot(env, role, cwd=tmp, name=name, ready=None))
    ready = wait_for_http(f"{base}/healthz", child, timeout=ready_timeout)
    return child, base, ready - started


# -- one benchmark's world --------------------------------------------------------------


@dataclass
class StandIns:
    """What a benchmark runs the bot against: moto_server and the fake Slack."""

    procs: Processes
    tmp: Path
    fake: Any  # bot.devkit.fake_slack.FakeSlack
    moto_url: str

    def serve(
        self,
        aws_endpoint_url: str,
        role: str,
        channels: Mapping[str, str] | None = None,
        skill_keys: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> str:
        """The bot over a skills file of one skill, trivia (function ``trivia-skill``), or
        of ``channels``' skills with ``skill_keys`` added to their entries, reaching AWS at
        ``aws_endpoint_url``; its base URL once it is ready."""
        skills = skills_config(channels, skill_keys=skill_keys)
        env = bot_env(
            self.tmp,
            port=free_port(),
            slack_api_url=self.fake.api_url,
            aws_endpoint_url=aws_endpoint_url,
            config=write_skills_file(self.tmp / "skills.toml", skills),
            log_level="WARNING",  # only warnings: the benchmark reads no log
        )
        _child, base, _seconds = start_timed(self.procs, self.tmp, env, role=role)
        return base


@contextlib.contextmanager
def stand_ins(name: str) -> Iterator[StandIns]:
    """Children, a temporary folder, the fake Slack and moto_server for the benchmark
    ``name``; all stopped and removed when the block ends."""
    from bot.devkit.fake_slack import FakeSlack

    with (
        Processes() as procs,
        tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp_name,
        FakeSlack() as fake,
    ):
        tmp = Path(tmp_name)
        _moto, moto_url = start_moto(procs, tmp)
        yield StandIns(procs, tmp, fake, moto_url)


# -- statistics and printing -----------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(a: float, b: float) -> str:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return "n/a"
    return f"{a / b:.2f}×"


def verdict(ok: bool) -> str:
    """Informational only: a benchmark never fails on a number."""
    return "within budget" if ok else "OVER budget"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)
