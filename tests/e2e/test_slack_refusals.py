"""The real process while Slack refuses its posts for a while: the person is told at once,
and the announcement and the certification message arrive after Slack heals. A database
file deleted under the running bot fails /healthz and refuses changes."""

from __future__ import annotations

import os
import time

import pytest

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from bot.devkit.slack_requests import get
from tests.support.aws import alias_version
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.users import APPROVER

FN = "trivia-skill"


def test_a_refused_announcement_is_told_and_arrives_after_slack_heals(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("hotfix -- crash on launch")
    b.fake.fail_next("chat.postMessage", status=200, error="not_in_channel", times=2)
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert alias_version(client, FN, "PROD1") == "3"
    assert result["text"].startswith("Applied, not announced yet")
    assert "not_in_channel" in result["text"] and "/invite @skillbot" in result["text"]

    announced = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "hotfix PROD1 v1 → v3" in m["text"]],
        timeout=45,
    )
    assert len(announced) == 1
    refused = [c for c in b.fake.calls_to("chat.postMessage") if not c.ok]
    assert len(refused) == 2, "refused twice, then posted"


def test_a_refused_certification_message_is_shown_missing_then_posted(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("certify -- quiz")
    b.fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert "certification message" in result["text"] and "/skill promote" in result["text"]
    status = b.command("status")
    assert "not posted yet" in str(status.get("blocks"))

    [message] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "certify PROD2" in m["text"]], timeout=30
    )
    assert "quiz" in message["text"]
    status = b.command("status")
    assert "not posted yet" not in str(status.get("blocks"))


def certification_messages(fake) -> list[dict]:
    return [m for m in fake.messages(CHANNEL) if "certify PROD2" in m["text"]]


def test_certify_then_cancel_while_slack_refuses_are_both_shown_after_it_heals(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    # posts refused twice (at certify and at its first retry), the update once
    b.fake.fail_next("chat.postMessage", status=503, error="service_unavailable", times=2)
    b.fake.fail_next("chat.update", status=503, error="service_unavailable")
    plan = b.command("certify -- quiz")
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    cancel = b.command("cancel -- wrong build")
    b.click(kit.CONFIRM, button_value(cancel, kit.CONFIRM))
    assert certification_messages(b.fake) == []

    [message] = b.fake.wait_for(certification_messages, timeout=40)
    updated = b.fake.wait_for(
        lambda f: [u for u in f.updates(CHANNEL, message["ts"]) if "cancelled" in str(u)],
        timeout=40,
    )
    assert updated, "the one certification message shows the cancel"
    replies = b.fake.wait_for(lambda f: f.thread_replies(CHANNEL, message["ts"]), timeout=20)
    assert any("cancel" in r["text"] for r in replies)
    assert len(certification_messages(b.fake)) == 1


def test_a_refused_update_while_the_approver_reacts_promotes_and_announces_once(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("certify -- quiz")
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    [message] = certification_messages(b.fake)
    b.fake.fail_next("chat.update", status=503, error="service_unavailable")
    b.react(APPROVER, message["ts"])
    b.fake.wait_for(
        lambda f: [u for u in f.updates(CHANNEL, message["ts"]) if "promoted" in str(u)],
        timeout=30,
    )
    promotions = [m for m in b.fake.messages(CHANNEL) if "promote" in m["text"]]
    assert len(promotions) == 1, promotions
    assert [c.status for c in b.fake.calls_to("chat.update")][:1] == [503]


def test_a_refused_promotion_announcement_still_updates_the_message_at_once(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("certify -- quiz")
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    [message] = certification_messages(b.fake)
    b.fake.fail_next("chat.postMessage", status=503, error="service_unavailable")
    b.react(APPROVER, message["ts"])
    b.fake.wait_for(
        lambda f: [u for u in f.updates(CHANNEL, message["ts"]) if "promoted" in str(u)],
        timeout=10,
    )
    promotions = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promote" in m["text"]], timeout=30
    )
    assert len(promotions) == 1


def test_a_rate_limited_announcement_is_told_at_once_and_posted_after_retry_after(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("hotfix -- crash on launch")
    b.fake.fail_next("chat.postMessage", status=429, retry_after=8)
    began = time.monotonic()
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    told = time.monotonic() - began
    assert result["text"].startswith("Applied, not announced yet"), result["text"]
    assert told < 5, f"told after {told:.1f} s: slack_sdk's own waits ran first"
    [_announced] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "hotfix PROD1 v1 → v3" in m["text"]],
        timeout=30,
    )
    assert time.monotonic() - began >= 8, "Slack's Retry-After was waited out"
    assert [c.status for c in b.fake.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize("deleted", [("", "-wal", "-shm"), ("-wal",)], ids=["all", "wal"])
def test_a_deleted_database_fails_health_and_refuses_changes(bot, tmp_path, deleted):
    b, client = bot
    assert get(f"{b.url}/healthz") == (200, "ok\n")
    for suffix in deleted:  # the write-ahead log alone holds the newest commits
        os.unlink(tmp_path / f"skillbot.db{suffix}")
    assert get(f"{b.url}/healthz")[0] == 503
    deploy(client, FN, "VERSION = 3\n")
    reply = b.command("hotfix -- after the loss")
    assert "deleted or replaced" in reply["text"] and "Restart the bot" in reply["text"]
    assert alias_version(client, FN, "PROD1") == "1"
    status = b.command("status")  # status says so too, naming the file
    assert f"skillbot.db{deleted[0]} was deleted or replaced" in str(status), status
    b.process.wait_for_log("was deleted or replaced while the bot runs")
