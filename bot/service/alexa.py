"""Alexa's own view of a certification, through SMAPI (active only with LWA credentials).

- point the development stage at the candidate alias, then submit the skill for
  certification (manual publishing) after ``certify``;
- poll the most recent review into the store; a change to SUCCEEDED or FAILED is
  announced in the certification's thread, and the status shows in reminders, the
  status view and the certification message;
- publish the skill at promotion, before the roles swap, only when the certification
  stage calls the candidate (a refusal or a failure swaps nothing); then check the live
  stage;
- withdraw the submission at ``cancel``;
- read the live stage's endpoints for ``doctor``'s drift check.

The stages' endpoints are :mod:`bot.service.alexa_endpoints`' business::

    tracking = AlexaTracking(smapi, reviews, skills, clock, announcer, stages,
                             approvers=["U0CAROL"], reaction="white_check_mark")
    tracking.submit(cert)               # after certify
    tracking.poll(pending)              # a scheduled job
"""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass

from bot.domain.alexa import (
    PUBLICATION,
    CertificationReview,
    Review,
    SkillEndpoints,
    withdraw_reason,
)
from bot.domain.errors import Refused, SkillbotError
from bot.domain.model import Certification, Skill, version_label
from bot.domain.words import Code, Icon, Run, Typed, Words, words
from bot.ports import Clock, ReviewStore, SmapiPort
from bot.service.access import mentions
from bot.service.alexa_endpoints import CONSOLE_ENDPOINT, SUBMIT, StageEndpoints
from bot.service.announcing import Announcer

log = logging.getLogger(__name__)


class ReviewLines:
    """The one-line review status of a certification, read from the store (no network)."""

    def __init__(self, reviews: ReviewStore) -> None:
        self.reviews = reviews

    def __call__(self, cert: Certification) -> str | None:
        review = self.reviews.review(cert.id)
        return review.describe() if review else None


