"""Alexa's own view of a certification, through SMAPI (active only with LWA credentials).

- submit the skill for certification (manual publishing) after ``certify``;
- poll the most recent review into the database; a change to SUCCEEDED or FAILED is
  announced in the certification's thread, and the status shows in reminders, the
  status view and the certification message;
- publish the skill at promotion, before the roles swap (a failure swaps nothing);
- withdraw the submission at ``cancel``;
- read the live stage's endpoints for ``doctor``'s drift check.

::

    tracking = AlexaTracking(smapi_client, store.engine, announcer, clock)
    tracking.submit(cert, "Adds the quiz intent")
    tracking.poll()                      # a scheduled job
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.adapters.smapi import WITHDRAW_REASONS, CertificationReview, PublicationStatus
from bot.adapters.store import metadata
from bot.domain.errors import NotFound, Refused, SkillbotError
from bot.domain.model import Certification, Skill, version_label

log = logging.getLogger(__name__)

alexa_reviews = sa.Table(
    "alexa_reviews",
    metadata,
    sa.Column("certification_id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20)),
    sa.Column("estimated_completion", sa.DateTime(timezone=True)),
    sa.Column("detail", sa.Text),
    sa.Column("checked_at", sa.DateTime(timezone=True)),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
)


class SmapiPort(Protocol):
    def submit_for_certification(self, skill_id: str, version_message: str) -> None: ...

    def most_recent_certification(self, skill_id: str) -> CertificationReview | None: ...

    def publish(self, skill_id: str) -> PublicationStatus: ...

    def withdraw(self, skill_id: str, reason: str, message: str | None = None) -> None: ...

    def live_endpoints(self, skill_id: str) -> Any: ...


@dataclass(frozen=True)
class Review:
    """What the database knows of a certification's Alexa review."""

    certification_id: str
    submitted_at: datetime | None
    status: str | None
    estimated_completion: datetime | None
    detail: str | None
    published_at: datetime | None
    withdrawn_at: datetime | None

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
        if self.detail and self.status != "IN_PROGRESS":
            text += f" ({self.detail})"
        if self.published_at:
            text += "; published"
        return text


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


