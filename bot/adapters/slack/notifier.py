"""Slack's side of the outbox: the presenter's rendering of the news
(:class:`SlackPresenter`) and slack_sdk's Web API calls that send it (:class:`SlackSender`).

The client honours ``SLACK_API_URL`` and retries ``429`` after ``Retry-After`` and
transient connection errors (slack_sdk's retry handlers), except a post's: a post whose
answer was lost may have been made, so every post carries its idempotency key in its
metadata, and the outbox looks for it in the channel's history before posting again::

    sender = SlackSender(web_client("xoxb-…", "https://slack.com/api/"))
    ts = sender.post("C0TRIVIA", SlackPresenter().render(news), key="announce:42", thread_ts=None)
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.adapters.slack import messages, plans, reports
from bot.adapters.slack.kit import Json, console_url, say
from bot.domain.errors import Forbidden, NotFound, SkillbotError, Unavailable
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
    RollbackOffer,
)
from bot.ports import Rendered, SharedFile

log = logging.getLogger(__name__)


#: the ``event_type`` of the metadata that carries a post's idempotency key
POST_EVENT = "skillbot_post"


#: the calls that put a message in a channel: repeated blindly, they could double it
SHARES = ("/chat.postMessage", "/files.completeUploadExternal")


class NotForPosts(RetryHandler):
    """A slack_sdk retry handler that leaves ``chat.postMessage`` alone: a post's retry is
    the bot's (at once told to the person, ``Retry-After`` kept by the outbox and the
    reminders' sender; after a lost answer, looked up by its key first)."""

    def _can_retry(
        self, *, state: Any, request: Any, response: Any = None, error: Any = None
    ) -> bool:
        if str(request.url).endswith(SHARES):
            return False
        return bool(
            super()._can_retry(state=state, request=request, response=response, error=error)
        )


class RetryDroppedConnections(NotForPosts, ConnectionErrorRetryHandler):
    """slack_sdk's retry of a dropped connection, but for posts."""


class RetryRateLimits(NotForPosts, RateLimitErrorRetryHandler):
    """slack_sdk's wait for ``Retry-After`` and retry, but for posts."""


def web_client(token: str | None, base_url: str, *, rate_limit_retries: int = 5) -> WebClient:
    """A WebClient that waits out rate limits and retries dropped connections, but for
    posts, whose retries are the bot's."""
    # in place of slack_sdk's default handlers, whose connection retry covers posts too
    handlers: list[RetryHandler] = [
        RetryRateLimits(max_retry_count=rate_limit_retries),
        RetryDroppedConnections(max_retry_count=2),
    ]
    return WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=handlers)


def render(news: News | str) -> tuple[str, list[Json] | None]:
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
        case RollbackOffer():
            return messages.rollback_offer(news)
    return say(news), None


def _console(where: AwsFunction | None, alias: str | None) -> str | None:
    return console_url(where.region, where.function, alias) if where else None


class SlackPresenter:
    """The :class:`bot.ports.Presenter`: news rendered as Slack is sent it."""

    def render(self, news: News | str) -> Rendered:
        text, blocks = render(news)
        return Rendered(text, None if blocks is None else json.dumps(blocks))

    def home(self, home: HomeView) -> Rendered:
        return Rendered("", json.dumps(reports.home_view(home)))


def _blocks(message: Rendered) -> list[Json] | None:
    return None if message.blocks is None else json.loads(message.blocks)


class SlackSender:
    """The :class:`bot.ports.SlackSender` over slack_sdk's Web API: one attempt each."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, message: Rendered, *, key: str, thread_ts: str | None) -> str:
        metadata = {"event_type": POST_EVENT, "event_payload": {"key": key}}
        with _slack_errors("post to", channel):
            resp = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=_blocks(message),
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata=metadata,
            )
        return str(resp["ts"])

    def find(self, channel: str, key: str, thread_ts: str | None) -> str | None:
        """The ts of the message carrying ``key`` among the newest of the channel (or of
        the thread); a failed lookup leaves the outcome unknown."""
        for found in self._recent(channel, thread_ts):
            payload = (found.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key and found.get("ts") != thread_ts:  # not the parent
                return str(found["ts"])
        return None

    def find_file(self, channel: str, filename: str, thread_ts: str | None) -> str | None:
        for found in self._recent(channel, thread_ts):
            if any(f.get("name") == filename for f in found.get("files") or []):
                return str(found["ts"])
        return None

    def _recent(self, channel: str, thread_ts: str | None) -> list[Json]:
        """The newest messages of the channel (or the thread), with their metadata."""
        try:
            with _slack_errors("read the history of", channel):
                if thread_ts:
                    resp = self.client.conversations_replies(
                        channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
                    )
                else:
                    resp = self.client.conversations_history(
                        channel=channel, limit=100, include_all_metadata=True
                    )
        except SkillbotError as err:
            raise Unavailable(
                f"Slack did not answer a post to {channel}, and its history could not be "
                f"read to see whether it was made ({err.message})",
                hint="It is looked for again before it is posted again, so that it is never "
                "doubled.",
                outcome_unknown=True,
            ) from err
        return list(resp.get("messages") or [])

    def update(self, channel: str, ts: str, message: Rendered) -> None:
        with _slack_errors("update a message in", channel):
            self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=_blocks(message)
            )

    def tell(self, channel: str, user: str, message: Rendered) -> None:
        with _slack_errors("reply to", channel):
            self.client.chat_postEphemeral(
                channel=channel, user=user, text=message.text, blocks=_blocks(message)
            )

    def publish_home(self, user: str, view: Rendered) -> None:
        with _slack_errors("publish the App Home of", user):
            self.client.views_publish(user_id=user, view=json.loads(view.blocks or "{}"))

    def share_file(
        self, channel: str, file: SharedFile, *, comment: str, thread_ts: str | None
    ) -> str | None:
        """files_upload_v2: an upload URL, the bytes, then the share in the channel."""
        with _slack_errors("share a file in", channel):
            resp = self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=file.content,
                filename=file.filename,
                title=file.title or file.filename,
                initial_comment=comment or None,
            )
        for shared in resp.get("files") or []:
            for where in ((shared.get("shares") or {}).get("public") or {}).get(channel, []):
                return str(where.get("ts"))
        return None


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
            outcome_unknown=_sent(exc),
        ) from exc


def _sent(exc: BaseException) -> bool:
    """Did the request go out before the connection failed (a read timeout, a connection
    closed before the answer)? Then it may have been carried out."""
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket's error
    cause = reason if isinstance(reason, BaseException) else exc
    if isinstance(cause, ConnectionRefusedError | socket.gaierror):
        return False
    return isinstance(
        cause, TimeoutError | ConnectionResetError | BrokenPipeError | http.client.HTTPException
    )


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
