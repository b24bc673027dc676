"""A file the bot owes a thread (a health chart) goes through the outbox like any post:
files_upload_v2's three calls against the fake Slack, into the thread, once — also when
the share's answer is lost."""

from __future__ import annotations

import pytest

from bot.adapters.slack.notifier import SlackPresenter, SlackSender, web_client
from bot.adapters.store import open_store
from bot.devkit.fake_slack import FakeSlack
from bot.ports import SharedFile
from bot.service.outbox import Outbox
from tests.support.fakes import FakeClock

CHANNEL = "C0TRIVIA"
PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 200


@pytest.fixture
def rig(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'skillbot.db'}")
    clock = FakeClock()
    with FakeSlack() as fake:
        box = Outbox(
            store, SlackSender(web_client("xoxb-1", fake.api_url)), SlackPresenter(), clock
        )
        yield box, fake, clock
    store.close()


def test_a_chart_is_uploaded_into_the_thread_of_its_announcement(rig):
    box, fake, _ = rig
    parent = box.send(box.post("announce:1", CHANNEL, "trivia: hotfix PROD1 v1 → v2")).ts
    chart = SharedFile("trivia-PROD1-1h.png", PNG, "trivia PROD1, 1 h after v2")
    delivery = box.send(
        box.share("chart:1:1h", CHANNEL, chart, "Error rate 0% → 0%", thread="announce:1")
    )
    assert delivery.posted
    assert [c.method for c in fake.calls if c.method.startswith("file")] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    [shared] = fake.files(CHANNEL)
    assert shared["content"] == PNG and shared["name"] == "trivia-PROD1-1h.png"
    assert shared["thread_ts"] == parent
    assert [r["text"] for r in fake.thread_replies(CHANNEL, parent)] == ["Error rate 0% → 0%"]


def test_a_share_whose_answer_was_lost_is_found_not_shared_twice(rig):
    box, fake, clock = rig
    box.send(box.post("announce:1", CHANNEL, "trivia: hotfix PROD1 v1 → v2"))
    fake.fail_next("files.completeUploadExternal", lose_answer=True)
    chart = SharedFile("trivia-PROD1-24h.png", PNG)
    delivery = box.send(box.share("chart:1:24h", CHANNEL, chart, "24 h on", thread="announce:1"))
    assert not delivery.posted and delivery.unknown
    clock.advance(seconds=5)
    assert box.run() == 1
    assert len(fake.files(CHANNEL)) == 1
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
