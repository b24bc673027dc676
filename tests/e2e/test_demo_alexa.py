"""The demo with ``--alexa``, driven through its page's HTTP actions: a review decided on
the page reaches the certification thread within seconds, not at a 5-minute poll."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.seed import ALEXA_POLL_EVERY, OPERATOR, SKILL_CHANNEL
from bot.devkit.json_server import free_port
from bot.schedules import parse_duration
from tests.support.process import ROOT, Child

pytestmark = pytest.mark.timeout(120)


class Page:
    """What the playground's page does over HTTP: actions, and the long-polled state."""

    def __init__(self, url: str) -> None:
        self.url, self.rev, self.messages = url, 0, {}

    def do(self, action: str, **data: Any) -> None:
        request = urllib.request.Request(
            f"{self.url}/playground/{action}", json.dumps(data).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=15) as answer:
            assert json.load(answer)["ok"], action

    def wait_for(self, found: Any, timeout: float) -> dict[str, Any]:
        """The first message for which ``found(message)`` holds, waiting for changes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages.values():
                if found(message):
                    return message
            query = f"since={self.rev}&wait=1"
            with urllib.request.urlopen(f"{self.url}/playground/state?{query}", timeout=40) as a:
                state = json.load(a)
            self.rev = state["rev"]
            self.messages.update({m["id"]: m for m in state["messages"]})
        raise AssertionError(f"nothing matched within {timeout} s: {list(self.messages.values())}")


def _button(message: dict[str, Any], label: str) -> dict[str, Any]:
    for block in message["blocks"] or []:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return {**element, "block_id": block.get("block_id", "")}
    raise AssertionError(f"no {label} button in {message}")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AWS_", "ALEXA_"))}
    argv = [sys.executable, "-m", "bot", "demo", "--alexa", "--port", str(port)]
    child = Child([*argv, "--data", str(tmp_path)], env, cwd=ROOT, name="demo").start()
    assert child.proc is not None
    try:
        line = child.wait_for_log("skillbot demo: http", timeout=60)
        match = re.search(r"skillbot demo: (http://\S+)", line)
        assert match is not None, line
        yield Page(match.group(1))
    finally:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGINT)
            child.proc.wait(timeout=30)


def test_a_passed_review_reaches_the_thread_at_the_demos_short_poll(page: Page) -> None:
    page.do("command", user=OPERATOR.id, channel=SKILL_CHANNEL, text="/skill certify -- first")
    plan = page.wait_for(lambda m: m["ephemeral_to"] and "Confirm" in json.dumps(m["blocks"]), 30)
    confirm = _button(plan, "Confirm")
    page.do(
        "click",
        user=OPERATOR.id,
        message=plan["id"],
        action_id=confirm["action_id"],
        value=confirm.get("value", ""),
        block_id=confirm["block_id"],
    )
    certification = page.wait_for(
        lambda m: not m["ephemeral_to"] and "certify PROD2" in m["text"], 30
    )

    page.do("alexa", passed=True)
    decided = time.monotonic()
    reply = page.wait_for(
        lambda m: m["thread_ts"] == certification["ts"] and "certification passed" in m["text"],
        60,
    )
    took = time.monotonic() - decided
    every = parse_duration(ALEXA_POLL_EVERY)
    assert every is not None and every.total_seconds() <= 10
    # one poll and the post (the default, 5 minutes, would never make it)
    assert took < every.total_seconds() + 15, (took, reply["text"])
