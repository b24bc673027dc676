"""The demo as a person uses it: the real process, its page in Chromium, a whole rotation.

Needs Chromium at /usr/bin/chromium (``apt-get install chromium``); skips without it,
except in CI (``SKILLBOT_REQUIRE_BROWSER=1``), where a missing browser fails.
``SKILLBOT_PLAYGROUND_SCREENSHOT=docs/playground.png`` saves the README's picture on the way.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.demo import running_demo
from tests.support.process import wait_until

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FUNCTION = "trivia-skill"
WAIT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _need(reason: str) -> None:
    if os.environ.get("SKILLBOT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (SKILLBOT_REQUIRE_BROWSER=1 makes the browser test mandatory)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _need(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Demo:
    url: str
    aws_endpoint: str
    data: Path
    process: subprocess.Popen[str]
    output: list[str]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=self.aws_endpoint,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )

    def alias_version(self, alias: str) -> str:
        found = self.client("lambda").get_alias(FunctionName=FUNCTION, Name=alias)
        return str(found["FunctionVersion"])

    def traffic_of(self, version: str) -> bool:
        """Has the demo published its customers' figures of ``version`` yet?"""
        dims = [{"Name": "ExecutedVersion", "Value": version}]
        found = self.client("cloudwatch").list_metrics(Namespace="AWS/Lambda", Dimensions=dims)
        return bool(found["Metrics"])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """``python -m bot demo`` on a free port, awaited by the line that prints its URL."""
    with running_demo(tmp_path, "--reminder-schedule", "3s") as (url, child):
        assert child.proc is not None
        with urllib.request.urlopen(f"{url}/playground/config", timeout=10) as answer:
            config = json.load(answer)
        yield Demo(url, config["aws_endpoint"], tmp_path, child.proc, child.lines)


def test_a_whole_rotation_through_the_page(browser: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(WAIT_MS)
    page.goto(demo.url)
    channel = page.get_by_role("log", name="Messages")
    composer = page.get_by_role("textbox", name="Message")
    expect(page.get_by_role("button", name="# trivia")).to_be_visible()
    assert (demo.alias_version("PROD1"), demo.alias_version("PROD2")) == ("1", "2")

    # the operator certifies $LATEST's new code on the candidate alias
    composer.fill("/skill certify -- first")
    composer.press("Enter")
    plan = channel.locator(".message.ephemeral", has_text="certify trivia: PROD2 v2 →")
    expect(plan).to_contain_text("Only visible to you")
    plan.get_by_role("button", name="Confirm", exact=True).click()
    certification = channel.locator(".message:not(.ephemeral)", has_text="certify PROD2 v2 → v3")
    expect(certification.locator("b").first).to_have_text(
        "trivia: certify PROD2 v2 → v3 by @Olivia"
    )
    expect(certification.locator("blockquote")).to_have_text("first")  # the reason, quoted
    expect(certification).to_contain_text("pending since")
    assert demo.alias_version("PROD2") == "3"

    # a reminder arrives in the certification message's thread
    certification.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread).to_contain_text("Certification of v3 on PROD2 has been pending")

    # the approver reacts with ✅ on the certification message: PROD2 becomes live
    page.get_by_label("You are").select_option(label="Arjun (approver)")
    certification.hover()
    certification.get_by_role("button", name="Add reaction").click()
    page.get_by_role("dialog", name="Pick a reaction").get_by_role(
        "button", name="white_check_mark"
    ).click()
    promotion = channel.locator(".message", has_text="trivia: promoted — live PROD1 v1 → PROD2 v3")
    expect(promotion).to_contain_text("by @Arjun")
    expect(certification).to_contain_text("promoted by @Arjun")
    expect(certification.get_by_role("button", name=re.compile("white_check_mark"))).to_be_visible()
    # CI deploys new code; the operator hotfixes the live alias with it
    page.get_by_role("button", name="Deploy new code to $LATEST").click()
    expect(page.get_by_role("region", name="Log")).to_contain_text("deployed release 4")
    page.get_by_label("You are").select_option(label="Olivia (operator)")
    composer.fill("/skill hotfix -- crash on launch")
    composer.press("Enter")
    hotfix_plan = channel.locator(".message.ephemeral", has_text="hotfix trivia: PROD2 v3 →")
    confirm = hotfix_plan.get_by_role("button", name="Confirm", exact=True)
    expect(confirm).to_be_in_viewport(ratio=1)  # shown, not left below the fold
    confirm.click()
    hotfix = channel.locator(".message:not(.ephemeral)", has_text="trivia: hotfix PROD2 v3 → v4")
    expect(hotfix).to_contain_text("crash on launch")
    expect(page.locator("#aws tr[data-alias=PROD2]")).to_contain_text("v4")

    assert (demo.alias_version("PROD1"), demo.alias_version("PROD2")) == ("1", "4")

    # how the live alias does: the demo's traffic, drawn, in the channel (once its
    # customers have reached v4)
    wait_until(lambda: demo.traffic_of("4"), timeout=20, interval=0.5)
    composer.fill("/skill report --since 2h")
    composer.press("Enter")
    report = channel.locator(".message", has_text="PROD2 over the last 2h")
    chart = report.locator(".file img")
    expect(chart).to_be_visible(timeout=20_000)
    loaded = "img => img.complete && img.naturalWidth === 1000"
    page.wait_for_function(loaded, arg=chart.element_handle())
    shot = os.environ.get("SKILLBOT_PLAYGROUND_SCREENSHOT")
    if shot:  # the README's picture: python -m pytest tests/e2e/test_playground.py
        chart.scroll_into_view_if_needed()
        page.screenshot(path=shot)
    assert "unknown_method" not in page.get_by_role("region", name="Log").inner_text()

    # Ctrl-C stops the demo and the bot in it cleanly
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    assert "shutting down" in (demo.data / "bot.log").read_text()


