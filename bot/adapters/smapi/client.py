"""A small client of the Alexa Skill Management API (SMAPI), with Login with Amazon tokens.

Why our own client: ``ask-smapi-sdk`` (1.0.0, 2019) is a Python 2-era shim over the 1 MB
generated ``ask-smapi-model`` plus ``requests``/``six``/``dateutil``, untyped, raising its own
exceptions; we need a handful of calls, so a small typed client on ``urllib3`` (already
here via boto3).

Usage::

    client = SmapiClient(SmapiCredentials(client_id, client_secret, refresh_token))
    client.submit_for_certification(skill_id, "New quiz rounds")
    review = client.most_recent_certification(skill_id)
    if review and review.status == "SUCCEEDED":
        client.publish(skill_id)

Every failure is a :class:`~bot.domain.errors.SkillbotError` whose message says what SMAPI or
Login with Amazon answered and whose hint says what to do. Neither the client secret, the
refresh token nor an access token ever appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.adapters.smapi.transport import (
    RETRY_LATER_HINT,
    Answer,
    SmapiTransport,
    json_object,
)
from bot.domain.alexa import (
    WITHDRAW_REASONS,
    CertificationReview,
    ManifestBuild,
    PublicationStatus,
    SkillEndpoints,
    StageManifest,
)
from bot.domain.endpoints import manifest_endpoints
from bot.domain.errors import Refused, StalePlan, Unavailable
from bot.domain.words import Button, Words, words

logger = logging.getLogger(__name__)

_STAGE_HINTS: dict[str, str | Words] = {
    "live": "The skill has no live stage: either it was never published or "
    "alexa_skill_id in the skills file is wrong.",
    "certification": words(
        "The skill has no certification stage: it is not in certification. Submit it first "
        "(certify with ",
        Button("Confirm and submit to Alexa"),
        ").",
    ),
}


class SmapiClient(SmapiTransport):
    """Calls SMAPI for one developer account; safe to share between threads."""

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
        tracking = json_object(payload.get("reviewTrackingInfo"))
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
        return manifest_endpoints(self.stage_manifest(skill_id, "live").manifest)

    def stage_manifest(self, skill_id: str, stage: str) -> StageManifest:
        """A stage's manifest (``development``, ``certification`` or ``live``) and its ETag.

        >>> client.stage_manifest("amzn1.ask.skill.1234", "development").etag
        '"6d0f2b1c"'
        """
        answer = self._call(
            "GET",
            f"/v1/skills/{_segment(skill_id)}/stages/{_segment(stage)}/manifest",
            action=f"read the {stage} manifest of skill {skill_id}",
            expect=(200,),
            hint_404=_STAGE_HINTS.get(stage, ""),
        )
        payload = _expect_object(answer, f"the {stage} manifest of skill {skill_id}")
        return StageManifest(
            stage=stage,
            manifest=json_object(payload.get("manifest")),
            etag=answer.headers.get("etag"),
        )

    def update_manifest(
        self, skill_id: str, stage: str, manifest: dict[str, Any], etag: str | None
    ) -> None:
        """Replace a stage's manifest, only if it is still the one read with ``etag``.

        The update is built asynchronously: follow it with :meth:`manifest_build`. A
        manifest changed meanwhile (HTTP 412) raises :class:`StalePlan`.

        >>> client.update_manifest("amzn1.ask.skill.1234", "development", manifest, etag)
        """
        answer = self._call(
            "PUT",
            f"/v1/skills/{_segment(skill_id)}/stages/{_segment(stage)}/manifest",
            action=f"update the {stage} manifest of skill {skill_id}",
            body={"manifest": manifest},
            headers={"If-Match": etag} if etag else None,
            expect=(200, 202, 204, 412),
            hint_400=(
                "SMAPI rejected the manifest; fix what it names in the Alexa developer "
                "console (Build → Endpoint), then try again."
            ),
        )
        if answer.status == 412:
            raise StalePlan(
                f"The {stage} manifest of skill {skill_id} was changed by someone else "
                "after the bot read it.",
                hint="Read it again and repeat the change.",
            )

    def manifest_build(self, skill_id: str) -> ManifestBuild:
        """The outcome of the latest manifest update of the skill.

        >>> client.manifest_build("amzn1.ask.skill.1234").status
        'SUCCEEDED'
        """
        answer = self._call(
            "GET",
            f"/v1/skills/{_segment(skill_id)}/status?resource=manifest",
            action=f"read the manifest build status of skill {skill_id}",
            expect=(200,),
        )
        payload = _expect_object(answer, f"the manifest build status of skill {skill_id}")
        request = json_object(json_object(payload.get("manifest")).get("lastUpdateRequest"))
        errors = tuple(
            self._clean(str(json_object(e).get("message") or json_object(e).get("code") or e))
            for e in request.get("errors") or []
        )
        return ManifestBuild(status=str(request.get("status") or "UNKNOWN"), errors=errors)

    # -- SMAPI plumbing ---------------------------------------------------------------------


# -- parsing helpers ------------------------------------------------------------------------


def _segment(value: str) -> str:
    """A path segment: a skill id can never add path components."""
    return quote(value, safe="")


def _expect_object(answer: Answer, what: str) -> dict[str, Any]:
    if not isinstance(answer.payload, dict):
        raise Unavailable(
            f"SMAPI answered with something other than a JSON object for {what} "
            f"(HTTP {answer.status}).",
            hint=RETRY_LATER_HINT,
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
    distribution = json_object(json_object(result).get("distributionInfo"))
    if not distribution:
        return None
    sentences: list[str] = []
    published = _countries(distribution.get("publishedCountries"))
    if published:
        sentences.append(f"Published in {', '.join(published)}.")
    failures: Iterable[Any] = distribution.get("publicationFailures") or []
    for failure in failures:
        countries = _countries(json_object(failure).get("countries"))
        reason = json_object(failure).get("reason")
        where = f" in {', '.join(countries)}" if countries else ""
        because = f": {reason}" if isinstance(reason, str) and reason else ""
        sentences.append(f"Not published{where}{because}.")
    return " ".join(sentences) or None
