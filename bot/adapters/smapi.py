"""A small client of the Alexa Skill Management API (SMAPI), with Login with Amazon tokens.

Why our own client: ``ask-smapi-sdk`` (1.0.0, 2019) is a Python 2-era shim over the 1 MB
generated ``ask-smapi-model`` plus ``requests``/``six``/``dateutil``, untyped, raising its own
exceptions; we need five calls, so a small typed client on ``urllib3`` (already here via boto3).

Usage::

    client = smapi_client_from_env(os.environ)    # None when SMAPI is not configured
    if client:
        client.submit_for_certification(skill_id, "New quiz rounds")
        review = client.most_recent_certification(skill_id)
        if review and review.status == "SUCCEEDED":
            client.publish(skill_id)

Every failure is a :class:`~bot.domain.errors.SkillbotError` whose message says what SMAPI or
Login with Amazon answered and whose hint says what to do. Neither the client secret, the
refresh token nor an access token ever appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from bot.domain.alexa import (
    CERTIFICATION_STATUSES,
    WITHDRAW_REASONS,
    CertificationReview,
    PublicationStatus,
    SkillEndpoints,
)
from bot.domain.errors import Busy, Forbidden, NotFound, Refused, SkillbotError, Unavailable

logger = logging.getLogger(__name__)

__all__ = [
    "CERTIFICATION_STATUSES",
    "WITHDRAW_REASONS",
    "CertificationReview",
    "PublicationStatus",
    "SkillEndpoints",
    "SmapiClient",
    "SmapiCredentials",
]

DEFAULT_SMAPI_URL = "https://api.amazonalexa.com"
DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

_REFRESH_TOKEN_HINT = (
    "Check ALEXA_LWA_REFRESH_TOKEN in .env; create a new one with `ask util generate-lwa-tokens`."
)
_CLIENT_HINT = (
    "Check ALEXA_LWA_CLIENT_ID and ALEXA_LWA_CLIENT_SECRET in .env against the security "
    "profile in the Amazon developer console."
)
_RETRY_LATER_HINT = "Nothing needs fixing on our side; try again in a few minutes."
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
class _Answer:
    status: int
    payload: Any  # parsed JSON, or None for an empty body
    text: str


class SmapiClient:
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

    # -- operations -------------------------------------------------------------------------

    def submit_for_certification(self, skill_id: str, version_message: str) -> None:
        """Submit the development stage for certification; a person publishes it later.

        >>> client.submit_for_certification("amzn1.ask.skill.1234", "Adds the quiz of the week")
        """
        self._call(
            "POST",
            f"/v1/skills/{_segment(skill_id)}/submit",
            action=f"submit skill {skill_id} for certification",
            body={"publicationMethod": "MANUAL_PUBLISHING", "versionMessage": version_message},
            expect=(202,),
            hint_400=(
                "Fix what SMAPI names (validation errors are listed in the Alexa developer "
                "console under Certification), then submit again."
            ),
        )

    def most_recent_certification(self, skill_id: str) -> CertificationReview | None:
        """The latest certification review of the skill, or None when it never had one.

        >>> client.most_recent_certification("amzn1.ask.skill.1234").status
        'IN_PROGRESS'
        """
        answer = self._call(
            "GET",
            f"/v1/skills/{_segment(skill_id)}/certifications/mostRecent",
            action=f"read the certification status of skill {skill_id}",
            expect=(200, 404),
        )
        if answer.status == 404:
            return None
        payload = _expect_object(answer, f"the certification status of skill {skill_id}")
        tracking = _object(payload.get("reviewTrackingInfo"))
        return CertificationReview(
            id=str(payload.get("id", "")),
            status=str(payload.get("status", "UNKNOWN")),
            skill_submission_timestamp=_timestamp(payload.get("skillSubmissionTimestamp")),
            estimated_completion=_timestamp(tracking.get("estimatedCompletionTimestamp")),
            actual_completion=_timestamp(tracking.get("actualCompletionTimestamp")),
            result_summary=_result_summary(payload.get("result")),
        )

    def publish(
        self,
        skill_id: str,
        *,
        locale: str = "en-US",
        publishes_at: datetime | None = None,
    ) -> PublicationStatus:
        """Publish the certified version of the skill, now or at ``publishes_at``.

        >>> client.publish("amzn1.ask.skill.1234").status
        'IN_PROGRESS'
        """
        body = {"publishesAtDate": _iso(publishes_at)} if publishes_at else None
        answer = self._call(
            "POST",
            f"/v1/skills/{_segment(skill_id)}/publications",
            action=f"publish skill {skill_id}",
            body=body,
            headers={"Accept-Language": locale},
            expect=(200, 202),
            hint_400=(
                "Only a version that passed certification can be published; check the "
                "certification status, then publish again."
            ),
        )
        payload = _expect_object(answer, f"the publication of skill {skill_id}")
        return PublicationStatus(
            status=str(payload.get("status", "UNKNOWN")),
            publishes_at=_timestamp(payload.get("publishesAtDate")),
        )

    def withdraw(self, skill_id: str, reason: str, message: str | None = None) -> None:
        """Withdraw the skill from certification; ``reason`` is one of WITHDRAW_REASONS.

        >>> client.withdraw("amzn1.ask.skill.1234", "DISCOVERED_ISSUE")
        >>> client.withdraw("amzn1.ask.skill.1234", "OTHER", "Wrong invocation name")
        """
        if reason not in WITHDRAW_REASONS:
            raise Refused(
                f"{reason!r} is not a reason SMAPI accepts for withdrawing a skill.",
                hint=f"Use one of {', '.join(WITHDRAW_REASONS)}.",
            )
        if reason == "OTHER" and not (message and message.strip()):
            raise Refused(
                "Withdrawing with reason OTHER needs a message that says why.",
                hint="Add the message, or pick one of the other reasons.",
            )
        body: dict[str, str] = {"reason": reason}
        if message:
            body["message"] = message
        self._call(
            "POST",
            f"/v1/skills/{_segment(skill_id)}/withdraw",
            action=f"withdraw skill {skill_id} from certification",
            body=body,
            expect=(200, 202, 204),
            hint_400="Only a skill that is in certification can be withdrawn; check its status.",
        )

    def live_endpoints(self, skill_id: str) -> SkillEndpoints:
        """The endpoints the live (published) skill calls.

        >>> client.live_endpoints("amzn1.ask.skill.1234").all_uris()
        ['arn:aws:lambda:eu-west-1:123456789012:function:trivia:PROD1']
        """
        answer = self._call(
            "GET",
            f"/v1/skills/{_segment(skill_id)}/stages/live/manifest",
            action=f"read the live manifest of skill {skill_id}",
            expect=(200,),
            hint_404=(
                "The skill has no live stage: either it was never published or "
                "alexa_skill_id in the skills file is wrong."
            ),
        )
        payload = _expect_object(answer, f"the live manifest of skill {skill_id}")
        custom = _object(_object(_object(payload.get("manifest")).get("apis")).get("custom"))
        regional: dict[str, str] = {}
        for region, settings in _object(custom.get("regions")).items():
            uri = _object(_object(settings).get("endpoint")).get("uri")
            if isinstance(uri, str) and uri:
                regional[str(region)] = uri
        default = _object(custom.get("endpoint")).get("uri")
        return SkillEndpoints(
            default=default if isinstance(default, str) and default else None,
            regional=regional,
        )

    # -- SMAPI plumbing ---------------------------------------------------------------------

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
        hint_404: str = "",
    ) -> _Answer:
        request_headers = {"Accept": "application/json", **(headers or {})}
        encoded: bytes | None = None
        if body is not None:
            encoded = json.dumps(body).encode()
            request_headers["Content-Type"] = "application/json"

        url = self._base_url + path

        def send_with(token: str) -> _Answer:
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
    ) -> _Answer:
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
        return _Answer(status=response.status, payload=payload, text=text)

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
            hint=_RETRY_LATER_HINT,
        )

    def _smapi_error(
        self, answer: _Answer, action: str, *, hint_400: str, hint_404: str
    ) -> SkillbotError:
        detail = self._remote_detail(answer)
        status = answer.status
        if status in (400, 409):
            return Refused(f"SMAPI refused to {action}{detail}.", hint=hint_400)
        if status == 403:
            return Forbidden(
                f"SMAPI does not allow the bot to {action}{detail}.",
                hint="Make sure the Amazon developer account behind ALEXA_LWA_REFRESH_TOKEN "
                "may manage this skill; create the token with `ask util generate-lwa-tokens` "
                "while signed in as that account.",
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
            hint=_RETRY_LATER_HINT,
        )

    def _remote_detail(self, answer: _Answer) -> str:
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
                    hint=_RETRY_LATER_HINT,
                )
            logger.info("Got a Login with Amazon access token valid for %d s", lifetime)
            return token, float(lifetime)
        raise self._lwa_error(answer, payload)

    def _lwa_error(self, answer: _Answer, payload: Mapping[str, Any]) -> SkillbotError:
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
                hint=_RETRY_LATER_HINT,
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
            hint="Check ALEXA_LWA_CLIENT_ID, ALEXA_LWA_CLIENT_SECRET and "
            "ALEXA_LWA_REFRESH_TOKEN in .env; create a new refresh token with "
            "`ask util generate-lwa-tokens`.",
        )


def smapi_client_from_env(env: Mapping[str, str]) -> SmapiClient | None:
    """A client when all three LWA variables are set, else None (SMAPI features stay off).

    >>> smapi_client_from_env({"ALEXA_LWA_CLIENT_ID": "amzn1.application-oa2-client.1"})
    """
    names = ("ALEXA_LWA_CLIENT_ID", "ALEXA_LWA_CLIENT_SECRET", "ALEXA_LWA_REFRESH_TOKEN")
    values = [(env.get(name) or "").strip() for name in names]
    if not all(values):
        missing = [name for name, value in zip(names, values, strict=True) if not value]
        if len(missing) < len(names):
            logger.warning(
                "SMAPI features are off: %s %s not set (all three LWA variables are needed)",
                ", ".join(missing),
                "is" if len(missing) == 1 else "are",
            )
        return None
    client_id, client_secret, refresh_token = values
    return SmapiClient(
        SmapiCredentials(client_id, client_secret, refresh_token),
        base_url=(env.get("ALEXA_SMAPI_URL") or "").strip() or DEFAULT_SMAPI_URL,
        token_url=(env.get("ALEXA_LWA_TOKEN_URL") or "").strip() or DEFAULT_LWA_TOKEN_URL,
    )


# -- parsing helpers ------------------------------------------------------------------------


def _segment(value: str) -> str:
    """A path segment: a skill id can never add path components."""
    return quote(value, safe="")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _expect_object(answer: _Answer, what: str) -> dict[str, Any]:
    if not isinstance(answer.payload, dict):
        raise Unavailable(
            f"SMAPI answered with something other than a JSON object for {what} "
            f"(HTTP {answer.status}).",
            hint=_RETRY_LATER_HINT,
        )
    return answer.payload


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _countries(value: Any) -> list[str]:
    return [str(c) for c in value] if isinstance(value, list) else []


def _result_summary(result: Any) -> str | None:
    distribution = _object(_object(result).get("distributionInfo"))
    if not distribution:
        return None
    sentences: list[str] = []
    published = _countries(distribution.get("publishedCountries"))
    if published:
        sentences.append(f"Published in {', '.join(published)}.")
    failures: Iterable[Any] = distribution.get("publicationFailures") or []
    for failure in failures:
        countries = _countries(_object(failure).get("countries"))
        reason = _object(failure).get("reason")
        where = f" in {', '.join(countries)}" if countries else ""
        because = f": {reason}" if isinstance(reason, str) and reason else ""
        sentences.append(f"Not published{where}{because}.")
    return " ".join(sentences) or None
