"""What Alexa calls, per alias and per stage: the endpoint of each alias (with or without
SMAPI), and with SMAPI the three steps that keep the stages calling the right alias:

- before a submission, the development stage is pointed at the candidate's endpoint and
  the manifest build is awaited (:meth:`StageEndpoints.repoint_development`);
- before a publication, the certification stage must call the candidate
  (:meth:`StageEndpoints.check_certification`);
- after it, the live stage must call the new live alias (:meth:`StageEndpoints.check_live`).

::

    book = EndpointBook(lambda_)
    book.endpoint(skill, "PROD2").uri        # 'arn:aws:lambda:…:function:trivia:PROD2'
    stages = StageEndpoints(smapi, book, Polling(build_timeout=120.0))
    stages.repoint_development(skill, "PROD2", live_alias="PROD1")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bot.domain.alexa import SkillEndpoints
from bot.domain.endpoints import (
    CONSOLE_URL,
    Endpoint,
    StageTarget,
    addresses_to_enter,
    describe_misplaced,
    manifest_endpoints,
    misplaced,
    name_endpoint,
    placement_endpoint,
    repointed,
    stage_target,
)
from bot.domain.errors import NotFound, Refused, SkillbotError, StalePlan, Unavailable
from bot.domain.model import Certification, Skill
from bot.domain.words import Button, Code, Icon, Link, Run, Typed, Words, words
from bot.ports import LambdaPort, SmapiPort

log = logging.getLogger(__name__)

CONSOLE_ENDPOINT: Words = (
    Link(CONSOLE_URL, "the Alexa developer console"),
    " under Build → Endpoint (the default and every region)",
)
SUBMIT = Button("Confirm and submit to Alexa")


class EndpointBook:
    """The endpoint Alexa must call for each alias of a skill (no SMAPI involved)."""

    def __init__(self, lambda_: LambdaPort) -> None:
        self.lambda_ = lambda_

    def endpoint(self, skill: Skill, alias: str) -> Endpoint:
        """What Alexa's default endpoint calls for ``alias``: the first placement's HTTPS
        endpoint (API Gateway variant), else its alias-qualified ARN."""
        return placement_endpoint(skill, skill.placements[0], alias, self.lambda_.alias_arn)

    def by_alias(self, skill: Skill) -> dict[str, Endpoint]:
        return {alias: self.endpoint(skill, alias) for alias in skill.aliases}

    def target(self, skill: Skill, alias: str) -> StageTarget:
        """What a stage must call for ``alias``, place by place."""
        return stage_target(skill, alias, self.lambda_.alias_arn)

    def targets(self, skill: Skill) -> dict[str, StageTarget]:
        """What a stage must call for each alias, place by place (the drift check's)."""
        return {alias: self.target(skill, alias) for alias in skill.aliases}

    def every_endpoint(self, skill: Skill) -> dict[str, Endpoint]:
        """Every endpoint of every alias (default and regional), to name what a stage
        calls in messages."""
        named: dict[str, Endpoint] = {}
        for alias in skill.aliases:
            target = self.target(skill, alias)
            named[alias] = target.default
            named.update({f"{alias} {region}": e for region, e in target.regional})
        return named

    def uri_or_none(self, skill: Skill, alias: str) -> str | None:
        """For views: the endpoint, or None when AWS cannot say right now."""
        try:
            return self.endpoint(skill, alias).uri
        except SkillbotError as err:
            log.warning("endpoint of %s %s unknown: %s", skill.name, alias, err)
            return None

    def plan_note(self, skill: Skill, alias: str, *, smapi: bool) -> Words:
        """What a certify plan says about the endpoint certification must call."""
        uri = self._described_or_none(skill, alias)
        if uri is None:
            return ()
        if smapi:
            return words(
                "• ",
                SUBMIT,
                " points the development stage (default and every region) at ",
                uri,
                ", waits for the manifest build, then submits; ",
                Button("Confirm"),
                " alone leaves Alexa as it is",
            )
        return words(
            "• for certification Alexa must call ",
            uri,
            ": enter it in ",
            CONSOLE_ENDPOINT,
            " before you submit",
        )

    def certification_line(self, cert: Certification, skill: Skill, *, smapi: bool) -> Words | None:
        """The certification message's line naming the endpoint certification calls."""
        uri = self._described_or_none(skill, cert.alias)
        if uri is None:
            return None
        if smapi:
            return words("Certification must call ", uri)
        return words(
            "Endpoint for certification: ",
            uri,
            "; enter it in ",
            CONSOLE_ENDPOINT,
            " before submitting",
        )

    def _described_or_none(self, skill: Skill, alias: str) -> Words | None:
        try:
            return self.target(skill, alias).described()
        except SkillbotError as err:
            log.warning("endpoint of %s %s unknown: %s", skill.name, alias, err)
            return None


@dataclass(frozen=True)
class Polling:
    """How long to wait for SMAPI's asynchronous work, and how: polls start after
    ``first`` seconds and double up to ``longest``. Tests pass their own ``sleep`` and
    ``monotonic`` to wait without sleeping."""

    build_timeout: float = 120.0  # the manifest build after re-pointing
    live_timeout: float = 60.0  # the live stage after a publication
    first: float = 0.5
    longest: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def tries(self, timeout: float) -> Iterator[None]:
        """One step per try, with a growing pause between tries, until ``timeout``
        seconds would pass before the next one::

            for _ in polling.tries(60):
                if done():
                    break
        """
        deadline = self.monotonic() + timeout
        delay = self.first
        while True:
            yield
            if self.monotonic() + delay > deadline:
                return
            self.sleep(delay)
            delay = min(delay * 2, self.longest)


@dataclass(eq=False)
class StageEndpoints:
    """The stages' endpoints through SMAPI: re-point, guard, check."""

    smapi: SmapiPort
    book: EndpointBook
    polling: Polling = field(default_factory=Polling)

    # -- before submitting ---------------------------------------------------------------
    def repoint_development(self, skill: Skill, alias: str, *, live_alias: str) -> Words:
        """Point every endpoint of the development stage at ``alias`` and wait for the
        manifest build; returns what was done. Raises when the stage cannot be made to
        call it (then nothing may be submitted)."""
        target = self.book.target(skill, alias)
        by_alias = self.book.every_endpoint(skill)
        for attempt in (1, 2):
            stage = self.smapi.stage_manifest(skill.alexa_skill_id, "development")
            try:
                edited = repointed(stage.manifest, target)
            except ValueError:
                raise Refused(
                    "The development stage of the skill has no custom API endpoint "
                    "(manifest.apis.custom), so it cannot be pointed at the candidate.",
                    hint=words(
                        "Check alexa_skill_id in the skills file; set the endpoint ",
                        Code(target.uri),
                        " in ",
                        CONSOLE_ENDPOINT,
                        ", then submit there.",
                    ),
                ) from None
            if edited is None:
                return words("The development stage already calls ", target.described(), ".")
            calls = manifest_endpoints(stage.manifest)
            wrong = misplaced(calls, target)
            added = [f"region {r} had none" for r, _ in target.regional if r not in calls.regional]
            name = lambda uri: name_endpoint(uri, by_alias, live_alias)  # noqa: E731
            before: Words = describe_misplaced(wrong, name, before=True)
            for more in added:
                before = words(before, "; " if before else None, more)
            before = before or ("its certificate type differed",)
            try:
                self.smapi.update_manifest(skill.alexa_skill_id, "development", edited, stage.etag)
                break
            except StalePlan:
                if attempt == 2:
                    raise Refused(
                        "The development manifest was changed by someone else twice while "
                        "the bot was pointing it at the candidate.",
                        hint=words(
                            "Let the other edit finish, then set ",
                            Code(target.uri),
                            " in ",
                            CONSOLE_ENDPOINT,
                            " and submit there (the bot tracks the review).",
                        ),
                    ) from None
                log.info("development manifest of %s changed meanwhile; reading it again", skill)
        self._wait_for_build(skill, target)
        return words(
            "Pointed the development stage at ",
            target.described(),
            ". Before, ",
            before,
            ". The manifest build succeeded.",
        )

    def _wait_for_build(self, skill: Skill, target: StageTarget) -> None:
        for _ in self.polling.tries(self.polling.build_timeout):
            build = self.smapi.manifest_build(skill.alexa_skill_id)
            if build.status == "SUCCEEDED":
                return
            if build.status == "FAILED":
                said = Typed("; ".join(build.errors)) if build.errors else "no reason given"
                raise Refused(
                    words(
                        "Alexa could not build the development manifest with the endpoint ",
                        Code(target.uri),
                        ": ",
                        said,
                        ".",
                    ),
                    hint=words(
                        "Fix what Alexa names in ",
                        CONSOLE_ENDPOINT,
                        f" (for an ARN: the Alexa trigger on {target.alias}, ",
                        Run("doctor", skill.name),
                        "), then submit there; the bot tracks the review.",
                    ),
                )
        raise Unavailable(
            words(
                "The manifest build with the endpoint ",
                Code(target.uri),
                f" did not finish within {self.polling.build_timeout:.0f} s (last status "
                f"{build.status}).",
            ),
            hint=words(
                "Check the build in ",
                CONSOLE_ENDPOINT,
                "; once it shows ",
                Code(target.uri),
                ", submit there (the bot tracks the review).",
            ),
        )

    # -- before publishing ---------------------------------------------------------------
    def check_certification(self, skill: Skill, cert: Certification, *, live_alias: str) -> None:
        """Refuse unless every endpoint of the certification stage calls the candidate
        (each region its own region's); the refusal names, per wrong place, the address
        that place must call."""
        target = self.book.target(skill, cert.alias)
        stage = self.smapi.stage_manifest(skill.alexa_skill_id, "certification")
        certified = manifest_endpoints(stage.manifest)
        wrong = misplaced(certified, target)
        if not wrong:
            return
        names = self.book.every_endpoint(skill)
        what = describe_misplaced(wrong, lambda uri: name_endpoint(uri, names, live_alias))
        enter = addresses_to_enter(certified, target)
        raise Refused(
            words(
                "Not published: in the version Alexa certified, ",
                what,
                ". Publishing it would make those places of the live skill call something "
                f"other than their own {cert.alias}, while skillbot would record "
                f"{cert.alias} as live. Nothing was published; the roles are unchanged.",
            ),
            hint=words(
                "Cancel (",
                Run("cancel", skill.name),
                ") and certify again with ",
                SUBMIT,
                ", which points the development stage at ",
                target.described(),
                "; or enter ",
                enter,
                " in ",
                CONSOLE_ENDPOINT,
                " and submit again there.",
            ),
        )

    # -- after publishing ------------------------------------------------------------------
    def check_live(self, skill: Skill, alias: str, *, previous_live: str) -> Words | None:
        """After a publication: None when the live stage calls ``alias``, else the alert.

        The live stage changes once the publication is processed, so it is read again
        for a while before anything is said."""
        target = self.book.target(skill, alias)
        for _ in self.polling.tries(self.polling.live_timeout):
            try:
                live = self.smapi.live_endpoints(skill.alexa_skill_id)
            except SkillbotError as err:
                return words(
                    Icon("rotating_light"),
                    "Published, but the live stage could not be read to check that it calls "
                    f"{alias}: ",
                    err.said,
                    " Run ",
                    Run("doctor", skill.name),
                    " to check it.",
                )
            wrong = misplaced(live, target)
            if not wrong:
                return None
        names = self.book.every_endpoint(skill)
        what = describe_misplaced(wrong, lambda uri: name_endpoint(uri, names, previous_live))
        return words(
            Icon("rotating_light"),
            "After publishing, in the live skill ",
            what,
            f"; {alias} is now recorded as live, so there the live skill does not run the "
            "certified code. Enter ",
            addresses_to_enter(live, target),
            " in ",
            CONSOLE_ENDPOINT,
            ", certify and publish it; ",
            Run("doctor", skill.name),
            " reports this until it is fixed.",
        )

    # -- drift -------------------------------------------------------------------------------
    def live_stage(self, skill: Skill) -> SkillEndpoints | None:
        """The live stage's endpoints, place by place (the default and each region's);
        None when the skill was never published."""
        try:
            return self.smapi.live_endpoints(skill.alexa_skill_id)
        except NotFound:
            return None
