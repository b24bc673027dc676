"""What every benchmark needs: free ports, child processes that are always stopped,
an isolated environment, moto_server, the bot as a real process, and statistics.

Children are started in a :class:`Processes` (a context manager); leaving it, normally,
on an error or on Ctrl-C/SIGTERM, stops each child it started, by its own pid::

    with Processes() as procs, tempfile.TemporaryDirectory() as tmp:
        moto = start_moto(procs, Path(tmp))
        bot = start_bot(procs, Path(tmp), env)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
REGION = "us-east-1"


# -- ports, signals --------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sigterm_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` stops its children."""

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


# -- child processes -----------------------------------------------------------------


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def rss_mb(self) -> float:
        """Resident memory (VmRSS of /proc/<pid>/status) in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {self.name} (pid {self.pid})")


class Processes:
    """The children one benchmark started; all are stopped when the block ends."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        nice: int = 0,
    ) -> Child:
        out = log.open("wb")
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None,
            )
        finally:
            out.close()  # the child holds its own copy
        child = Child(name, popen, log)
        self.children.append(child)
        return child

    def stop(self, child: Child, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; only this child's pid."""
        if child.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.popen.terminate()
            try:
                child.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    child.popen.kill()
                child.popen.wait(5)
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            # a second Ctrl-C while stopping must not leave the rest running
            with contextlib.suppress(Exception, KeyboardInterrupt):
                self.stop(child)


# -- HTTP ------------------------------------------------------------------------------


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """Status of GET ``url``; None when nothing answers (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (OSError, urllib.error.URLError):
        return None


class NotReady(RuntimeError):
    """A child did not answer in time (it is still running: stop it)."""

    def __init__(self, message: str, child: Child, waited: float) -> None:
        super().__init__(message)
        self.child = child
        self.waited = waited


def wait_until(
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
                f"{child.name} exited with {child.popen.returncode} before {url} answered:\n"
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


def base_env(tmp: Path) -> dict[str, str]:
    """The caller's environment without anything that could reach a real account or
    change the bot's settings, plus fake AWS credentials."""
    drop_prefixes = ("AWS_", "SLACK_", "ALEXA_", "SKILLBOT_")
    drop = {"DATABASE_URL", "PORT", "LOG_LEVEL"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes) and k not in drop}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
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
    child = procs.start(
        "moto_server",
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=base_env(tmp),
        cwd=tmp,
        log=tmp / "moto.log",
        nice=REMOTE_NICE,
    )
    wait_until(f"{url}/moto-api/data.json", child, timeout=30, interval=0.05)
    return child, url


def start_proxy(procs: Processes, tmp: Path, upstream: str, delay: float) -> tuple[Child, str]:
    """``bench.delay_proxy`` in front of ``upstream`` (its own process); returns its URL."""
    port = free_port()
    child = procs.start(
        "delay-proxy",
        [PYTHON, "-m", "bench.delay_proxy", upstream, str(delay), str(port)],
        env=base_env(tmp),
        cwd=tmp,
        log=tmp / "proxy.log",
        nice=REMOTE_NICE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(f"{url}/__bench_proxy/count", child, timeout=30, interval=0.05)
    return child, url


def proxied_requests(proxy_url: str) -> int:
    """How many requests the proxy has forwarded so far."""
    with urllib.request.urlopen(f"{proxy_url}/__bench_proxy/count", timeout=5) as response:
        return int(response.read())


def bot_env(
    tmp: Path,
    *,
    port: int,
    slack_api_url: str,
    aws_endpoint_url: str,
    skills_file: Path,
    database_url: str | None = None,
) -> dict[str, str]:
    env = base_env(tmp)
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_api_url,
        PORT=str(port),
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'skillbot.db'}",
        SKILLBOT_CONFIG=str(skills_file),
        AWS_ENDPOINT_URL=aws_endpoint_url,
        LOG_LEVEL="WARNING",
    )
    return env


def scheduler_available() -> bool:
    """``python -m bot`` (role all) needs bot.scheduling; a web replica does not."""
    import importlib.util

    return importlib.util.find_spec("bot.scheduling") is not None


def start_bot(
    procs: Processes,
    tmp: Path,
    env: Mapping[str, str],
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
    child = procs.start(
        name,
        [PYTHON, "-m", "bot", role],
        env=env,
        cwd=tmp,  # no .env of the repository is read
        log=tmp / f"{name}.log",
    )
    ready = wait_until(f"{base}/healthz", child, timeout=ready_timeout)
    return child, base, ready - started


# -- the skills file ---------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_skills_file(path: Path, config: Mapping[str, Any]) -> Path:
    """Write a skills file (top-level keys plus ``[skills.NAME]`` tables) as TOML."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if k != "skills"]
    for name, entry in config["skills"].items():
        lines.append(f"\n[skills.{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in entry.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
