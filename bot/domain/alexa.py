"""Alexa's side of a certification, as values: reviews, publications, stage endpoints.

Pure: the SMAPI adapter returns these, the Alexa tracking service and the store keep them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: the reasons SMAPI accepts for withdrawing a skill from certification; OTHER needs a message
WITHDRAW_REASONS: tuple[str, ...] = (
    "TEST_SKILL",
    "MORE_FEATURES",
    "DISCOVERED_ISSUE",
    "NOT_RECEIVED_CERTIFICATION_FEEDBACK",
    "NOT_INTEND_TO_PUBLISH",
    "OTHER",
)

#: states of a certification review; only IN_PROGRESS is pending
CERTIFICATION_STATUSES: tuple[str, ...] = ("IN_PROGRESS", "SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class CertificationReview:
    """One certification review of a skill as SMAPI reports it."""

    id: str
    status: str  # one of CERTIFICATION_STATUSES
    skill_submission_timestamp: datetime | None = None
    estimated_completion: datetime | None = None
    actual_completion: datetime | None = None
    #: plain text from the review's result, e.g. "Published in US, GB." (None while pending)
    result_summary: str | None = None

    @property
    def is_pending(self) -> bool:
        return self.status == "IN_PROGRESS"


@dataclass(frozen=True)
class PublicationStatus:
    """What SMAPI answered to a publication request."""

    status: str  # IN_PROGRESS, SUCCEEDED, FAILED, CANCELLED or SCHEDULED
    publishes_at: datetime | None = None


@dataclass(frozen=True)
class SkillEndpoints:
    """The endpoints of a skill's custom API in one stage: a default and one per region."""

    default: str | None
    regional: dict[str, str] = field(default_factory=dict)

    def all_uris(self) -> list[str]:
        """Every distinct endpoint, default first, then by region name.

        >>> SkillEndpoints("arn:a", {"FE": "arn:b", "EU": "arn:a"}).all_uris()
        ['arn:a', 'arn:b']
        """
        uris = [self.default] if self.default else []
        uris += [self.regional[region] for region in sorted(self.regional)]
        return list(dict.fromkeys(uris))


@dataclass(frozen=True)
class StageManifest:
    """A stage's skill manifest (the ``manifest`` object) and the ETag to update it with."""

    stage: str
    manifest: dict[str, Any]
    etag: str | None


@dataclass(frozen=True)
class ManifestBuild:
    """The outcome of the latest manifest update (SMAPI's ``status?resource=manifest``)."""

    status: str  # IN_PROGRESS, SUCCEEDED or FAILED (or None-like "UNKNOWN" before any)
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    """What skillbot keeps of a certification's Alexa review."""

    certification_id: str
    submitted_at: datetime | None
    status: str | None
    estimated_completion: datetime | None
    detail: str | None
    published_at: datetime | None
    withdrawn_at: datetime | None

    @property
    def withdrawable(self) -> bool:
        """Submitted, and neither decided nor withdrawn yet."""
        return (
            self.submitted_at is not None
            and self.withdrawn_at is None
            and self.status in (None, "IN_PROGRESS")
        )

    def describe(self) -> str:
        if self.withdrawn_at:
            return "withdrawn from certification"
        if self.status is None:
            return "submitted; no review yet" if self.submitted_at else "not submitted"
        text = {
            "IN_PROGRESS": "in review",
            "SUCCEEDED": "passed",
            "FAILED": "failed",
            "CANCELLED": "cancelled",
        }.get(self.status, self.status.lower())
        if self.status == "IN_PROGRESS" and self.estimated_completion:
            text += f", estimated completion {self.estimated_completion:%Y-%m-%d %H:%M} UTC"
        publication = None
        if self.detail and self.detail.startswith(PUBLICATION):
            publication = self.detail.removeprefix(PUBLICATION)
        elif self.detail and self.status != "IN_PROGRESS":
            text += f" ({self.detail})"
        if self.published_at:
            text += "; " + {
                "IN_PROGRESS": "publication requested",
                "SCHEDULED": "publication scheduled",
                "FAILED": "publication failed",
            }.get(publication or "", "published")
        return text


#: how a review's ``detail`` records what SMAPI answered the publication request
PUBLICATION = "publication "


def withdraw_reason(text: str) -> tuple[str, str | None]:
    """Map a cancel reason to SMAPI's: a reason's name (any case, spaces for ``_``) at the
    start is used as is; anything else is OTHER with the text as the message.

    >>> withdraw_reason("discovered issue: crash in the quiz")
    ('DISCOVERED_ISSUE', 'crash in the quiz')
    >>> withdraw_reason("wrong invocation name")
    ('OTHER', 'wrong invocation name')
    """
    normalized = re.sub(r"[\s-]+", "_", text.strip()).upper()
    for reason in WITHDRAW_REASONS:
        if reason != "OTHER" and normalized.startswith(reason):
            rest = text.strip()[len(reason) :].lstrip(" :—-").strip()
            return reason, rest or None
    return "OTHER", text.strip() or "cancelled in skillbot"
