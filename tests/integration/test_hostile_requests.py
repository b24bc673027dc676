"""Requests that must not hurt the bot, through the real WSGI app of HTTP mode over the
real Bolt app (moto and the fake Slack behind it): unsigned, garbage, oversized, unknown,
or missing the fields a listener reads."""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qs, urlencode

import pytest

from bot.adapters.slack import kit
from bot.devkit.slack_requests import block_action_body, event_body, sign, slash_command_body
from bot.http import MAX_BODY_BYTES, wsgi_app
from tests.support.aws import alias_version
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import SECRET
from tests.support.users import OPERATOR, STRANGER
from tests.support.wsgi import CountingInput, call

EVENTS = "/slack/events"
FN = "trivia-skill"


@pytest.fixture
def http(world):
    ready = threading.Event()
    ready.set()
    return wsgi_app(world.app, ready, signing_secret=SECRET)


def post(http, text, headers=None):
    raw = text.encode() if isinstance(text, str) else text
    return call(http, "POST", EVENTS, raw, sign(text, SECRET) if headers is None else headers)


def signed_bytes(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 signature over raw bytes (slack_sdk's own helper decodes them first)."""
    import hashlib
    import hmac

    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def said_nothing(world):
    return world.fake.responses() == [] and world.fake.messages() == []


def unchanged(world):
    return (
        alias_version(world.lambda_client, FN, "PROD1"),
        alias_version(world.lambda_client, FN, "PROD2"),
    ) == ("1", "2")


# -- signatures before parsing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (b"\xff\xfe\x00garbage", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"{not json", {"Content-Type": "application/json"}),
        (b"payload=%7Bnot-json", {"Content-Type": "application/x-www-form-urlencoded"}),
        (
            b"\xff\xfe",
            {
                "X-Slack-Request-Timestamp": "yesterday",
                "X-Slack-Signature": "v0=00",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ),
    ],
    ids=["non-utf8", "bad-json", "bad-payload", "bad-timestamp"],
)
def test_unsigned_garbage_gets_401_without_a_traceback(world, http, caplog, raw, headers):
    with caplog.at_level(logging.WARNING):
        status, _, _ = post(http, raw, headers)
    assert status == 401
    assert not [r for r in caplog.records if r.exc_info], "no traceback for garbage"
    assert said_nothing(world) and unchanged(world)


def test_a_stale_signature_gets_401(world, http):
    body = slash_command_body("status", response_url=world.fake.response_url())
    stale = sign(body, SECRET, timestamp=int(time.time()) - 301)
    assert post(http, body, stale)[0] == 401


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00garbage",
        b"payload=%7Bnot-json",
        b"payload=%5B1%5D",
        b"{",
        b"[1]",
        b'{"type": "event_callback", "event": null}',
        b'{"type": "event_callback", "event": "reaction_added"}',
        b'{"type": "event_callback", "event": {"type": null}}',
        b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3Anull%7D",
    ],
    ids=[
        "non-utf8",
        "bad-payload",
        "list-payload",
        "bad-json",
        "json-list",
        "null-event",
        "string-event",
        "event-without-type",
        "null-actions",
    ],
)
def test_a_signed_body_that_does_not_parse_gets_400(world, http, caplog, raw):
    headers = signed_bytes(raw)
    if raw.startswith((b"{", b"[")):
        headers["Content-Type"] = "application/json"
    with caplog.at_level(logging.WARNING):
        status, _, _ = post(http, raw, headers)
    assert status == 400
    assert not [r for r in caplog.records if r.exc_info]
    assert said_nothing(world)


# -- size ---------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(world, http):
    huge = CountingInput(b"text=" + b"A" * (20 * 1024 * 1024))
    headers = sign("x", SECRET)  # whatever it claims, it is not read
    status, _, _ = call(http, "POST", EVENTS, huge, headers)
    assert status == 413
    assert huge.consumed == 0
    assert said_nothing(world)


