"""kill -9 the real process between "AWS changed" and "the bot knew": after a restart
nothing is lost, nothing is done twice, and what Slack shows matches AWS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import kit
from bot.adapters.store import open_store
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from bot.devkit.slack_requests import block_action_body
from tests.support import aws as aws_state
from tests.support.aws_proxy import FreezingProxy
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.process import BotProcess, bot_env, start_bot
from tests.support.skills import CHANNEL
from tests.support.users import APPROVER

FN = "trivia-skill"


@dataclass
class Rig:
    client: Any
    proxy: FreezingProxy
    fake: FakeSlack
    env: dict[str, str]
    tmp: Path
    port: int
    process: BotProcess | None = None

    @property
    def bot(self) -> Bot:
        assert self.process is not None
        return Bot(f"http://127.0.0.1:{self.port}", self.fake, self.process)

    def start(self, *, after_crash: bool = False) -> Bot:
        """``python -m bot``; after a crash, wait until recovery (a scheduler job) ran."""
        self.process = start_bot(self.env, cwd=self.tmp)
        if after_crash:
            self.process.wait_for_log("recovery: RecoveryReport(")
        return self.bot

    def crash_when_aws_has_answered(self, method: str, path_part: str, act: Any) -> None:
        """Run ``act`` (it makes the bot call AWS), kill -9 once AWS did the call."""
        self.proxy.freeze(method, path_part)
        act()
        assert self.proxy.reached.wait(20), "the bot never made the call"
        assert self.process is not None
        self.process.kill()
        self.proxy.release.set()

    def aliases(self) -> tuple[str, str]:
        return aws_state.aliases(self.client)

    def live_tag(self) -> str | None:
        return aws_state.live_tag(self.client)

    def versions(self) -> list[str]:
        return aws_state.versions(self.client)


@pytest.fixture
def rig(moto_endpoint, tmp_path) -> Iterator[Rig]:
    client = create_skill_function(FN, moto_endpoint)
    with FreezingProxy(moto_endpoint) as proxy, FakeSlack() as fake:
        port = free_port()
        r = Rig(
            client,
            proxy,
            fake,
            bot_env(tmp_path, fake.api_url, proxy.url, port=port),
            tmp_path,
            port,
        )
        try:
            yield r
        finally:
            if r.process is not None:
                r.process.kill()


def click_confirm_async(bot: Bot, plan: dict) -> Any:
    """Post the Confirm click; its answer comes later, through the response_url."""
    body = block_action_body(
        kit.CONFIRM, button_value(plan, kit.CONFIRM), response_url=bot.fake.response_url()
    )
    return lambda: bot.send(body)


def messages_with(fake: FakeSlack, needle: str) -> list[dict]:
    return [m for m in fake.messages(CHANNEL) if needle in m["text"]]


def test_certify_killed_after_the_alias_moved_is_completed_on_restart(rig):
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("certify -- quiz")
    rig.crash_when_aws_has_answered("PUT", "/aliases/PROD2", click_confirm_async(bot, plan))
    assert rig.aliases() == ("1", "3")
    assert messages_with(rig.fake, "certify") == [], "it died before announcing"

    rig.start(after_crash=True)
    [message] = messages_with(rig.fake, "certify")
    assert message["text"] == "trivia: certify PROD2 v2 → v3 by <@U0ALICE> — quiz"
    # the certification is tracked: the approver's reaction promotes it
    rig.bot.react(APPROVER, message["ts"])
    rig.fake.wait_for(lambda f: messages_with(f, "promoted"))
    assert rig.live_tag() == "PROD2" and rig.aliases() == ("1", "3")
    assert rig.versions() == ["$LATEST", "1", "2", "3"]


def test_certify_killed_after_publishing_is_confirmed_again_without_a_second_version(rig):
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("certify")
    rig.crash_when_aws_has_answered("POST", "/versions", click_confirm_async(bot, plan))
    assert rig.versions() == ["$LATEST", "1", "2", "3"] and rig.aliases() == ("1", "2")

    bot = rig.start(after_crash=True)
    assert messages_with(rig.fake, "certify") == []
    result = bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith("Done: trivia: certify PROD2 v2 → v3")
    assert rig.aliases() == ("1", "3")
    assert rig.versions() == ["$LATEST", "1", "2", "3"], "published once"
    rig.fake.wait_for(lambda f: messages_with(f, "certify"))
    assert len(messages_with(rig.fake, "certify")) == 1


def test_hotfix_killed_after_the_alias_moved_is_announced_once_on_restart(rig):
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("hotfix -- crash")
    rig.crash_when_aws_has_answered("PUT", "/aliases/PROD1", click_confirm_async(bot, plan))
    assert rig.aliases() == ("3", "2")

    bot = rig.start(after_crash=True)
    assert [m["text"] for m in messages_with(rig.fake, "hotfix")] == [
        "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash"
    ]
    # a second click on the old plan does nothing more
    click_confirm_async(bot, plan)()
    history = bot.command("history")
    assert history["text"].startswith("History of trivia")
    assert len(messages_with(rig.fake, "hotfix")) == 1
    assert rig.aliases() == ("3", "2")


def test_promotion_killed_after_the_tag_is_completed_on_restart(rig):
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("certify")
    bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    [message] = rig.fake.wait_for(lambda f: messages_with(f, "certify"))
    rig.crash_when_aws_has_answered("POST", "/tags/", lambda: bot.react(APPROVER, message["ts"]))
    assert rig.live_tag() == "PROD2"
    assert messages_with(rig.fake, "promoted") == []

    rig.start(after_crash=True)
    [promoted] = messages_with(rig.fake, "promoted")
    assert promoted["text"].startswith("trivia: promoted — live PROD1 v1 → PROD2 v3")
    update = rig.fake.updates(CHANNEL, message["ts"])[-1]
    assert "promoted by" in str(update["blocks"])
    assert rig.aliases() == ("1", "3")


def test_an_announcement_owed_when_the_process_died_is_posted_once_by_the_next(rig):
    """kill -9 after the change and its owed announcement were committed, before Slack
    took the post: the restarted process posts it, once, with its key."""
    bot = rig.start()
    deploy(rig.client, FN, "VERSION = 3\n")
    plan = bot.command("hotfix -- crash")
    rig.fake.fail_next("chat.postMessage", status=503, times=1000)  # Slack is down
    result = bot.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith("Applied, not announced yet")
    assert rig.process is not None
    rig.process.kill()
    rig.fake.heal()  # Slack heals while the bot is down
    assert messages_with(rig.fake, "hotfix") == []

    rig.start()
    [message] = rig.fake.wait_for(lambda f: messages_with(f, "hotfix"), timeout=30)
    assert message["text"] == "trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash"
    key = message["metadata"]["event_payload"]["key"]
    assert key.startswith("announce:")
    # recorded as sent (with its ts), so no later pass of any replica posts it again
    store = open_store(f"sqlite:///{rig.tmp / 'skillbot.db'}")
    row = store.owed(key)
    store.close()
    assert row is not None and (row.state, row.ts) == ("sent", message["ts"])
    assert len(messages_with(rig.fake, "hotfix")) == 1
