"""The real bot process (``python -m bot [ROLE]``, what ``make run`` starts) and other
child processes, started with an environment of our choosing, for the end-to-end tests
and the benchmarks.

Their output is read line by line on a thread; log lines are awaited, never slept for,
and leaving the block stops the process (SIGTERM, then SIGKILL)::

    env = bot_env(tmp, fake.api_url, moto, port=free_port())
    with start_bot(env, cwd=tmp) as bot:          # once it serves HTTP
        ...
    scheduler = start_bot(env, "scheduler", cwd=tmp, log=tmp / "bot.log", ready="scheduler ready")
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tests.support.skills import skills_toml
from tests.support.slack_world import SECRET, TOKEN

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]

#: what a child must not inherit: credentials or settings that could reach a real Slack
#: workspace, AWS account or database, or change how the bot runs (a CI runner's own
#: GITHUB_* or CODEBUILD_* would make the command line act as that pipeline)
ISOLATED_PREFIXES = (
    "SLACK_",
    "AWS_",
    "ALEXA_",
    "SKILLBOT_",
    "DATABASE_",
    "GITHUB_",
    "CODEBUILD_",
)
ISOLATED_NAMES = frozenset({"PORT", "LOG_LEVEL"})
REGION = "us-east-1"


def isolated_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything that could reach a real account or
    change the bot's settings, with fake AWS credentials and no AWS config files.

    >>> env = isolated_env(PORT="3000")
    >>> env["PORT"], env["AWS_ACCESS_KEY_ID"], "SLACK_BOT_TOKEN" in env
    ('3000', 'testing', False)
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(ISOLATED_PREFIXES) and key not in ISOLATED_NAMES
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class Child:
    """A child process in a session of its own, its stdout and stderr read line by line:
    kept in memory, appended to ``log`` when given, and awaited with :meth:`wait_for_log`.

    ``env`` is its whole environment; ``nice`` lowers its priority.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: Path,
        log: Path | None = None,
        name: str | None = None,
        nice: int = 0,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log
        self.name = name or Path(self.argv[0]).name
        self.nice = nice
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._cond = threading.Condition()
        self._eof = False
        self._reader: threading.Thread | None = None

    def start(self) -> Child:
        nice = self.nice
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-output", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(self.log_path.open("a")) if self.log_path else None
            for raw in self.proc.stdout:
                line = raw.rstrip("\n")
                if sink is not None:
                    sink.write(line + "\n")
                    sink.flush()
                with self._cond:
                    self.lines.append(line)
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """Its exit status once it ended (negative: the signal that ended it)."""
        return None if self.proc is None else self.proc.poll()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> str:
        """The first line containing ``needle``; fails with the output when the process
        ends or ``timeout`` seconds pass without one."""

        def found() -> str | None:
            return next((line for line in self.lines if needle in line), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None or self._eof, timeout)
            line = found()
            if line is None:
                raise AssertionError(
                    f"{needle!r} not logged by {self.name} within {timeout}s; log:\n"
                    + "\n".join(self.lines)
                )
            return line

    def log(self) -> str:
        """Everything it wrote so far."""
        with self._cond:
            return "\n".join(self.lines)

    def log_tail(self, lines: int = 30) -> str:
        with self._cond:
            return "\n".join(self.lines[-lines:])

    def kill(self, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to its session (unless it already ended); its exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        code = self.proc.wait(timeout=30)
        self._drain()
        return code

    def stop(self, *, hard: bool = False, grace: float = 20.0) -> int:
        """SIGTERM (a graceful stop), or SIGKILL when ``hard`` (no shutdown code runs);
        SIGKILL if it is still running ``grace`` seconds later. Its exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return self.kill()
        self._drain()
        return self.proc.returncode

    def _drain(self) -> None:
        # the output it wrote before exiting is kept (and logged) before we report
        if self._reader is not None:
            self._reader.join(timeout=5)

    def __enter__(self) -> Child:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.stop()


class BotProcess(Child):
    """``python -m bot [ROLE]``: ``env`` over :func:`isolated_env`, importable from
    any ``cwd`` (a ``cwd`` outside the repository reads no ``.env``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        *args: str,
        cwd: Path = ROOT,
        log: Path | None = None,
        name: str = "bot",
    ) -> None:
        full = isolated_env(**env)
        full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full.get("PYTHONPATH")]))
        super().__init__([sys.executable, "-m", "bot", *args], full, cwd=cwd, log=log, name=name)

    def start(self) -> BotProcess:
        super().start()
        return self

    def __enter__(self) -> BotProcess:
        return self.start()


#: what :func:`start_bot` awaits by default: the web role serving HTTP
SERVING_HTTP = "ready (HTTP"


def bot_env(
    tmp: Path,
    slack_api_url: str,
    aws_endpoint_url: str | None = None,
    *,
    port: int | None = None,
    config: Path | None = None,
    database_url: str | None = None,
    token: str = TOKEN,
    signing_secret: str | None = SECRET,
    log_level: str = "INFO",
) -> dict[str, str]:
    """The whole environment of a bot on the fake Slack at ``slack_api_url`` and AWS at
    ``aws_endpoint_url``: :func:`isolated_env` and the bot's settings. Its files are in
    ``tmp`` unless given: the SQLite database ``skillbot.db`` and the skills file
    ``skillbot.toml`` (trivia, the test users)."""
    env = isolated_env(
        SLACK_BOT_TOKEN=token,
        SLACK_API_URL=slack_api_url,
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'skillbot.db'}",
        SKILLBOT_CONFIG=str(config or skills_toml(tmp / "skillbot.toml")),
        LOG_LEVEL=log_level,
    )
    if signing_secret is not None:
        env["SLACK_SIGNING_SECRET"] = signing_secret
    if port is not None:
        env["PORT"] = str(port)
    if aws_endpoint_url is not None:
        env["AWS_ENDPOINT_URL"] = aws_endpoint_url
    return env


def start_bot(
    env: Mapping[str, str],
    *args: str,
    cwd: Path,
    log: Path | None = None,
    name: str = "bot",
    ready: str | None = SERVING_HTTP,
    timeout: float = 30.0,
) -> BotProcess:
    """``python -m bot [ARGS]`` in ``cwd`` (a folder without a .env), its output also
    appended to ``log`` when given; once it has logged ``ready`` (None: at once)."""
    bot = BotProcess(env, *args, cwd=cwd, log=log, name=name).start()
    if ready is not None:
        bot.wait_for_log(ready, timeout)
    return bot


def iter_lines(path: Path) -> Iterator[str]:
    """The lines of a log file (none while it does not exist)."""
    if path.exists():
        yield from path.read_text(errors="replace").splitlines()


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 10.0, *, interval: float = 0.01
) -> T:
    """The first truthy answer of ``predicate``, asked every ``interval`` seconds; fails
    when ``timeout`` seconds pass without one. For conditions nothing signals.

    >>> wait_until(lambda: 42)
    42
    """
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {predicate}")
        time.sleep(interval)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of GET ``url``; None when nothing answers (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except OSError:  # URLError too: not listening yet
        return None