def test_a_body_at_the_limit_is_still_read(world, http):
    padding = "A" * (MAX_BODY_BYTES - 2000)
    body = slash_command_body(f"status -- {padding}", response_url=world.fake.response_url())
    body = body[:MAX_BODY_BYTES]
    assert len(body.encode()) <= MAX_BODY_BYTES
    status, _, _ = post(http, body)
    assert status == 200


def test_long_user_text_is_not_echoed_back_whole(world, http):
    word = "x" * 50_000
    body = slash_command_body(word, response_url=world.fake.response_url())
    status, _, payload = post(http, body)
    assert status == 200
    ack = json.loads(payload)
    assert "is not a /skill command" in ack["text"]
    assert "x" * 201 not in ack["text"] and "…" in ack["text"]
    assert len(payload) < 2_000


# -- what Slack may send that no listener expects -----------------------------------------


def test_unhandled_event_types_are_acknowledged_and_logged_once(world, http, caplog):
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            event = {"type": "member_joined_channel", "user": "U0NEW", "channel": CHANNEL}
            status, _, _ = post(http, event_body(event))
            assert status == 200
    mentions = [r for r in caplog.records if "member_joined_channel" in r.getMessage()]
    assert len(mentions) == 1
    assert said_nothing(world)


def test_unknown_commands_and_buttons_are_acknowledged(world, http):
    url = world.fake.response_url()
    status, _, payload = post(http, slash_command_body("hi", command="/other", response_url=url))
    assert status == 200
    assert "/skill" in json.loads(payload)["text"]
    status, _, _ = post(http, block_action_body("retired_button", "x", response_url=url))
    assert status == 200
    assert unchanged(world)


def test_a_confirm_without_a_value_says_it_carried_no_plan(world, http, caplog):
    body = block_action_body(kit.CONFIRM, "v", response_url=world.fake.response_url())
    payload = json.loads(parse_qs(body)["payload"][0])
    del payload["actions"][0]["value"]
    body = urlencode({"payload": json.dumps(payload)})
    with caplog.at_level(logging.INFO):
        assert post(http, body)[0] == 200
        reply = world.fake.wait_for(lambda f: f.responses())[-1]
    assert "carried no plan" in reply["text"] and reply["response_type"] == "ephemeral"
    assert not [r for r in caplog.records if r.exc_info]
    assert unchanged(world)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "reaction_added", "user": "U0CAROL", "reaction": "white_check_mark"},
        {"type": "app_home_opened", "tab": "home"},
    ],
    ids=["reaction-without-item", "home-without-user"],
)
def test_events_missing_fields_are_ignored_cleanly(world, http, caplog, event):
    with caplog.at_level(logging.INFO):
        assert post(http, event_body(event))[0] == 200
        # a real event after it is still handled: the listener pool is healthy
        world.command("status")
        world.final_response(lambda r: "PROD1" in r["text"])
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert [r for r in caplog.records if r.levelno == logging.INFO and "ignored" in r.getMessage()]
    assert world.fake.calls_to("views.publish") == []
    assert world.fake.calls_to("chat.postMessage") == []


# -- wording ------------------------------------------------------------------------------


def test_a_failed_status_reads_as_a_sentence(world):
    world.lambda_client.delete_function(FunctionName=FN)
    world.command("status")
    reply = world.final_response()
    assert reply["text"].startswith("Could not read the status of trivia: "), reply["text"]


def test_a_refused_fix_all_is_said_once(world):
    world.command("doctor")
    report = world.final_response(lambda r: r.get("blocks"))
    value = button_value(report, kit.FIX_ALL)
    assert value.count(",") >= 1, "doctor offers several fixes here"
    world.click(kit.FIX_ALL, value, user=STRANGER)
    reply = world.final_response(lambda r: "Only" in r["text"])
    assert reply["text"].count("Only operators") == 1, reply["text"]
    assert OPERATOR in reply["text"]
