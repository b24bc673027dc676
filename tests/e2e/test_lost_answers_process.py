"""The real process when Slack makes a post but its answer is lost (the connection closes
before the response): the announcement, and the certification message that a reaction
promotes by, are in the channel exactly once, and the person is told it is applied."""

from __future__ import annotations

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from tests.support.aws import alias_version
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.users import APPROVER

FN = "trivia-skill"


def test_an_announcement_whose_answers_are_lost_is_posted_once(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("hotfix -- crash on launch")
    b.fake.fail_next("chat.postMessage", lose_answer=True, times=2)
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert alias_version(client, FN, "PROD1") == "3"
    assert result["text"].startswith("Done: trivia: hotfix PROD1 v1 → v3"), result["text"]
    announced = [m for m in b.fake.messages(CHANNEL) if "hotfix PROD1 v1 → v3" in m["text"]]
    assert len(announced) == 1, announced  # slack_sdk's own retry used to post it 3 times
    assert len(b.fake.calls_to("chat.postMessage")) == 1
    assert b.fake.calls_to("conversations.history")  # looked up by its key instead


def test_a_certification_message_whose_answer_is_lost_is_the_one_a_reaction_promotes(bot):
    b, client = bot
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("certify -- quiz")
    b.fake.fail_next("chat.postMessage", lose_answer=True)
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    [message] = [m for m in b.fake.messages(CHANNEL) if "certify PROD2" in m["text"]]
    b.react(APPROVER, message["ts"])
    promoted = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promote" in m["text"].lower()], timeout=20
    )
    assert len(promoted) == 1
    assert len([m for m in b.fake.messages(CHANNEL) if "certify PROD2" in m["text"]]) == 1
