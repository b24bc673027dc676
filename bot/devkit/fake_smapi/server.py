"""A local fake of SMAPI and the Login with Amazon token endpoint, for tests.

It serves the real paths and payload shapes on 127.0.0.1, keeps state per skill, only
accepts the bearer tokens it issued, and can fail or hang on demand::

    with FakeSmapi() as fake:
        client = SmapiClient(
            SmapiCredentials(fake.client_id, fake.client_secret, fake.refresh_token),
            base_url=fake.base_url,
            token_url=fake.token_url,
        )
        fake.set_certification(SKILL_ID, "SUCCEEDED")
        client.publish(SKILL_ID)
        assert fake.skill(SKILL_ID).publications

``fake.env()`` gives the ALEXA_* variables that point the bot at the fake.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.devkit.fake_smapi.manifests import QUERY, ManifestStages, StageStore
from bot.devkit.fake_smapi.state import (
    PUBLICATION_METHODS,
    TOKEN_PATH,
    WITHDRAW_REASONS,
    FakeCertification,
    FakeSkill,
    Fault,
    RecordedRequest,
    bad_request,
    iso,
    lwa_error,
    new_id,
    parse_body,
    utc_now,
)
from bot.devkit.json_server import JsonServer


class FakeSmapi(ManifestStages):
    """SMAPI and LWA on one local port; a context manager, or call :meth:`close`.

    Stage manifests, their updates and builds: :mod:`.manifests`."""

    def __init__(
        self,
        *,
        client_id: str = "amzn1.application-oa2-client.fake",
        client_secret: str | None = None,
        refresh_token: str | None = None,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        # random values, so a test can search logs for them without false matches
        self.client_secret = client_secret or f"fake-secret-{secrets.token_hex(12)}"
        self.refresh_token = refresh_token or f"Atzr|fake-refresh-{secrets.token_hex(12)}"
        self.token_ttl = token_ttl
        self.token_grants = 0
        self.issued_tokens: list[str] = []
        self.requests: list[RecordedRequest] = []
        self._clock = clock
        self._tokens: dict[str, float] = {}  # access token -> expiry on self._clock
        self._skills: dict[str, FakeSkill] = {}
        self._stage_stores: dict[str, StageStore] = {}
        #: False: a publication never reaches the live stage (as if still being processed)
        self.live_follows_publication = True
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._server = JsonServer(self._handle, content_type="application/json;charset=UTF-8")
        self.base_url = self._server.base_url
        self.token_url = f"{self.base_url}{TOKEN_PATH}"

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> FakeSmapi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()  # releases hanging handlers at once
        self._server.close()

    def env(self) -> dict[str, str]:
        """The ALEXA_* variables that point the bot at this fake."""
        return {
            "ALEXA_LWA_CLIENT_ID": self.client_id,
            "ALEXA_LWA_CLIENT_SECRET": self.client_secret,
            "ALEXA_LWA_REFRESH_TOKEN": self.refresh_token,
            "ALEXA_SMAPI_URL": self.base_url,
            "ALEXA_LWA_TOKEN_URL": self.token_url,
        }

    # -- state the tests set and read -------------------------------------------------------

    def add_skill(self, skill_id: str) -> FakeSkill:
        with self._lock:
            return self._skills.setdefault(skill_id, FakeSkill(skill_id))

    def skill(self, skill_id: str) -> FakeSkill:
        """The state of a skill (created empty when unknown)."""
        return self.add_skill(skill_id)

    def set_certification(
        self,
        skill_id: str,
        status: str,
        estimated_completion: datetime | None = None,
        *,
        published_countries: list[str] | None = None,
    ) -> FakeCertification:
        """Set the status of the latest certification (one is created when there is none)."""
        with self._lock:
            skill = self.add_skill(skill_id)
            certification = skill.latest_certification
            if certification is None:
                certification = FakeCertification(new_id(), status, utc_now())
                skill.certifications.append(certification)
            certification.status = status
            certification.estimated_completion = estimated_completion
            certification.actual_completion = None if status == "IN_PROGRESS" else utc_now()
            certification.published_countries = published_countries
            return certification

    def set_live_endpoint(
        self, skill_id: str, uri: str | None, regional: Mapping[str, str] | None = None
    ) -> None:
        """What the live stage's manifest says under apis.custom (default and per region)."""
        self.set_stage_endpoint(skill_id, "live", uri, regional)

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused from now on (SMAPI answers 401)."""
        with self._lock:
            self._tokens.clear()

    def revoke_refresh_token(self) -> None:
        """LWA stops accepting the current refresh token (as when it is revoked)."""
        with self._lock:
            self.refresh_token = f"Atzr|fake-refresh-{secrets.token_hex(12)}"

    def fail_next(self, path_suffix: str, status: int, body: Any = None, times: int = 1) -> None:
        """The next ``times`` requests whose path ends with ``path_suffix`` get ``status``.

        ``body`` is sent as JSON (a str or bytes is sent as is); by default an SMAPI-shaped
        ``{"message": ...}``.
        """
        with self._lock:
            self._faults.append(Fault(path_suffix, times, status=status, body=body))

    def hang_next(self, path_suffix: str, seconds: float) -> None:
        """The next request whose path ends with ``path_suffix`` waits ``seconds`` first."""
        with self._lock:
            self._faults.append(Fault(path_suffix, 1, hang_seconds=seconds))

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    # -- request handling (called from server threads) --------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parts.query
        body = parse_body(path, raw_body)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, headers, body))
            fault = self._take_fault(path)
        if fault and fault.hang_seconds:
            self._closing.wait(fault.hang_seconds)
        elif fault:
            payload = fault.body
            if payload is None:
                payload = {"message": f"Injected failure with HTTP {fault.status}."}
            return fault.status, {}, payload

        if path == TOKEN_PATH:
            return self._token(method, body)
        if not self._authorized(headers.get("authorization", "")):
            return 401, {}, {"message": "Token is invalid/expired."}
        return self._route(method, path, {**headers, QUERY: query}, body)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if path.endswith(fault.path_suffix):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _token(self, method: str, form: Any) -> tuple[int, dict[str, str], Any]:
        if method != "POST" or not isinstance(form, dict):
            return 400, {}, lwa_error("invalid_request", "The request is missing parameters.")
        with self._lock:
            if form.get("grant_type") != "refresh_token":
                return 400, {}, lwa_error("unsupported_grant_type", "Unsupported grant type.")
            if (
                form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
            ):
                return 401, {}, lwa_error("invalid_client", "Client authentication failed")
            if form.get("refresh_token") != self.refresh_token:
                return (
                    400,
                    {},
                    lwa_error(
                        "invalid_grant",
                        "The request has an invalid grant parameter : refresh_token",
                    ),
                )
            token = f"Atza|fake-access-{secrets.token_hex(16)}"
            self._tokens[token] = self._clock() + self.token_ttl
            self.issued_tokens.append(token)
            self.token_grants += 1
            return (
                200,
                {},
                {
                    "access_token": token,
                    "refresh_token": self.refresh_token,
                    "token_type": "bearer",
                    "expires_in": int(self.token_ttl),
                },
            )

    def _authorized(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expiry = self._tokens.get(token)
            return scheme.lower() == "bearer" and expiry is not None and self._clock() < expiry

    def _route(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        path_known = False
        for route_method, pattern, action in _ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            path_known = True
            if method != route_method:
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            skill_id = params.pop("skill")
            with self._lock:
                if skill_id not in self._skills:
                    return 404, {}, {"message": f"Skill with id {skill_id} was not found."}
                return action(self, self._skills[skill_id], headers, body, **params)
        if path_known:
            return 405, {}, {"message": f"{method} is not allowed on {path}."}
        return 404, {}, {"message": f"No resource at {path}."}

    # -- SMAPI operations (lock held) -------------------------------------------------------

    def _submit(
        self, skill: FakeSkill, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        body = body if isinstance(body, dict) else {}
        method = body.get("publicationMethod", "AUTO_PUBLISHING")
        if method not in PUBLICATION_METHODS:
            return 400, {}, bad_request(f"Invalid publicationMethod {method!r}.")
        latest = skill.latest_certification
        if latest and latest.status == "IN_PROGRESS":
            return 400, {}, {"message": "The skill is already in certification."}
        skill.submissions.append(body)
        self._copy_stage(skill.skill_id, "development", "certification")
        certification = FakeCertification(new_id(), "IN_PROGRESS", utc_now())
        skill.certifications.append(certification)
        location = f"/v1/skills/{skill.skill_id}/certifications/{certification.id}"
        return 202, {"Location": location}, None

    def _certification(
        self, skill: FakeSkill, headers: dict[str, str], body: Any, *, certification: str
    ) -> tuple[int, dict[str, str], Any]:
        if certification == "mostRecent":
            found = skill.latest_certification
        else:
            found = next((c for c in skill.certifications if c.id == certification), None)
        if found is None:
            return 404, {}, {"message": "No certification was found for the skill."}
        return 200, {}, found.to_json()

    def _certifications(
        self, skill: FakeSkill, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        items = []
        for certification in reversed(skill.certifications):
            summary = certification.to_json()
            summary.pop("result", None)
            items.append(summary)
        return (
            200,
            {},
            {
                "_links": {"self": {"href": f"/v1/skills/{skill.skill_id}/certifications"}},
                "isTruncated": False,
                "totalCount": len(items),
                "items": items,
            },
        )

    def _publish(
        self, skill: FakeSkill, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        locale = headers.get("accept-language")
        if not locale:
            return 400, {}, bad_request("The Accept-Language header is required.")
        latest = skill.latest_certification
        if latest is None or latest.status != "SUCCEEDED":
            return 400, {}, {"message": "The skill has no certified version to publish."}
        body = body if isinstance(body, dict) else {}
        publishes_at = body.get("publishesAtDate")
        status = "SCHEDULED" if publishes_at else "IN_PROGRESS"
        publication = {
            "publishesAtDate": publishes_at or iso(utc_now()),
            "status": status,
            "locale": locale,
        }
        skill.publications.append(publication)
        certified = self.manifest(skill.skill_id, "certification") is not None
        if certified and self.live_follows_publication:
            self._copy_stage(skill.skill_id, "certification", "live")
        return 202, {}, {"publishesAtDate": publication["publishesAtDate"], "status": status}

    def _latest_publication(
        self, skill: FakeSkill, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        if not skill.publications:
            return 404, {}, {"message": "The skill has never been published."}
        latest = skill.publications[-1]
        return 200, {}, {"publishesAtDate": latest["publishesAtDate"], "status": latest["status"]}

    def _withdraw(
        self, skill: FakeSkill, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        body = body if isinstance(body, dict) else {}
        reason = body.get("reason")
        if reason not in WITHDRAW_REASONS:
            return 400, {}, bad_request(f"Invalid withdrawal reason {reason!r}.")
        if reason == "OTHER" and not body.get("message"):
            return 400, {}, bad_request("A message is required when the reason is OTHER.")
        latest = skill.latest_certification
        if latest is None or latest.status != "IN_PROGRESS":
            return 400, {}, {"message": "The skill is not in certification."}
        latest.status = "CANCELLED"
        latest.actual_completion = utc_now()
        skill.withdrawals.append(body)
        self._drop_stage(skill.skill_id, "certification")
        return 204, {}, None


_SKILL = r"^/v1/skills/(?P<skill>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., tuple[int, dict[str, str], Any]]]] = [
    ("POST", re.compile(_SKILL + r"/submit$"), FakeSmapi._submit),
    ("GET", re.compile(_SKILL + r"/certifications$"), FakeSmapi._certifications),
    (
        "GET",
        re.compile(_SKILL + r"/certifications/(?P<certification>[^/]+)$"),
        FakeSmapi._certification,
    ),
    ("POST", re.compile(_SKILL + r"/publications$"), FakeSmapi._publish),
    ("GET", re.compile(_SKILL + r"/publications/~latest$"), FakeSmapi._latest_publication),
    ("POST", re.compile(_SKILL + r"/withdraw$"), FakeSmapi._withdraw),
    ("GET", re.compile(_SKILL + r"/stages/(?P<stage>[^/]+)/manifest$"), FakeSmapi._get_manifest),
    ("PUT", re.compile(_SKILL + r"/stages/(?P<stage>[^/]+)/manifest$"), FakeSmapi._put_manifest),
    ("GET", re.compile(_SKILL + r"/status$"), FakeSmapi._status),
]