@dataclass(eq=False)
class AlexaTracking:
    smapi: SmapiPort
    reviews: ReviewStore
    skills: dict[str, Skill]
    clock: Clock
    announcer: Announcer
    stages: StageEndpoints
    _: KW_ONLY
    approvers: list[str]
    reaction: str

    # -- records ---------------------------------------------------------------------
    def review(self, cert_id: str) -> Review | None:
        return self.reviews.review(cert_id)

    def _save(self, cert: Certification, **values: object) -> None:
        self.reviews.save_review(cert.id, cert.skill, **values)  # type: ignore[arg-type]

    def _tell(self, cert: Certification, text: str | Words) -> None:
        self.announcer.thread_reply(cert, text)

    # -- submit ------------------------------------------------------------------------
    def submit(self, cert: Certification) -> str | Words:
        """Point the development stage at the candidate, wait for its build, then submit
        the skill (manual publishing); the outcome is recorded and told in the thread.
        Returns that text. SMAPI errors are reported, not raised: the candidate alias has
        already moved and the certification is tracked either way. When the development
        stage cannot be made to call the candidate, nothing is submitted."""
        skill = self.skills[cert.skill]
        message = cert.note or f"{version_label(cert.version)} on {cert.alias} (skillbot)"
        live_alias = skill.other_alias(cert.alias)
        pointed: Words = ()
        text: Words
        try:
            pointed = self.stages.repoint_development(skill, cert.alias, live_alias=live_alias)
            self.smapi.submit_for_certification(skill.alexa_skill_id, message[:300])
        except SkillbotError as err:
            text = words(
                Icon("warning"),
                "Not submitted to Alexa",
                words(" (", pointed, ")") if pointed else None,
                ": ",
                err.told,
            )
            if "submit there" not in err.hint:  # say how to submit without the bot
                uri = self.stages.book.uri_or_none(skill, cert.alias)
                text = words(
                    text,
                    f" {cert.alias} serves the new code and the certification is tracked; "
                    "to submit, enter ",
                    Code(str(uri)),
                    " in ",
                    CONSOLE_ENDPOINT,
                    " and submit there, or ",
                    Run("cancel", skill.name),
                    " and certify again with ",
                    SUBMIT,
                    ".",
                )
        else:
            self._save(cert, submitted_at=self.clock(), status=None, detail=None)
            text = words(
                Icon("outbox_tray"),
                pointed,
                " Submitted to Alexa for certification (manual publishing): “",
                Typed(message),
                "”.",
            )
        self._tell(cert, text)
        self.announcer.certification_changed(cert)
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
            self._tell(
                cert,
                words(
                    Icon("tada"),
                    "Alexa certification passed. ",
                    mentions(self.approvers),
                    f" can now react with :{self.reaction}: to publish the skill and make "
                    f"{cert.alias} live.",
                ),
            )
        elif review.status == "FAILED":
            self._tell(
                cert,
                words(
                    Icon("x"),
                    "Alexa certification failed",
                    (": ", Typed(detail)) if detail else None,
                    ". See the Certification tab of the Alexa developer console; fix and ",
                    Run("cancel"),
                    ", then certify again.",
                ),
            )
        elif review.status == "IN_PROGRESS" and before is None:
            self._tell(cert, words(Icon("mag"), "Alexa certification is in review."))
        self.announcer.certification_changed(cert)
        return True

    # -- publish / withdraw --------------------------------------------------------------
    def publish_before_promotion(self, cert: Certification) -> list[Words]:
        """Publish the certified skill once its certification stage is found to call the
        candidate; raises (roles stay) on a wrong endpoint or when SMAPI refuses. Returns
        the alerts to announce: the live stage not calling the candidate afterwards.

        A certification whose publication is already recorded is not published twice
        (a promotion retried after a crash).
        """
        review = self.review(cert.id)
        if review is not None and review.published_at is not None:
            return []
        skill = self.skills[cert.skill]
        live_alias = skill.other_alias(cert.alias)
        self.stages.check_certification(skill, cert, live_alias=live_alias)
        try:
            status = self.smapi.publish(skill.alexa_skill_id)
        except SkillbotError as err:
            raise Refused(
                words(
                    f"Publishing the skill on Alexa failed, so {cert.alias} was not made live: ",
                    err.said,
                ),
                hint=err.todo or "Check the certification status, then react again.",
            ) from err
        self._save(cert, published_at=self.clock(), detail=PUBLICATION + status.status)
        if status.status == "SCHEDULED":
            return []  # not live yet: doctor compares the live stage once it is
        alert = self.stages.check_live(skill, cert.alias, previous_live=live_alias)
        return [alert] if alert else []

    def withdraw_note(self, cert_id: str | None) -> Words:
        """What a cancel plan says about the Alexa submission (nothing when there is none)."""
        review = self.review(cert_id) if cert_id else None
        if review is None or not review.withdrawable:
            return ()
        return words(
            "• the Alexa submission is withdrawn too (start the reason with one of SMAPI's "
            "reasons, e.g. ",
            Code("discovered issue: …"),
            "; otherwise OTHER with your text)",
        )

    def withdraw(self, cert: Certification, reason_text: str) -> Words | None:
        """Withdraw an in-review submission; returns what to tell the thread (or None)."""
        review = self.review(cert.id)
        if review is None or not review.withdrawable:
            return None
        reason, message = withdraw_reason(reason_text)
        try:
            self.smapi.withdraw(self.skills[cert.skill].alexa_skill_id, reason, message)
        except SkillbotError as err:
            return words(Icon("warning"), "Withdrawing the Alexa submission failed: ", err.told)
        self._save(cert, withdrawn_at=self.clock())
        return words(
            Icon("leftwards_arrow_with_hook"), f"Withdrawn from Alexa certification ({reason})."
        )

    # -- drift -----------------------------------------------------------------------------
    def live_endpoints(self, skill: Skill) -> SkillEndpoints | None:
        """The live stage's endpoints, place by place; None when never published."""
        return self.stages.live_stage(skill)
