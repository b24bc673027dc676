"""The Slack sender turns slack_sdk's failures into errors the services can act on."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.adapters.slack.notifier import SlackSender
from bot.domain.errors import NotFound, Unavailable
from bot.ports import Rendered


class RaisingClient:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def chat_postMessage(self, **_kw):
        raise self.error


def slack_error(error: str, status: int = 200, headers: dict | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(error, response)


def test_a_rate_limit_carries_slacks_retry_after():
    notifier = SlackSender(RaisingClient(slack_error("ratelimited", 429, {"Retry-After": "45"})))
    with pytest.raises(Unavailable) as err:
        notifier.post("C0TRIVIA", Rendered("hello"), key="k", thread_ts=None)
    assert err.value.retry_after == 45.0 and not err.value.outcome_unknown


def test_a_read_timeout_is_an_unknown_outcome():
    notifier = SlackSender(RaisingClient(TimeoutError("read timed out")))
    with pytest.raises(Unavailable) as err:
        notifier.post("C0TRIVIA", Rendered("hello"), key="k", thread_ts=None)
    assert err.value.outcome_unknown and err.value.retry_after is None


def test_a_refused_connection_is_a_known_failure():
    notifier = SlackSender(RaisingClient(ConnectionRefusedError()))
    with pytest.raises(Unavailable) as err:
        notifier.post("C0TRIVIA", Rendered("hello"), key="k", thread_ts=None)
    assert not err.value.outcome_unknown


def test_not_in_channel_says_to_invite_the_bot():
    notifier = SlackSender(RaisingClient(slack_error("not_in_channel")))
    with pytest.raises(NotFound, match="not_in_channel") as err:
        notifier.post("C0TRIVIA", Rendered("hello"), key="k", thread_ts=None)
    assert "/invite @skillbot" in err.value.hint
