"""HTTP to SMAPI with Login with Amazon access tokens: the plumbing under the client.

Tokens are refreshed with the refresh token and cached until shortly before they expire;
every failure becomes a :class:`~bot.domain.errors.SkillbotError` whose message says what
SMAPI or LWA answered and whose hint says what to do. No secret or token ever appears in
a message, a log line or a ``repr``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from bot.domain.errors import Busy, Forbidden, NotFound, Refused, SkillbotError, Unavailable
from bot.domain.words import Code, Words, words

logger = logging.getLogger(__name__)

DEFAULT_SMAPI_URL = "https://api.amazonalexa.com"
DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

_REFRESH_TOKEN_HINT = words(
    "Check ALEXA_LWA_REFRESH_TOKEN in .env; create a new one with ",
    Code("ask util generate-lwa-tokens"),
    ".",
)
_CLIENT_HINT = (
    "Check ALEXA_LWA_CLIENT_ID and ALEXA_LWA_CLIENT_SECRET in .env against the security "
    "profile in the Amazon developer console."
)
RETRY_LATER_HINT = "Nothing needs fixing on our side; try again in a few minutes."
_REMOTE_TEXT_LIMIT = 300
# an access token is renewed this long before LWA says it expires (at most half its life)
_TOKEN_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class SmapiCredentials:
    """Login with Amazon credentials of the developer account that owns the skills."""

    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:
        return (
            f"SmapiCredentials(client_id={self.client_id!r}, client_secret='<hidden>', "
            "refresh_token='<hidden>')"
        )


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any  # parsed JSON, or None for an empty body
    text: str
    #: response headers, names in lower case (the manifest's ETag)
    headers: Mapping[str, str] = field(default_factory=dict)


class SmapiTransport:
    """Calls SMAPI for one developer account; safe to share between threads.

    ``clock`` (seconds, monotonic) decides when the cached access token is renewed; tests pass
    their own to move time forward without sleeping.
    """

    def __init__(
        self,
        credentials: SmapiCredentials,
        *,
        base_url: str = DEFAULT_SMAPI_URL,
        token_url: str = DEFAULT_LWA_TOKEN_URL,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url.rstrip("/")
        self._token_url = token_url
        self._timeout = timeout
        self._clock = clock
        self._token_lock = threading.Lock()
        self._access_token: str | None = None
        self._token_renew_at = 0.0
        # tokens this client was given, so that remote text echoing one can be cleaned
        self._seen_tokens: deque[str] = deque(maxlen=8)
        # no automatic retries: a repeated POST could submit or publish twice
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=3),
            maxsize=8,
        )

    def __repr__(self) -> str:
        return (
            f"SmapiClient(base_url={self._base_url!r}, client_id={self._credentials.client_id!r})"
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        expect: tuple[int, ...],
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        hint_400: str = "Fix what SMAPI names, then try again.",
        hint_404: str | Words = "",
    ) -> Answer:
        request_headers = {"Accept": "application/json", **(headers or {})}
        encoded: bytes | None = None
        if body is not None:
            encoded = json.dumps(body).encode()
            request_headers["Content-Type"] = "application/json"

        url = self._base_url + path

        def send_with(token: str) -> Answer:
            authorized = {**request_headers, "Authorization": f"Bearer {token}"}
            return self._send("SMAPI", method, url, encoded, authorized, action)

        token = self._current_token()
        answer = send_with(token)
        if answer.status == 401:
            # the token may have been revoked or expired early: renew once, then give up
            self._forget_token(token)
            token = self._current_token()
            answer = send_with(token)
            if answer.status == 401:
                raise Forbidden(
                    f"SMAPI rejected a fresh Login with Amazon access token while trying to "
                    f"{action}{self._remote_detail(answer)}.",
                    hint=_REFRESH_TOKEN_HINT,
                )
        if answer.status in expect:
            return answer
        raise self._smapi_error(answer, action, hint_400=hint_400, hint_404=hint_404)

    def _send(
        self,
        service: str,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        action: str,
    ) -> Answer:
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, body=body, headers=headers)
        except (Urllib3Timeout, MaxRetryError, HTTPError) as exc:
            raise self._transport_error(service, url, action, exc) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s %s -> %d in %.0f ms",
            service,
            method,
            urlsplit(url).path,
            response.status,
            elapsed_ms,
        )
        text = response.data.decode("utf-8", errors="replace")
        payload: Any = None
        if text.strip():
            try:
                payload = json.loads(text)
            except ValueError:
                payload = None
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(status=response.status, payload=payload, text=text, headers=headers)

    def _transport_error(
        self, service: str, url: str, action: str, exc: Exception
    ) -> SkillbotError:
        reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc
        host = urlsplit(url).netloc
        # checked first: urllib3 makes a refused connection a kind of connect timeout
        if isinstance(reason, NewConnectionError):
            return Unavailable(
                f"Could not connect to {service} at {host} to {action} (connection refused "
                "or network unreachable).",
                hint="Check the network from the bot's host, and ALEXA_SMAPI_URL / "
                "ALEXA_LWA_TOKEN_URL if they are set.",
            )
        if isinstance(reason, Urllib3Timeout):
            return Unavailable(
                f"{service} at {host} did not answer within {self._timeout:g} s while "
                f"trying to {action}.",
                hint=f"{service} may be slow or unreachable from here; try again in a few "
                "minutes, and check the status first if it was a change.",
            )
        return Unavailable(
            f"The connection to {service} at {host} failed while trying to {action} "
            f"({type(reason).__name__}).",
            hint=RETRY_LATER_HINT,
        )

    def _smapi_error(
        self, answer: Answer, action: str, *, hint_400: str, hint_404: str | Words
    ) -> SkillbotError:
        detail = self._remote_detail(answer)
        status = answer.status
        if status in (400, 409):
            return Refused(f"SMAPI refused to {action}{detail}.", hint=hint_400)
        if status == 403:
            return Forbidden(
                f"SMAPI does not allow the bot to {action}{detail}.",
                hint=words(
                    "Make sure the Amazon developer account behind ALEXA_LWA_REFRESH_TOKEN "
                    "may manage this skill; create the token with ",
                    Code("ask util generate-lwa-tokens"),
                    " while signed in as that account.",
                ),
            )
        if status == 404:
            return NotFound(
                f"SMAPI found nothing when trying to {action}{detail}.",
                hint=hint_404
                or "Check alexa_skill_id in the skills file, and that the LWA credentials "
                "belong to the developer account that owns the skill.",
            )
        if status == 429:
            return Busy(
                f"SMAPI is throttling the bot's requests (tried to {action}){detail}.",
                hint="Wait a minute and try again.",
            )
        return Unavailable(
            f"SMAPI failed to {action}: HTTP {status}{detail}.",
            hint=RETRY_LATER_HINT,
        )

    def _remote_detail(self, answer: Answer) -> str:
        """SMAPI's own words about a failure, as ': <message>' (or '')."""
        payload = answer.payload
        parts: list[str] = []
        if isinstance(payload, dict):
            if isinstance(payload.get("message"), str):
                parts.append(payload["message"])
            for violation in payload.get("violations") or []:
                if isinstance(violation, dict) and isinstance(violation.get("message"), str):
                    parts.append(violation["message"])
        text = " ".join(part.strip() for part in parts if part.strip())
        return f": {self._clean(text)}" if text else ""

    def _clean(self, text: str) -> str:
        """Remote text made safe to show: no credential, no token, not too long."""
        secrets = (self._credentials.client_secret, self._credentials.refresh_token)
        for secret in (*secrets, *self._seen_tokens):
            if secret:
                text = text.replace(secret, "<hidden>")
        text = " ".join(text.split())
        if len(text) > _REMOTE_TEXT_LIMIT:
            text = text[: _REMOTE_TEXT_LIMIT - 1] + "…"
        return text

    # -- Login with Amazon ------------------------------------------------------------------

    def _current_token(self) -> str:
        token = self._access_token
        if token is not None and self._clock() < self._token_renew_at:
            return token
        with self._token_lock:
            # another thread may have renewed it while this one waited
            if self._access_token is not None and self._clock() < self._token_renew_at:
                return self._access_token
            token, lifetime = self._grant_token()
            self._access_token = token
            self._seen_tokens.append(token)
            margin = min(_TOKEN_MARGIN_SECONDS, lifetime / 2)
            self._token_renew_at = self._clock() + lifetime - margin
            return token

    def _forget_token(self, rejected: str) -> None:
        with self._token_lock:
            if self._access_token == rejected:
                self._access_token = None

    def _grant_token(self) -> tuple[str, float]:
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
                "refresh_token": self._credentials.refresh_token,
            }
        ).encode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        action = "get an access token for SMAPI"
        answer = self._send("Login with Amazon", "POST", self._token_url, form, headers, action)
        payload = answer.payload if isinstance(answer.payload, dict) else {}
        if answer.status == 200:
            token = payload.get("access_token")
            lifetime = payload.get("expires_in")
            if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
                raise Unavailable(
                    "Login with Amazon answered without an access token and its lifetime.",
                    hint=RETRY_LATER_HINT,
                )
            logger.info("Got a Login with Amazon access token valid for %d s", lifetime)
            return token, float(lifetime)
        raise self._lwa_error(answer, payload)

    def _lwa_error(self, answer: Answer, payload: Mapping[str, Any]) -> SkillbotError:
        code = payload.get("error") if isinstance(payload.get("error"), str) else None
        description = payload.get("error_description")
        said = ""
        if code or isinstance(description, str):
            said = self._clean(" ".join(p for p in (code, description) if isinstance(p, str) and p))
            said = f" ({said})"
        if answer.status == 429:
            return Busy(
                f"Login with Amazon is throttling the bot's token requests{said}.",
                hint="Wait a minute and try again.",
            )
        if answer.status >= 500 or answer.status < 400:
            return Unavailable(
                f"Login with Amazon failed to issue an access token: HTTP {answer.status}{said}.",
                hint=RETRY_LATER_HINT,
            )
        if code == "invalid_grant":
            return Forbidden(
                f"Login with Amazon rejected the refresh token{said}.",
                hint=_REFRESH_TOKEN_HINT,
            )
        if code in ("invalid_client", "unauthorized_client"):
            return Forbidden(
                f"Login with Amazon rejected the client id or client secret{said}.",
                hint=_CLIENT_HINT,
            )
        return Forbidden(
            f"Login with Amazon refused to issue an access token: HTTP {answer.status}{said}.",
            hint=words(
                "Check ALEXA_LWA_CLIENT_ID, ALEXA_LWA_CLIENT_SECRET and "
                "ALEXA_LWA_REFRESH_TOKEN in .env; create a new refresh token with ",
                Code("ask util generate-lwa-tokens"),
                ".",
            ),
        )


def json_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
