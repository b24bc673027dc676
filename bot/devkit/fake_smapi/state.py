"""What the fake SMAPI keeps: skills, their certifications and requests, and the helpers
that shape its answers like SMAPI's and LWA's."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

TOKEN_PATH = "/auth/o2/token"
WITHDRAW_REASONS = (
    "TEST_SKILL",
    "MORE_FEATURES",
    "DISCOVERED_ISSUE",
    "NOT_RECEIVED_CERTIFICATION_FEEDBACK",
    "NOT_INTEND_TO_PUBLISH",
    "OTHER",
)
PUBLICATION_METHODS = ("MANUAL_PUBLISHING", "AUTO_PUBLISHING")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (Authorization header included, on purpose)."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: Any  # JSON value, the form fields of a token request (dict of str), or None


@dataclass
class FakeCertification:
    id: str
    status: str
    submitted_at: datetime
    estimated_completion: datetime | None = None
    actual_completion: datetime | None = None
    published_countries: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        tracking: dict[str, Any] = {"lastUpdated": iso(utc_now())}
        if self.estimated_completion:
            tracking["estimatedCompletionTimestamp"] = iso(self.estimated_completion)
        if self.actual_completion:
            tracking["actualCompletionTimestamp"] = iso(self.actual_completion)
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "skillSubmissionTimestamp": iso(self.submitted_at),
            "reviewTrackingInfo": tracking,
        }
        if self.published_countries is not None:
            body["result"] = {
                "distributionInfo": {
                    "publishedCountries": list(self.published_countries),
                    "publicationFailures": [],
                }
            }
        return body


@dataclass
class FakeSkill:
    skill_id: str
    submissions: list[dict[str, Any]] = field(default_factory=list)  # accepted submit bodies
    certifications: list[FakeCertification] = field(default_factory=list)  # oldest first
    publications: list[dict[str, Any]] = field(default_factory=list)  # accepted publications
    withdrawals: list[dict[str, Any]] = field(default_factory=list)  # accepted withdraw bodies

    @property
    def latest_certification(self) -> FakeCertification | None:
        return self.certifications[-1] if self.certifications else None


@dataclass
class Fault:
    path_suffix: str
    times: int
    status: int = 0
    body: Any = None
    hang_seconds: float = 0.0


def parse_body(path: str, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if path == TOKEN_PATH:
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def lwa_error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


def bad_request(violation: str) -> dict[str, Any]:
    return {
        "message": "Server cannot process the request due to a client error.",
        "violations": [{"code": "INVALID_REQUEST_PARAMETER", "message": violation}],
    }


def new_id() -> str:
    return secrets.token_hex(16)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
