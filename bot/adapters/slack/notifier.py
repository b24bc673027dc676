"""The real :class:`bot.ports.Notifier`: what the services report, in the presenter's
words, through slack_sdk's Web API calls.

The client honours ``SLACK_API_URL`` and retries ``429`` after ``Retry-After`` and
transient connection errors (slack_sdk's retry handlers)::

    notifier = SlackNotifier(web_client("xoxb-…", "https://slack.com/api/"))
    ts = notifier.announce("C0TRIVIA", change, None)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.adapters.slack import messages, plans, reports
from bot.adapters.slack.kit import Json, console_url, say
from bot.domain.canary import Canary, CanaryRules
from bot.domain.errors import Forbidden, NotFound, Unavailable
from bot.domain.model import AuditEvent, Change, Plan
from bot.domain.words import Words
from bot.ports import AwsFunction, CertificationNews, HomeView

log = logging.getLogger(__name__)


def web_client(token: str | None, base_url: str, *, rate_limit_retries: int = 5) -> WebClient:
    """A WebClient that waits out rate limits and retries dropped connections."""
    client = WebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return client


class SlackNotifier:
    """Renders each event with the presenter and posts it; ``post``, ``update``,
    ``post_ephemeral`` and ``publish_view`` are the Web API calls themselves."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    # -- the events (bot.ports.Notifier) -------------------------------------------------
    def announce(self, channel: str, change: Change, console: AwsFunction | None) -> str:
        link = console_url(console.region, console.function, change.alias) if console else None
        return self.post(channel, *messages.announcement(change, console=link))

    def announce_recorded(self, channel: str, event: AuditEvent) -> str:
        return self.post(channel, event.detail)

    def post_certification(self, channel: str, news: CertificationNews) -> str:
        return self.post(channel, *_certification(news))

    def update_certification(self, channel: str, ts: str, news: CertificationNews) -> None:
        self.update(channel, ts, *_certification(news))

    def remind(self, channel: str, ts: str, news: CertificationNews) -> str:
        text = messages.reminder_message(
            news.cert,
            now=news.now,
            approvers=news.approvers,
            reaction=news.reaction,
            review_status=news.review_status,
        )
        return self.post(channel, text, None, thread_ts=ts)

    def reply_in_thread(self, channel: str, ts: str, said: str | Words) -> str:
        return self.post(channel, say(said), None, thread_ts=ts)

    def tell(self, channel: str, user: str, said: str | Words) -> None:
        self.post_ephemeral(channel, user, say(said))

    def not_an_approver(
        self, channel: str, user: str, approvers: Sequence[str], reaction: str
    ) -> None:
        self.post_ephemeral(channel, user, messages.not_an_approver(user, approvers, reaction))

    def post_canary(self, channel: str, canary: Canary, now: datetime, rules: CanaryRules) -> str:
        return self.post(channel, *messages.canary_message(canary, now=now, rules=rules))

    def update_canary(
        self, channel: str, ts: str, canary: Canary, now: datetime, rules: CanaryRules
    ) -> None:
        self.update(channel, ts, *messages.canary_message(canary, now=now, rules=rules))

    def announce_canary_end(self, channel: str, canary: Canary) -> str:
        return self.post(channel, *messages.end_announcement(canary))

    def post_plan_request(self, channel: str, plan: Plan, note: str, offer_submit: bool) -> str:
        return self.post(channel, *plans.plan_request(plan, note=note, offer_submit=offer_submit))

    def close_plan_request(self, channel: str, ts: str, plan: Plan, why: str) -> None:
        self.update(channel, ts, *plans.request_closed(plan, why))

    def publish_home(self, user: str, home: HomeView) -> None:
        self.publish_view(user, reports.home_view(home))

    # -- the Web API calls ---------------------------------------------------------------
    def post(
        self,
        channel: str,
        text: str,
        blocks: list[Json] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        with _slack_errors("post to", channel):
            resp = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            )
        return str(resp["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[Json] | None = None) -> None:
        with _slack_errors("update a message in", channel):
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[Json] | None = None
    ) -> None:
        with _slack_errors("reply to", channel):
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def publish_view(self, user: str, view: Json) -> None:
        with _slack_errors("publish the App Home of", user):
            self.client.views_publish(user_id=user, view=view)


def _certification(news: CertificationNews) -> tuple[str, list[Json]]:
    where = news.console
    return messages.certification_message(
        news.cert,
        from_version=news.from_version,
        now=news.now,
        approvers=news.approvers,
        reaction=news.reaction,
        console=console_url(where.region, where.function, news.cert.alias) if where else None,
        review_status=news.review_status,
        endpoint=news.endpoint,
    )


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
