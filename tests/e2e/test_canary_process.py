"""Canary hotfixes through the real process (``python -m bot``, HTTP mode) over
moto_server (Lambda and CloudWatch) and the fake Slack, with a 5-second metric period.

Lambda publishes no metrics on moto: the test puts ``Invocations`` and ``Errors`` per
``ExecutedVersion`` with ``put_metric_data``, as Lambda would for a weighted alias.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support.canary import publish_lambda_metrics
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.process import BotProcess, bot_env, start_bot
from tests.support.skills import CHANNEL, skills_config, write_skills_file

FN = "trivia-skill"
PERIOD = 5  # seconds: the metric period of these tests (checks every 2.5 s)


@dataclass
class Rig:
    client: Any
    cloudwatch: Any
    fake: FakeSlack
    env: dict[str, str]
    tmp: Path
    port: int
    process: BotProcess | None = None

    def start(self) -> Bot:
        self.process = start_bot(self.env, cwd=self.tmp)
        return Bot(f"http://127.0.0.1:{self.port}", self.fake, self.process)

    def alias(self) -> tuple[str, dict[str, float]]:
        found = self.client.get_alias(FunctionName=FN, Name="PROD1")
        weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return found["FunctionVersion"], weights

    def traffic(self, version: str, invocations: int, errors: int = 0) -> None:
        """What Lambda publishes for the weighted alias PROD1, now."""
        publish_lambda_metrics(self.cloudwatch, version, invocations, errors, function=FN)

    def messages(self, needle: str) -> list[dict]:
        return [m for m in self.fake.messages(CHANNEL) if needle in m["text"]]


@pytest.fixture
def rig(moto_endpoint, tmp_path) -> Iterator[Rig]:
    client = create_skill_function(FN, moto_endpoint)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_endpoint)
    config = write_skills_file(
        tmp_path / "skillbot.toml",
        skills_config(canary_period=PERIOD, canary_min_invocations=5),
    )
    with FakeSlack() as fake:
        port = free_port()
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=port, config=config)
        r = Rig(client, cloudwatch, fake, env, tmp_path, port)
        try:
            yield r
        finally:
            if r.process is not None:
                r.process.kill()


def start_canary(rig: Rig, bot: Bot, window: str) -> dict:
    """Plan and confirm a 10 % canary of new code; its canary message."""
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command(f"hotfix --canary 10% --for {window} -- crash fix")
    assert plan["text"].startswith("Plan: canary trivia: PROD1 v1 → a new version from $LATEST")
    result = bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith("Done: trivia: canary PROD1 v1 → v3 at 10% for")
    assert rig.alias() == ("1", {"3": 0.1})
    [message] = rig.fake.wait_for(lambda f: rig.messages("trivia: canary PROD1"), timeout=10)
    return message


def test_a_canary_with_good_figures_completes_by_itself(rig):
    bot = rig.start()
    message = start_canary(rig, bot, "10s")
    rig.traffic("1", 90)
    rig.traffic("3", 10)
    [done] = rig.fake.wait_for(lambda f: rig.messages("canary completed"), timeout=40)
    assert done["text"].startswith("trivia: canary completed — PROD1 v1 → v3")
    assert rig.alias() == ("3", {})
    # the canary message is updated in place to its end, without its buttons
    [final] = rig.fake.wait_for(
        lambda f: [u for u in f.updates(CHANNEL, message["ts"]) if "Completed" in str(u["blocks"])],
        timeout=10,
    )
    assert "canary_abort" not in str(final["blocks"])
    history = bot.command("history")
    assert "canary-complete PROD1 v1 → v3" in str(history["blocks"])


def test_an_error_spike_aborts_within_two_metric_periods(rig):
    bot = rig.start()
    start_canary(rig, bot, "10m")
    rig.traffic("1", 200)
    rig.traffic("3", 20)
    # a good check first: the canary message shows v3's 20 invocations
    rig.fake.wait_for(
        lambda f: [
            u
            for m in rig.messages("trivia: canary PROD1")
            for u in f.updates(CHANNEL, m["ts"])
            if "20 invocations" in str(u["blocks"])
        ],
        timeout=20,
    )
    spike = time.time()
    spike_period = spike - spike % PERIOD  # the first period whose errors exceed the margin
    rig.traffic("3", 10, 6)
    rig.fake.wait_for(lambda f: rig.messages("canary aborted"), timeout=30)
    aborted = time.time()
    periods = (aborted - spike_period) / PERIOD
    print(f"\ncanary: error spike to abort announced: {periods:.2f} metric periods ({PERIOD} s)")
    assert rig.alias() == ("1", {})
    assert periods <= 2.0, f"{periods:.2f} metric periods from the spike to the abort"
    status = bot.command("status")
    assert "Canary" not in str(status["blocks"])


def test_the_abort_button_ends_it_at_once(rig):
    bot = rig.start()
    message = start_canary(rig, bot, "10m")
    status = bot.command("status")
    assert "Canary on PROD1: v3 takes 10% of traffic beside v1" in str(status["blocks"])
    refused = bot.command("rollback 2")
    assert "A canary runs on trivia's PROD1" in refused["text"]
    bot.click(kit.CANARY_ABORT, button_value(message, kit.CANARY_ABORT))
    [aborted] = rig.fake.wait_for(lambda f: rig.messages("canary aborted"), timeout=20)
    assert "aborted by <@U0ALICE>" in aborted["text"]
    assert rig.alias() == ("1", {})


def test_killed_mid_canary_the_next_process_finishes_it_once(rig):
    bot = rig.start()
    start_canary(rig, bot, "10m")
    assert rig.process is not None
    rig.process.kill()  # kill -9 while the canary runs
    assert rig.alias() == ("1", {"3": 0.1})
    rig.start()
    rig.traffic("1", 100)
    rig.traffic("3", 10, 5)
    rig.fake.wait_for(lambda f: rig.messages("canary aborted"), timeout=30)
    assert rig.alias() == ("1", {})
    assert len(rig.messages("trivia: canary PROD1")) == 1, "one canary message, not reposted"
    assert len(rig.messages("canary aborted")) == 1


def test_a_canary_message_refused_at_confirm_runs_the_canary_and_is_posted_after_slack_heals(rig):
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("hotfix --canary 10% --for 10m -- crash fix")
    rig.fake.fail_next("chat.postMessage", status=200, error="not_in_channel", times=2)
    result = bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert rig.alias() == ("1", {"3": 0.1}), "the canary runs"
    assert "Slack refused the canary message (with its Abort button)" in result["text"]
    [message] = rig.fake.wait_for(lambda f: rig.messages("trivia: canary PROD1"), timeout=30)
    # its Abort button works: the message is the canary's
    bot.click(kit.CANARY_ABORT, button_value(message, kit.CANARY_ABORT))
    rig.fake.wait_for(lambda f: rig.messages("canary aborted"), timeout=20)
    assert rig.alias() == ("1", {})
    assert len(rig.messages("trivia: canary PROD1")) == 1


def test_an_abort_while_the_channel_refuses_posts_is_announced_after_it_heals(rig):
    bot = rig.start()
    message = start_canary(rig, bot, "10m")
    # refused at once and at the first retry (5 s later); taken 10 s after that
    rig.fake.fail_next("chat.postMessage", status=503, error="service_unavailable", times=2)
    rig.fake.fail_next("chat.update", status=503, error="service_unavailable", times=2)
    bot.click(kit.CANARY_ABORT, button_value(message, kit.CANARY_ABORT))
    assert rig.fake.wait_for(lambda f: rig.alias() == ("1", {}), timeout=20)
    [aborted] = rig.fake.wait_for(lambda f: rig.messages("canary aborted"), timeout=40)
    assert "aborted by <@U0ALICE>" in aborted["text"]
    # and the canary message shows the end
    rig.fake.wait_for(
        lambda f: [u for u in f.updates(CHANNEL, message["ts"]) if "aborted" in str(u)],
        timeout=40,
    )
    assert len(rig.messages("canary aborted")) == 1
