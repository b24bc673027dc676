"""The demo as ``make demo`` starts it (``python -m bot demo``), on a free port, awaited
by the line that prints its URL; leaving the block stops it as Ctrl-C does::

    with running_demo(tmp_path, "--reminder-schedule", "3s") as (url, demo):
        demo.wait_for_log("export SKILLBOT_ACTOR=")
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.devkit.json_server import free_port
from tests.support.process import ROOT, Child, isolated_env


@contextmanager
def running_demo(data: Path, *options: str) -> Iterator[tuple[str, Child]]:
    """The demo keeping its database and skills file in ``data``; its page's URL and the
    process (its output read line by line)."""
    argv = [sys.executable, "-m", "bot", "demo", "--port", str(free_port()), "--data", str(data)]
    child = Child([*argv, *options], isolated_env(), cwd=ROOT, name="demo").start()
    assert child.proc is not None
    try:
        line = child.wait_for_log("skillbot demo: http", timeout=60)
        match = re.search(r"skillbot demo: (http://\S+)", line)
        assert match is not None, line
        yield match.group(1), child
    finally:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGINT)
            child.proc.wait(timeout=30)
