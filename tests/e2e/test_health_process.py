"""A health report through the real process (``python -m bot``) over moto_server's
Lambda and CloudWatch and the fake Slack: after a hotfix, at the report's delay, a chart
(PNG) is shared in the announcement's thread with its verdict line; ``/skill report``
posts one in the channel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support.canary import publish_lambda_metrics
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.process import bot_env, start_bot
from tests.support.skills import CHANNEL, skills_config, write_skills_file

FN = "trivia-skill"


@pytest.fixture
def rig(moto_endpoint, tmp_path: Path) -> Iterator[tuple[Bot, object, object]]:
    client = create_skill_function(FN, moto_endpoint)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_endpoint)
    config = write_skills_file(tmp_path / "skillbot.toml", skills_config(health_report=["4s"]))
    with FakeSlack() as fake:
        port = free_port()
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=port, config=config)
        process = start_bot(env, cwd=tmp_path)
        try:
            yield Bot(f"http://127.0.0.1:{port}", fake, process), client, cloudwatch
        finally:
            process.kill()


def test_a_hotfix_gets_its_chart_in_the_thread_and_report_posts_one(rig):
    bot, client, cloudwatch = rig
    publish_lambda_metrics(cloudwatch, "1", 120, 1, function=FN)
    deploy(client, FN, "VERSION = 3\n")
    plan = bot.command("hotfix -- crash on launch")
    bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    [announcement] = [m for m in bot.fake.messages(CHANNEL) if "hotfix PROD1" in m["text"]]
    publish_lambda_metrics(cloudwatch, "3", 80, 0, function=FN)

    [chart] = bot.fake.wait_for(lambda f: f.files(CHANNEL), timeout=30)
    assert chart["thread_ts"] == announcement["ts"]
    assert chart["content"].startswith(b"\x89PNG") and len(chart["content"]) > 20_000
    [comment] = [r for r in bot.fake.thread_replies(CHANNEL, announcement["ts"]) if r.get("files")]
    assert comment["text"].startswith("trivia: 4s after PROD1 v3. Error rate")

    reply = bot.command("report --since 1h")
    assert "Posted the report in" in reply["text"], reply
    shared = bot.fake.wait_for(lambda f: [c for c in f.files(CHANNEL) if not c["thread_ts"]])
    assert shared[0]["name"] == "trivia-PROD1-1h.png"
