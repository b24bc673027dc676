"""The bot as a subprocess that also writes its output to a log file, for tests that
read the log while it runs and after it stopped (restarts append to the same file)::

    first = start_bot("scheduler", env, tmp_path / "bot.log")
    wait_for_line(tmp_path / "bot.log", "scheduler ready")
    stop_bot(first, hard=True)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path

from bot.devkit.process import BotProcess

#: the running process that writes each log file, for :func:`wait_for_line`
_writers: weakref.WeakValueDictionary[Path, BotProcess] = weakref.WeakValueDictionary()


def start_bot(role: str, env: dict[str, str], log_path: Path) -> BotProcess:
    """``python -m bot ROLE`` with its output appended to ``log_path``, run in that
    file's folder (where no .env is read)."""
    process = BotProcess(env, role, cwd=log_path.parent, log=log_path).start()
    _writers[log_path] = process
    return process


def stop_bot(process: BotProcess, *, hard: bool = False) -> None:
    """``kill -9`` when ``hard``, else SIGTERM (a graceful stop); then reap it."""
    process.stop(hard=hard)


def wait_for_line(path: Path, text: str, timeout: float = 20.0) -> None:
    """Until the process writing ``path`` has logged a line with ``text``."""
    _writers[path].wait_for_log(text, timeout)


def iter_lines(path: Path) -> Iterator[str]:
    if path.exists():
        yield from path.read_text(errors="replace").splitlines()
