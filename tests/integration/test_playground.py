"""The playground turns page actions into signed Slack requests and shows what the bot
posts as a Slack client would (ephemeral, replace/delete original, updates, threads)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.demo.playground import Playground
from bot.demo.seed import APPROVER, BYSTANDER, OPERATOR, SKILL_CHANNEL
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import JsonServer

SECRET = "playground-test-secret"


@dataclass
class RecordingBot:
    """Stands in for the bot's ``/slack/events``: checks signatures, records bodies."""

    answer: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def handle(
        self, verb: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], str]:
        body = raw.decode()
        valid = SignatureVerifier(SECRET).is_valid_request(body, headers)
        parsed = (
            json.loads(body)
            if body.startswith("{")
            else {k: v[0] for k, v in parse_qs(body).items()}
        )
        with self.cond:
            self.received.append({"valid": valid, **parsed})
            self.cond.notify_all()
        return 200 if valid else 401, {}, self.answer


@pytest.fixture
def world() -> Iterator[tuple[Playground, RecordingBot, WebClient]]:
    bot = RecordingBot()
    with JsonServer(bot.handle) as server, FakeSlack() as slack:
        playground = Playground(
            slack,
            bot_url=server.base_url,
            signing_secret=SECRET,
            aws_endpoint="http://127.0.0.1:9",  # no AWS here: its view shows the error
        )
        try:
            yield playground, bot, WebClient(base_url=slack.api_url, token="xoxb-test")
        finally:
            playground.close()


def shown(playground: Playground, user: str) -> list[str]:
    """Texts of the channel messages ``user`` sees."""
    return [
        m.text
        for m in playground.messages(SKILL_CHANNEL)
        if m.ephemeral_to in (None, user) and not m.thread_ts
    ]


def test_a_slash_command_is_signed_and_its_answers_replace_the_acknowledgement(world) -> None:
    playground, bot, _ = world
    bot.answer = json.dumps({"text": "Working on it…", "response_type": "ephemeral"})

    playground.command(OPERATOR.id, SKILL_CHANNEL, "/skill status")

    [request] = bot.received
    assert request["valid"] and request["command"] == "/skill" and request["text"] == "status"
    assert request["user_id"] == OPERATOR.id
    assert shown(playground, OPERATOR.id) == ["Working on it…"]
    assert shown(playground, BYSTANDER.id) == []  # ephemeral: only its user sees it
    WebhookClient(request["response_url"]).send(text="PROD1 v1 is live", replace_original=True)
    assert shown(playground, OPERATOR.id) == ["PROD1 v1 is live"]


def test_buttons_send_block_actions_and_delete_original_removes_the_message(world) -> None:
    playground, bot, client = world
    posted = client.chat_postMessage(
        channel=SKILL_CHANNEL,
        text="Doctor found a missing trigger",
        blocks=[
            {
                "type": "actions",
                "block_id": "fix",
                "elements": [{"type": "button", "action_id": "fix_all", "value": "p1"}],
            }
        ],
    )
    [message] = playground.messages(SKILL_CHANNEL)

    playground.click(OPERATOR.id, message.id, "fix_all", "p1", "fix")

    payload = json.loads(bot.received[0]["payload"])
    assert bot.received[0]["valid"] and payload["type"] == "block_actions"
    assert payload["actions"][0]["action_id"] == "fix_all"
    assert payload["container"]["message_ts"] == posted["ts"]
    WebhookClient(payload["response_url"]).send_dict({"delete_original": True})
    assert playground.messages(SKILL_CHANNEL) == []


def test_reactions_send_reaction_added_with_fresh_event_ids(world) -> None:
    playground, bot, client = world
    ts = client.chat_postMessage(channel=SKILL_CHANNEL, text="certify PROD2 v2 → v3")["ts"]
    [message] = playground.messages(SKILL_CHANNEL)

    playground.react(APPROVER.id, message.id, "white_check_mark")
    playground.react(BYSTANDER.id, message.id, "white_check_mark")

    events = [r for r in bot.received if r.get("type") == "event_callback"]
    assert all(r["valid"] for r in events)
    assert [e["event"]["user"] for e in events] == [APPROVER.id, BYSTANDER.id]
    assert {e["event"]["item"]["ts"] for e in events} == {ts}
    assert len({e["event_id"] for e in events}) == 2
    assert playground.messages(SKILL_CHANNEL)[0].reactions == {
        "white_check_mark": [APPROVER.id, BYSTANDER.id]
    }


def test_updates_threads_and_unknown_methods_show_on_the_page(world) -> None:
    playground, _, client = world
    before = playground.snapshot()["rev"]
    waited: dict[str, Any] = {}

    def long_poll() -> None:
        # a long poll wakes on any change (the AWS panel too); the page polls again
        rev, deadline = before, time.monotonic() + 10
        while time.monotonic() < deadline:
            snapshot = playground.snapshot(rev, 10)
            if snapshot["messages"]:
                waited.update(snapshot)
                return
            rev = snapshot["rev"]

    poller = threading.Thread(target=long_poll)
    poller.start()
    ts = client.chat_postMessage(channel=SKILL_CHANNEL, text="pending")["ts"]
    poller.join(timeout=10)
    client.chat_postMessage(channel=SKILL_CHANNEL, thread_ts=ts, text="reminder")
    client.chat_update(channel=SKILL_CHANNEL, ts=ts, text="promoted")
    with pytest.raises(SlackApiError):
        client.api_call("files.upload")

    assert [m["text"] for m in waited["messages"]] == ["pending"]  # the long poll woke up
    [parent] = [m for m in playground.messages(SKILL_CHANNEL) if not m.thread_ts]
    assert (parent.text, parent.reply_count) == ("promoted", 1)
    log = [entry["text"] for entry in playground.snapshot()["log"]]
    assert "files.upload → unknown_method" in log
