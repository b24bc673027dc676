"""The shared test doubles behave like Slack where the tests rely on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.devkit.fake_slack import FakeSlack
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    get,
    post,
    reaction_added_event,
    sign,
    signed_bolt_request,
    slash_command_body,
)

SECRET = "test-signing-secret"
ANNOUNCEMENT_BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*PROD1* v7 → v9"}}]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token="xoxb-test")


def test_post_message_returns_increasing_ts_and_records_decoded_blocks(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C0TRIVIA", text="v7 → v9", blocks=ANNOUNCEMENT_BLOCKS)
    second = client.chat_postMessage(channel="C0OTHER", text="other")

    assert first["ok"] and first["channel"] == "C0TRIVIA"
    assert first["ts"] < second["ts"]
    [message] = fake.messages("C0TRIVIA")
    assert message["blocks"] == ANNOUNCEMENT_BLOCKS
    assert message["ts"] == first["ts"]
    assert fake.calls_to("chat.postMessage")[0].token == "xoxb-test"
    assert len(fake.messages()) == 2


def test_blocks_sent_as_form_text_are_decoded(fake: FakeSlack, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage",
        params={"channel": "C0TRIVIA", "text": "hi", "blocks": '[{"type": "divider"}]'},
    )

    assert fake.messages("C0TRIVIA")[0]["blocks"] == [{"type": "divider"}]


def test_thread_replies_are_found_by_thread_ts(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0TRIVIA", text="certification started")["ts"]
    client.chat_postMessage(channel="C0TRIVIA", thread_ts=parent, text="pending for 1 day")
    client.chat_postMessage(channel="C0TRIVIA", text="unrelated")

    assert [r["text"] for r in fake.thread_replies("C0TRIVIA", parent)] == ["pending for 1 day"]
    assert [m["text"] for m in fake.messages("C0TRIVIA")] == ["certification started", "unrelated"]


def test_update_ephemeral_and_home_are_recorded(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0TRIVIA", text="pending")["ts"]
    client.chat_update(channel="C0TRIVIA", ts=ts, text="promoted")
    client.chat_postEphemeral(channel="C0TRIVIA", user="U0BOB", text="only operators may")
    home = client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})

    assert [u["text"] for u in fake.updates("C0TRIVIA", ts)] == ["promoted"]
    assert fake.ephemerals("U0BOB")[0]["text"] == "only operators may"
    assert fake.ephemerals("U0ALICE") == []
    assert home["view"]["type"] == "home"
    assert fake.calls_to("views.publish")[0].params["view"] == {"type": "home", "blocks": []}


def test_lookups_and_unknown_methods(fake: FakeSlack, client: WebClient) -> None:
    assert client.auth_test()["user_id"] == "UBOT"
    assert client.users_info(user="U0CAROL")["user"]["name"] == "u0carol"
    with pytest.raises(SlackApiError) as refused:
        client.api_call("files.upload")

    assert refused.value.response["error"] == "unknown_method"
    assert fake.calls[-1].method == "files.upload"


def test_rate_limit_raises_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C0TRIVIA", text="hi")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert fake.messages() == []
    client.chat_postMessage(channel="C0TRIVIA", text="hi")
    assert len(fake.messages()) == 1


def test_retry_handler_waits_retry_after_and_succeeds(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    # The handler sleeps Retry-After seconds; record the wait instead of spending it.
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=waits.append))
    fake.fail_next("chat.postMessage", retry_after=2)
    retrying = WebClient(
        base_url=fake.api_url, token="xoxb-test", retry_handlers=[RateLimitErrorRetryHandler()]
    )

    response = retrying.chat_postMessage(channel="C0TRIVIA", text="hi")

    assert response["ok"]
    assert len(waits) == 1 and waits[0] >= 2
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert len(fake.messages("C0TRIVIA")) == 1


def test_plain_slack_error_without_http_failure(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found")

    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C0GONE", text="hi")

    assert refused.value.response["error"] == "channel_not_found"


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.response_url()
    assert url != fake.response_url()

    WebhookClient(url).send(text="Plan: PROD1 v7 → v9", response_type="ephemeral")

    [response] = fake.responses()
    assert response["_url"] == url
    assert response["text"] == "Plan: PROD1 v7 → v9"


def test_wait_for_returns_value_once_a_call_arrives(fake: FakeSlack, client: WebClient) -> None:
    poster = threading.Thread(
        target=client.chat_postMessage, kwargs={"channel": "C0TRIVIA", "text": "later"}
    )
    poster.start()

    [message] = fake.wait_for(lambda f: f.messages("C0TRIVIA"))

    poster.join()
    assert message["text"] == "later"


def test_delay_slows_the_answer(fake: FakeSlack, client: WebClient) -> None:
    fake.delay("chat.postMessage", 0.2)
    started = time.monotonic()
    client.chat_postMessage(channel="C0TRIVIA", text="slow")
    slow = time.monotonic() - started

    fake.delay("chat.postMessage", 0)
    started = time.monotonic()
    client.chat_postMessage(channel="C0TRIVIA", text="fast")

    assert slow >= 0.2
    assert time.monotonic() - started < 0.2


def test_wait_for_times_out_with_a_summary(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C0OTHER", text="elsewhere")
    started = time.monotonic()

    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        fake.wait_for(lambda f: f.messages("C0TRIVIA"), timeout=0.2)

    assert time.monotonic() - started < 2


def test_reset_forgets_calls(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C0TRIVIA", text="hi")
    fake.reset()

    assert fake.calls == []


def test_sign_headers_verify_and_stale_ones_do_not() -> None:
    body = slash_command_body("status", response_url="http://127.0.0.1:1/response/1")
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid_request(body, sign(body, SECRET))
    assert not verifier.is_valid_request(body, sign(body, SECRET, int(time.time()) - 600))
    assert not verifier.is_valid_request(body, sign(body, "another-secret"))


def test_bodies_parse_as_slack_payloads() -> None:
    action = signed_bolt_request(
        block_action_body("confirm", "plan-1", response_url="http://127.0.0.1:1/response/1"),
        SECRET,
    )
    event = signed_bolt_request(
        event_body(reaction_added_event("U0CAROL", "white_check_mark", "C0TRIVIA", "1.2")),
        SECRET,
        {"X-Slack-Retry-Num": "1"},
    )

    assert action.body["actions"][0]["value"] == "plan-1"
    assert action.body["container"]["is_ephemeral"] is True
    assert event.body["event"]["item"]["ts"] == "1.2"
    assert event.headers["x-slack-retry-num"] == ["1"]


def test_post_returns_error_status_and_body(fake: FakeSlack) -> None:
    status, text = post(fake.base_url + "/nowhere", "{}", {"Content-Type": "application/json"})

    assert status == 404
    assert "not_found" in text


def test_listeners_see_every_call_and_names_are_configurable() -> None:
    seen: list[tuple[str, bool]] = []
    with FakeSlack(users={"U0OLIVIA": "Olivia"}, channels={"C0TRIVIA": "trivia"}) as named:
        named.subscribe(lambda call: seen.append((call.method, call.ok)))
        client = WebClient(base_url=named.api_url, token="xoxb-test")
        assert client.users_info(user="U0OLIVIA")["user"]["real_name"] == "Olivia"
        assert client.conversations_info(channel="C0TRIVIA")["channel"]["name"] == "trivia"
        with pytest.raises(SlackApiError):
            client.api_call("files.upload")

    assert seen == [("users.info", True), ("conversations.info", True), ("files.upload", False)]


def test_mounted_routes_serve_other_paths_and_the_api_stays_first(fake: FakeSlack) -> None:
    from bot.devkit.fake_slack_http import WebResponse

    fake.mount("/", lambda request: WebResponse(200, b"page", "text/plain"))
    fake.mount("/app/", lambda request: WebResponse.json({"verb": request.verb, **request.query}))

    assert get(f"{fake.base_url}/") == (200, "page")
    assert get(f"{fake.base_url}/app/state?since=3") == (200, '{"verb": "GET", "since": "3"}')
    status, text = post(f"{fake.api_url}auth.test", "", {})
    assert status == 200 and '"user_id": "UBOT"' in text
    assert [c.method for c in fake.calls] == ["auth.test"]


def test_ts_epoch_sets_the_seconds_of_message_ts() -> None:
    with FakeSlack(ts_epoch=1_800_000_000) as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-test")
        assert client.chat_postMessage(channel="C0TRIVIA", text="hi")["ts"].startswith("18000")
