"""Build and sign requests the way Slack sends them to the app.

Bodies are the raw text Slack would send; sign them with the app's signing secret and
either dispatch them into a Bolt app directly or post them to a running server::

    body = slash_command_body("hotfix trivia 9 -- crash on launch",
                              response_url=fake.response_url())
    response = app.dispatch(signed_bolt_request(body, SECRET))
    assert response.status == 200

    status, text = post(f"{base_url}/slack/events", body, sign(body, SECRET))
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.devkit.fake_slack import BOT_USER_ID, TEAM_ID

TEAM_DOMAIN = "test"
API_APP_ID = "A0APP"

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"

# Distinct ids and timestamps per built request, so two bodies never collide by accident.
_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, v0 signature and content type.

    ``timestamp`` defaults to now; pass ``int(time.time()) - 600`` for a stale request.

    Example::

        headers = sign(body, "signing-secret")
        assert SignatureVerifier("signing-secret").is_valid_request(body, headers)
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": _JSON if body.lstrip().startswith("{") else _FORM,
    }


def retry_headers(num: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    """The headers Slack adds when it redelivers an event, for ``headers_extra``."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


def slash_command_body(
    text: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0TRIVIA",
    response_url: str,
    command: str = "/skill",
    trigger_id: str | None = None,
) -> str:
    """Form-encoded body of a slash command invocation.

    Example::

        slash_command_body("status trivia", response_url=fake.response_url())
    """
    n = _next()
    return urlencode(
        {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{n}.{n}.trigger{n:06d}",
        }
    )


def block_action_body(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ALICE",
    response_url: str,
    message_ts: str | None = None,
    channel_id: str = "C0TRIVIA",
    block_id: str = "actions",
) -> str:
    """Form-encoded ``payload=`` body of a button click (``block_actions``).

    Without ``message_ts`` the button sits on an ephemeral message (as plans do), which
    Slack reports with ``container.is_ephemeral`` and no ``message``; with it, the
    button sits on the channel message of that ts.

    Example::

        block_action_body("confirm", plan_id, response_url=fake.response_url())
    """
    n = _next()
    container_ts = message_ts or f"1700000000.{n:06d}"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": TEAM_ID,
        },
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": container_ts,
            "channel_id": channel_id,
            "is_ephemeral": message_ts is None,
        },
        "trigger_id": f"{n}.{n}.trigger{n:06d}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "action_ts": f"{int(time.time())}.{n:06d}",
            }
        ],
        "state": {"values": {}},
    }
    if message_ts is not None:
        payload["message"] = {
            "type": "message",
            "user": BOT_USER_ID,
            "ts": message_ts,
            "text": "",
        }
    return urlencode({"payload": json.dumps(payload)})


def event_body(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
) -> str:
    """JSON ``event_callback`` envelope around ``event``.

    ``event_id`` defaults to a fresh one; pass the same id twice to model a retry.

    Example::

        event_body(reaction_added_event("U0CAROL", "white_check_mark", "C0TRIVIA", ts),
                   event_id="Ev0001")
    """
    n = _next()
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": team_id,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def reaction_added_event(
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str | None = None,
    *,
    removed: bool = False,
) -> dict[str, Any]:
    """The inner ``reaction_added`` (or, ``removed``, ``reaction_removed``) event for a
    reaction on the message ``ts``."""
    event: dict[str, Any] = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{int(time.time())}.{_next():06d}",
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def signed_bolt_request(
    body: str, secret: str, headers_extra: dict[str, str] | None = None
) -> BoltRequest:
    """A signed ``BoltRequest`` for ``app.dispatch(...)``.

    Example::

        response = app.dispatch(signed_bolt_request(body, SECRET, retry_headers()))
    """
    headers: dict[str, str] = {**sign(body, secret), **(headers_extra or {})}
    return BoltRequest(body=body, headers=dict(headers))


def post(url: str, body: str, headers: dict[str, str], timeout: float = 10.0) -> tuple[int, str]:
    """POST ``body`` to a running server; returns (status, text), also for 4xx/5xx."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    return _open(request, timeout)


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET ``url`` (for example ``/healthz``); returns (status, text)."""
    return _open(urllib.request.Request(url, method="GET"), timeout)


def _open(request: urllib.request.Request, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