class AlexaTracking:
    def __init__(
        self,
        smapi: SmapiPort,
        engine: Engine,
        skills: dict[str, Skill],
        clock: Callable[[], datetime],
        thread_reply: Callable[[Certification, str], None],
        refresh_message: Callable[[Certification], None],
        approvers: list[str],
        reaction: str,
    ) -> None:
        self.smapi = smapi
        self.engine = engine
        self.skills = skills
        self.clock = clock
        self.thread_reply = thread_reply
        self.refresh_message = refresh_message
        self.approvers = approvers
        self.reaction = reaction

    # -- records ---------------------------------------------------------------------
    def review(self, cert_id: str) -> Review | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(alexa_reviews).where(alexa_reviews.c.certification_id == cert_id)
            ).first()
        if row is None:
            return None
        return Review(
            row.certification_id,
            _utc(row.submitted_at),
            row.status,
            _utc(row.estimated_completion),
            row.detail,
            _utc(row.published_at),
            _utc(row.withdrawn_at),
        )

    def review_status(self, cert: Certification) -> str | None:
        """One line for the certification message, reminders and status (no network)."""
        review = self.review(cert.id)
        return review.describe() if review else None

    def _save(self, cert: Certification, **values: Any) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                alexa_reviews.update()
                .where(alexa_reviews.c.certification_id == cert.id)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(
                    alexa_reviews.insert().values(
                        certification_id=cert.id, skill=cert.skill, **values
                    )
                )

    # -- submit ------------------------------------------------------------------------
    def submit(self, cert: Certification) -> str:
        """Submit the skill (manual publishing); the outcome is recorded and told in the
        thread. Returns that text. SMAPI errors are reported, not raised: the candidate
        alias has already moved and the certification is tracked either way."""
        skill = self.skills[cert.skill]
        message = cert.note or f"{version_label(cert.version)} on {cert.alias} (skillbot)"
        try:
            self.smapi.submit_for_certification(skill.alexa_skill_id, message[:300])
        except SkillbotError as err:
            text = f":warning: Submitting to Alexa for certification failed: {err}"
        else:
            self._save(cert, submitted_at=self.clock(), status=None, detail=None)
            text = (
                ":outbox_tray: Submitted to Alexa for certification (manual publishing): "
                f"“{message}”."
            )
        self.thread_reply(cert, text)
        self.refresh_message(cert)
        return text

    # -- poll --------------------------------------------------------------------------
    def poll(self, pending: list[Certification]) -> int:
        """Read the newest review of each pending certification; announce what changed.

        Reviews older than the certification belong to an earlier one and are ignored.
        Returns how many certifications changed status.
        """
        changed = 0
        for cert in pending:
            if not cert.pending:
                continue
            skill = self.skills.get(cert.skill)
            if skill is None:
                continue
            try:
                review = self.smapi.most_recent_certification(skill.alexa_skill_id)
            except SkillbotError as err:
                log.warning("certification status of %s unavailable: %s", cert.skill, err)
                continue
            if review is None or (
                review.skill_submission_timestamp is not None
                and review.skill_submission_timestamp < cert.created_at
            ):
                continue
            if self._record(cert, review):
                changed += 1
        return changed

    def _record(self, cert: Certification, review: CertificationReview) -> bool:
        before = self.review(cert.id)
        detail = review.result_summary
        self._save(
            cert,
            submitted_at=(before.submitted_at if before else None)
            or review.skill_submission_timestamp,
            status=review.status,
            estimated_completion=review.estimated_completion,
            detail=detail,
            checked_at=self.clock(),
        )
        if before is not None and before.status == review.status:
            return False
        if review.status == "SUCCEEDED":
            who = ", ".join(f"<@{u}>" for u in self.approvers)
            self.thread_reply(
                cert,
                f":tada: Alexa certification passed. {who} can now react with "
                f":{self.reaction}: to publish the skill and make {cert.alias} live.",
            )
        elif review.status == "FAILED":
            self.thread_reply(
                cert,
                ":x: Alexa certification failed"
                + (f": {detail}" if detail else "")
                + ". See the Certification tab of the Alexa developer console; "
                "fix and `/skill cancel`, then certify again.",
            )
        elif review.status == "IN_PROGRESS" and before is None:
            self.thread_reply(cert, ":mag: Alexa certification is in review.")
        self.refresh_message(cert)
        return True

    # -- publish / withdraw --------------------------------------------------------------
    def publish_before_promotion(self, cert: Certification) -> None:
        """Publish the certified skill; raises (roles stay) when SMAPI refuses.

        A certification whose publication is already recorded is not published twice
        (a promotion retried after a crash).
        """
        review = self.review(cert.id)
        if review is not None and review.published_at is not None:
            return
        skill = self.skills[cert.skill]
        try:
            status = self.smapi.publish(skill.alexa_skill_id)
        except SkillbotError as err:
            raise Refused(
                f"Publishing the skill on Alexa failed, so {cert.alias} was not made live: "
                f"{err.message}",
                hint=err.hint or "Check the certification status, then react again.",
            ) from err
        self._save(cert, published_at=self.clock(), detail=f"publication {status.status}")

    def withdraw(self, cert: Certification, reason_text: str) -> str | None:
        """Withdraw an in-review submission; returns what to tell the thread (or None)."""
        review = self.review(cert.id)
        if (
            review is None
            or review.submitted_at is None
            or review.status
            not in (
                None,
                "IN_PROGRESS",
            )
        ):
            return None
        reason, message = withdraw_reason(reason_text)
        try:
            self.smapi.withdraw(self.skills[cert.skill].alexa_skill_id, reason, message)
        except SkillbotError as err:
            return f":warning: Withdrawing the Alexa submission failed: {err}"
        self._save(cert, withdrawn_at=self.clock())
        return f":leftwards_arrow_with_hook: Withdrawn from Alexa certification ({reason})."

    # -- drift -----------------------------------------------------------------------------
    def live_endpoints(self, skill: Skill) -> list[str] | None:
        """Endpoints of the live stage; None when the skill was never published."""
        try:
            return list(self.smapi.live_endpoints(skill.alexa_skill_id).all_uris())
        except NotFound:
            return None


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
