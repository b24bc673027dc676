"""The real process, in HTTP mode, against moto_server and the fake Slack Web API.

doctor → Fix, certify → Confirm, a stranger's reaction (nothing), the approver's
reaction (promoted), hotfix → Confirm, rollback → Confirm; AWS state and Slack messages
are asserted after each step. Plus: signatures and the replay window on the real port.
"""

from __future__ import annotations

import json
import signal
import time

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from bot.devkit.slack_requests import (
    event_body,
    get,
    post,
    reaction_added_event,
    sign,
    slash_command_body,
)
from tests.support.aws import aliases
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import SECRET
from tests.support.users import APPROVER, STRANGER

FN = "trivia-skill"


def test_the_whole_story_through_the_real_process(bot):
    b, client = bot
    assert get(f"{b.url}/healthz") == (200, "ok\n")

    # doctor → Fix: Alexa triggers on both aliases, role recorded
    report = b.command("doctor")
    assert "problem" in report["text"]
    done = b.click(kit.FIX_ALL, button_value(report, kit.FIX_ALL))
    assert done["text"].count("Done") == 3, done["text"]
    for alias in ("PROD1", "PROD2"):
        policy = json.loads(client.get_policy(FunctionName=FN, Qualifier=alias)["Policy"])
        ours = [s for s in policy["Statement"] if s["Resource"].endswith(f":{alias}")]
        assert ours and "alexa-appkit.amazon.com" in json.dumps(ours[0]["Principal"])
    arn = client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    assert client.list_tags(Resource=arn)["Tags"]["skillbot:live-alias"] == "PROD1"

    # certify → Confirm: v3 onto PROD2, one certification message
    deploy(client, FN, "VERSION = 3\n")
    plan = b.command("certify -- quiz intent")
    assert "PROD2 v2 → a new version" in plan["text"]
    assert aliases(client) == ("1", "2")
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert aliases(client) == ("1", "3")
    [cert_msg] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "certify" in m["text"]]
    )
    assert cert_msg["text"] == "trivia: certify PROD2 v2 → v3 by <@U0ALICE> — quiz intent"

    # a stranger's reaction: told privately, nothing changes
    b.react(STRANGER, cert_msg["ts"])
    [told] = b.fake.wait_for(lambda f: f.ephemerals(STRANGER))
    assert "only <@U0CAROL> may promote" in told["text"]
    assert client.list_tags(Resource=arn)["Tags"]["skillbot:live-alias"] == "PROD1"

    # the approver's reaction: PROD2 live, no alias moved
    b.react(APPROVER, cert_msg["ts"])
    promoted = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]]
    )
    assert promoted[0]["text"].startswith("trivia: promoted — live PROD1 v1 → PROD2 v3")
    assert client.list_tags(Resource=arn)["Tags"]["skillbot:live-alias"] == "PROD2"
    assert aliases(client) == ("1", "3")
    update = b.fake.wait_for(lambda f: f.updates(CHANNEL, cert_msg["ts"]))[-1]
    assert "promoted by <@U0CAROL>" in str(update["blocks"])

    # hotfix → Confirm: new code onto PROD2 (live now)
    deploy(client, FN, "VERSION = 4\n")
    plan = b.command("hotfix -- quiz crash")
    result = b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert result["text"].startswith("Done: trivia: hotfix PROD2 v3 → v4")
    assert aliases(client) == ("1", "4")
    b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "hotfix PROD2 v3 → v4" in m["text"]]
    )

    # rollback → Confirm: PROD2 back to v3
    plan = b.command("rollback -- v4 slower")
    assert "PROD2 v4 → v3" in plan["text"]
    b.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert aliases(client) == ("1", "3")
    [rollback] = b.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "rollback" in m["text"]]
    )
    assert rollback["text"] == "trivia: rollback PROD2 v4 → v3 by <@U0ALICE> — v4 slower"


def test_unsigned_wrong_or_old_requests_get_401_and_change_nothing(bot):
    b, client = bot
    body = slash_command_body("rollback 2", response_url=b.fake.response_url())
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    wrong = sign(body, "not-the-secret")
    old = sign(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    for headers in (unsigned, wrong, old):
        status, _ = post(f"{b.url}/slack/events", body, headers)
        assert status == 401
    reaction = event_body(reaction_added_event(APPROVER, "white_check_mark", CHANNEL, "1.2"))
    assert post(f"{b.url}/slack/events", reaction, sign(reaction, "nope"))[0] == 401
    assert b.fake.responses() == [] and b.fake.messages() == []
    assert aliases(client) == ("1", "2")
    assert get(f"{b.url}/nowhere")[0] == 404


def test_sigterm_stops_the_process_cleanly(bot):
    b, _ = bot
    assert b.process.kill(signal.SIGTERM) == 0
    assert "signal 15: shutting down" in b.process.log()
    assert "Traceback" not in b.process.log()


def raw_post(url: str, head: bytes, body: bytes, content_length: int) -> int:
    """POST with a Content-Length of our choosing, sending only ``body``; the status."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n".encode()
            + head
            + f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        answer = sock.recv(200)
    return int(answer.split()[1])


def test_hostile_requests_cannot_hurt_the_real_process(bot):
    b, client = bot
    url = f"{b.url}/slack/events"
    form = b"Content-Type: application/x-www-form-urlencoded\r\n"
    # 20 MiB announced: refused from the headers alone
    assert raw_post(url, form, b"text=AAAA", 20 * 1024 * 1024) == 413
    # unsigned garbage that is not even UTF-8
    assert raw_post(url, form, b"\xff\xfe\x00garbage", 10) == 401
    # an event type no listener handles: acknowledged, so Slack does not retry it
    unknown = event_body({"type": "channel_rename", "channel": {"id": CHANNEL}})
    assert post(url, unknown, sign(unknown, SECRET))[0] == 200
    assert "channel_rename" in b.process.wait_for_log("channel_rename")
    # and the bot still works
    assert "PROD1 (live) v1" in b.command("status")["text"]
    assert "Traceback" not in b.process.log()
    assert aliases(client) == ("1", "2")
