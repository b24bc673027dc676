"""The real bot process (``python -m bot``, what ``make run`` starts) for end-to-end tests.

It is started with an environment of our choosing; readiness and log lines are awaited
on its stderr, never slept for::

    with BotProcess(env) as bot:
        bot.wait_for_log("ready (HTTP")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    def __init__(self, env: Mapping[str, str], *args: str, cwd: Path = ROOT) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AWS_"))}
        self.env.update(env)
        self.args = args
        self.cwd = cwd
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> BotProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append("<exited>")
            self._cond.notify_all()

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> str:
        def found() -> str | None:
            for line in self.lines:
                if needle in line:
                    return line
            return None

        with self._cond:
            ok = self._cond.wait_for(lambda: found() or "<exited>" in self.lines, timeout)
            line = found()
            if not ok or line is None:
                raise AssertionError(
                    f"{needle!r} not logged within {timeout}s; log:\n" + "\n".join(self.lines)
                )
            return line

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        return self.proc.wait(timeout=30)

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill(signal.SIGTERM)
