"""The real :class:`bot.ports.Notifier`: what the services report, in the presenter's
words, through slack_sdk's Web API calls.

The client honours ``SLACK_API_URL`` and retries ``429`` after ``Retry-After`` and
transient connection errors (slack_sdk's retry handlers)::

    notifier = SlackNotifier(web_client("xoxb-…", "https://slack.com/api/"))
    ts = notifier.post("C0TRIVIA", Announcement(change))
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.adapters.slack import messages, plans, reports
from bot.adapters.slack.kit import Json, console_url, say
from bot.domain.errors import Forbidden, NotFound, Unavailable
from bot.domain.news import (
    Announcement,
    AwsFunction,
    CanaryEnded,
    CanaryNews,
    CertificationNews,
    HomeView,
    News,
    NotAnApprover,
    PlanRequest,
    Reminder,
    RequestClosed,
)

log = logging.getLogger(__name__)


def web_client(token: str | None, base_url: str, *, rate_limit_retries: int = 5) -> WebClient:
    """A WebClient that waits out rate limits and retries dropped connections."""
    client = WebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return client


def render(news: News) -> tuple[str, list[Json] | None]:
    """What Slack is sent for a piece of news: the fallback text and the blocks."""
    match news:
        case Announcement(change, where):
            return messages.announcement(change, console=_console(where, change.alias))
        case Reminder():  # before its base, CertificationNews
            return messages.reminder_message(news), None
        case CertificationNews():
            return messages.certification_message(
                news, console=_console(news.console, news.cert.alias)
            )
        case CanaryNews(canary, now, rules):
            return messages.canary_message(canary, now=now, rules=rules)
        case CanaryEnded(canary):
            return messages.end_announcement(canary)
        case PlanRequest(plan, note, offer_submit):
            return plans.plan_request(plan, note=note, offer_submit=offer_submit)
        case RequestClosed(plan, why):
            return plans.request_closed(plan, why)
        case NotAnApprover(user, approvers, reaction):
            return messages.not_an_approver(user, approvers, reaction), None
    return say(news), None


def _console(where: AwsFunction | None, alias: str | None) -> str | None:
    return console_url(where.region, where.function, alias) if where else None


class SlackNotifier:
    """The news rendered by the presenter, sent with the Web API."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, news: News, thread_ts: str | None = None) -> str:
        text, blocks = render(news)
        with _slack_errors("post to", channel):
            resp = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            )
        return str(resp["ts"])

    def update(self, channel: str, ts: str, news: News) -> None:
        text, blocks = render(news)
        with _slack_errors("update a message in", channel):
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def tell(self, channel: str, user: str, news: News) -> None:
        text, blocks = render(news)
        with _slack_errors("reply to", channel):
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def publish_home(self, user: str, home: HomeView) -> None:
        with _slack_errors("publish the App Home of", user):
            self.client.views_publish(user_id=user, view=reports.home_view(home))


@contextmanager
def _slack_errors(action: str, where: str) -> Iterator[None]:
    """slack_sdk errors become domain errors (and are logged once)."""
    try:
        yield
    except SlackApiError as exc:
        error = str(exc.response.get("error", "error"))
        log.warning("slack: could not %s %s: %s", action, where, error)
        if error in ("channel_not_found", "not_in_channel", "is_archived", "user_not_found"):
            raise NotFound(
                f"Slack: could not {action} {where} ({error}).",
                hint="Check the channel id in the skills file and invite the bot "
                "(`/invite @skillbot`).",
            ) from exc
        if error in ("invalid_auth", "not_authed", "token_revoked", "missing_scope"):
            raise Forbidden(
                f"Slack refused the bot's token ({error}).",
                hint="Check SLACK_BOT_TOKEN and the scopes in manifest.yml.",
            ) from exc
        raise Unavailable(
            f"Slack: could not {action} {where} ({error}).",
            hint="Check Slack's status if it persists.",
            retry_after=_retry_after(exc.response),
        ) from exc
    except (SlackClientError, OSError) as exc:
        log.warning("slack: could not %s %s: %s", action, where, exc)
        raise Unavailable(
            f"Slack did not answer when trying to {action} {where}.",
            hint="Check the network and SLACK_API_URL.",
            # a read timeout: the request went out, the answer did not come back
            outcome_unknown=isinstance(exc, TimeoutError),
        ) from exc


def _retry_after(response: Any) -> float | None:
    """Seconds from a 429's Retry-After header (once the client's own retries gave up)."""
    if getattr(response, "status_code", None) != 429:
        return None
    for name, value in (getattr(response, "headers", None) or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(1.0, float(text))
            except ValueError:
                return 1.0
    return 1.0
