"""A post whose answer is lost (Slack made it, the connection closed before the answer)
is made once: the outbox looks for its idempotency key in the channel's history (or the
thread's) before posting again, and slack_sdk's blind connection retry never posts."""

from __future__ import annotations

import pytest

from bot.adapters.slack.notifier import POST_EVENT, SlackPresenter, SlackSender, web_client
from bot.devkit.fake_slack import FakeSlack
from bot.domain.news import Announcement, CertificationNews
from bot.ports import Rendered
from bot.service.outbox import Outbox
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import World, make_world

CHANNEL = "C0TRIVIA"


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def change(world):
    world.lam.deploy("trivia-skill", "code-3")
    plan = world.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    return world.cases.applying.apply(plan.id, actor=OPERATOR)


@pytest.fixture
def fake():
    with FakeSlack() as fake:
        yield fake


def outbox(world: World, api_url: str) -> Outbox:
    """The world's outbox table, sent to the Slack at ``api_url`` by the real sender."""
    sender = SlackSender(web_client("xoxb-1", api_url))
    return Outbox(world.store, sender, SlackPresenter(), world.clock)


@pytest.mark.parametrize("lost", [1, 2])
def test_a_post_whose_answers_are_lost_is_made_once(fake, world, change, lost):
    fake.fail_next("chat.postMessage", lose_answer=True, times=lost)
    box = outbox(world, fake.api_url)
    news = CertificationNews(change.certification, change.plan.created_at, [APPROVER], "ok")
    delivery = box.send(box.post("lost:1", CHANNEL, news))
    [posted] = fake.messages(CHANNEL)
    assert delivery.posted and posted["ts"] == delivery.ts
    assert posted["metadata"] == {"event_type": POST_EVENT, "event_payload": {"key": "lost:1"}}
    assert len(fake.calls_to("chat.postMessage")) == 1  # never posted blindly again
    assert [c.params["include_all_metadata"] for c in fake.calls_to("conversations.history")]


def test_a_reply_in_a_thread_is_looked_up_in_the_thread(fake, world, change):
    box = outbox(world, fake.api_url)
    parent = box.send(box.post("parent", CHANNEL, Announcement(change))).ts
    fake.fail_next("chat.postMessage", lose_answer=True)
    reply = box.send(box.post("reply", CHANNEL, Announcement(change), thread="parent"))
    assert [m["ts"] for m in fake.thread_replies(CHANNEL, parent)] == [reply.ts]
    [lookup] = fake.calls_to("conversations.replies")
    assert lookup.params["ts"] == parent


def test_when_the_history_cannot_be_read_the_post_waits_and_is_looked_up_again(fake, world, change):
    box = outbox(world, fake.api_url)
    fake.fail_next("chat.postMessage", lose_answer=True)
    fake.fail_next("conversations.history", status=200, error="missing_scope")
    delivery = box.send(box.post("lost:2", CHANNEL, Announcement(change)))
    assert not delivery.posted and delivery.unknown
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.messages(CHANNEL)) == 1
    # later, with the history readable: found there, never posted again
    world.clock.advance(seconds=60)
    assert box.run() == 1
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.messages(CHANNEL)) == 1
    assert world.store.owed("lost:2").ts == fake.messages(CHANNEL)[0]["ts"]


def test_a_refused_connection_is_known_not_to_have_posted(world):
    box = outbox(world, "http://127.0.0.1:9/api/")
    delivery = box.send(box.post("dead", CHANNEL, "hello"))
    assert not delivery.posted and not delivery.unknown


def test_a_rate_limited_post_is_handed_back_at_once_with_its_retry_after(fake, world, change):
    fake.fail_next("chat.postMessage", status=429, retry_after=8)
    box = outbox(world, fake.api_url)
    delivery = box.send(box.post("limited", CHANNEL, Announcement(change)))
    assert delivery.retry_after == 8.0 and not delivery.unknown
    assert len(fake.calls_to("chat.postMessage")) == 1  # slack_sdk did not wait 8 s and retry
    # tried again after exactly what Slack asked, not before
    world.clock.advance(seconds=7)
    assert box.run() == 0
    world.clock.advance(seconds=1)
    assert box.run() == 1 and len(fake.messages(CHANNEL)) == 1


def test_other_calls_still_wait_out_a_rate_limit(fake):
    sender = SlackSender(web_client("xoxb-1", fake.api_url))
    fake.fail_next("chat.update", status=429, retry_after=1)
    sender.update(CHANNEL, "1700000000.000100", Rendered("hello"))
    assert [c.status for c in fake.calls_to("chat.update")] == [429, 200]
