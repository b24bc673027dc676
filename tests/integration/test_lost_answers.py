"""A post whose answer is lost (Slack made it, the connection closed before the answer)
is made once: the notifier looks for its idempotency key in the channel's history (or
the thread's) before posting again, and slack_sdk's blind connection retry never posts."""

from __future__ import annotations

import pytest

from bot.adapters.slack.notifier import POST_EVENT, SlackNotifier, web_client
from bot.devkit.fake_slack import FakeSlack
from bot.domain.errors import Unavailable
from bot.domain.news import Announcement, CertificationNews
from tests.support.users import APPROVER, OPERATOR
from tests.support.world import make_world

CHANNEL = "C0TRIVIA"


@pytest.fixture
def change():
    w = make_world()
    w.lam.deploy("trivia-skill", "code-3")
    plan = w.cases.planning.plan("certify", "trivia", actor=OPERATOR, reason="quiz")
    return w.cases.applying.apply(plan.id, actor=OPERATOR)


@pytest.fixture
def fake():
    with FakeSlack() as fake:
        yield fake


def notifier(fake: FakeSlack) -> SlackNotifier:
    return SlackNotifier(web_client("xoxb-1", fake.api_url))


@pytest.mark.parametrize("lost", [1, 2])
def test_a_post_whose_answers_are_lost_is_made_once(fake, change, lost):
    fake.fail_next("chat.postMessage", lose_answer=True, times=lost)
    news = CertificationNews(change.certification, change.plan.created_at, [APPROVER], "ok")
    ts = notifier(fake).post(CHANNEL, news)
    [posted] = fake.messages(CHANNEL)
    assert posted["ts"] == ts
    key = f"certification:{change.certification.id}"
    assert posted["metadata"] == {"event_type": POST_EVENT, "event_payload": {"key": key}}
    assert len(fake.calls_to("chat.postMessage")) == 1  # never posted blindly again
    assert [c.params["include_all_metadata"] for c in fake.calls_to("conversations.history")]


def test_a_reply_in_a_thread_is_looked_up_in_the_thread(fake, change):
    parent = notifier(fake).post(CHANNEL, Announcement(change))
    fake.fail_next("chat.postMessage", lose_answer=True)
    ts = notifier(fake).post(CHANNEL, Announcement(change), thread_ts=parent)
    assert [m["ts"] for m in fake.thread_replies(CHANNEL, parent)] == [ts]
    [lookup] = fake.calls_to("conversations.replies")
    assert lookup.params["ts"] == parent


def test_when_the_history_cannot_be_read_the_post_is_not_repeated(fake, change):
    fake.fail_next("chat.postMessage", lose_answer=True)
    fake.fail_next("conversations.history", status=200, error="missing_scope")
    with pytest.raises(Unavailable) as err:
        notifier(fake).post(CHANNEL, Announcement(change))
    assert err.value.outcome_unknown and "never doubled" in err.value.hint
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.messages(CHANNEL)) == 1


def test_a_refused_connection_is_known_not_to_have_posted():
    dead = SlackNotifier(web_client("xoxb-1", "http://127.0.0.1:9/api/"))
    with pytest.raises(Unavailable) as err:
        dead.tell(CHANNEL, OPERATOR, "hello")
    assert not err.value.outcome_unknown


def test_a_rate_limited_post_is_handed_back_at_once_with_its_retry_after(fake, change):
    fake.fail_next("chat.postMessage", status=429, retry_after=8)
    with pytest.raises(Unavailable) as err:
        notifier(fake).post(CHANNEL, Announcement(change))
    assert err.value.retry_after == 8.0 and not err.value.outcome_unknown
    assert len(fake.calls_to("chat.postMessage")) == 1  # slack_sdk did not wait 8 s and retry


def test_other_calls_still_wait_out_a_rate_limit(fake, change):
    fake.fail_next("chat.update", status=429, retry_after=1)
    notifier(fake).update(CHANNEL, "1700000000.000100", Announcement(change))
    assert [c.status for c in fake.calls_to("chat.update")] == [429, 200]