def test_two_hundred_messages_app_home_and_refusals(browser: Any, demo: Demo) -> None:
    from playwright.sync_api import expect
    from slack_sdk import WebClient

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(WAIT_MS)
    page.goto(demo.url)
    channel = page.get_by_role("log", name="Messages")
    expect(page.get_by_role("button", name="# trivia")).to_be_visible()
    slack = WebClient(base_url=f"{demo.url}/api/", token="xoxb-demo-token")
    for n in range(200):
        slack.chat_postMessage(
            channel="C0TRIVIA",
            text=f"load {n}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*load {n}* `PROD1`"}},
                {"type": "divider"},
            ],
        )
    expect(channel.locator(".message", has_text="load 199")).to_be_visible()
    assert channel.locator(".message").count() == 200

    # still usable: a bystander's certify is refused, privately, with who may
    page.get_by_label("You are").select_option(label="Bea (bystander)")
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("/skill certify")
    composer.press("Enter")
    refusal = channel.locator(".message.ephemeral", has_text="@Olivia")
    expect(refusal).to_contain_text("Only visible to you")
    page.get_by_label("You are").select_option(label="Olivia (operator)")
    expect(refusal).to_have_count(0)

    # a tall plan below 200 messages is scrolled to once its blocks have rendered: its
    # Confirm is on screen without the person scrolling
    composer.fill("/skill hotfix -- check the scroll")
    composer.press("Enter")
    plan = channel.locator(".message.ephemeral", has_text="hotfix trivia: PROD1 v1 →")
    expect(plan.get_by_role("button", name="Confirm", exact=True)).to_be_in_viewport(ratio=1)
    plan.get_by_role("button", name="Cancel", exact=True).click()

    # App Home: opening it makes the bot publish the view
    page.get_by_role("button", name="skillbot Home").click()
    home = page.get_by_label("App Home")
    expect(home).to_contain_text("Skills")
    expect(home).to_contain_text("PROD1")
