"""The skills file (TOML), validated by pydantic models: a wrong key names the file, the
key and the problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:  # the compiled parser reads a large skills file 2× faster than the standard library's
    import tomli as toml
except ImportError:  # pragma: no cover - the same parser, pure Python, in the standard library
    import tomllib as toml  # type: ignore[no-redef]

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.domain import actors
from bot.domain.canary import CanaryRules
from bot.domain.endpoints import parse_execute_api_url
from bot.domain.errors import ConfigError
from bot.domain.freeze import FreezeWindow
from bot.domain.model import Placement, Skill
from bot.schedules import ReminderSchedule, parse_duration

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,}$")]
#: Alexa's endpoint regions (``manifest.apis.custom.regions``)
ALEXA_REGIONS = ("NA", "EU", "FE")
FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
)
SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


def validate_schedule(text: str, timezone: str) -> str:
    """A duration or a 5-field cron expression that fires (see :mod:`bot.schedules`)."""
    ReminderSchedule.parse(text, timezone)
    return text


class SkillEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function: Annotated[str, StringConstraints(min_length=1, max_length=170)]
    alexa_skill_id: Annotated[str, StringConstraints(pattern=r"^amzn1\.ask\.skill\.[0-9a-f-]+$")]
    aliases: tuple[str, str] = ("PROD1", "PROD2")
    live_alias: str | None = None
    channel: SlackId | None = None
    reminder_schedule: str | None = None
    #: freeze windows of this skill alone, instead of the file's
    freeze: list[str] | None = None
    #: the API Gateway variant: what Alexa calls for each alias, instead of its ARN
    endpoints: dict[str, str] | None = None
    ssl_certificate_type: Literal["Wildcard", "Trusted", "SelfSigned"] | None = None
    #: Alexa's regional endpoints served by functions in other AWS regions (full ARNs)
    regional_functions: dict[str, str] | None = None
    #: the API Gateway variant per Alexa region: {region: {alias: URL}}
    regional_endpoints: dict[str, dict[str, str]] | None = None

    def placements(self) -> tuple[Placement, ...]:
        """``function`` first (Alexa's default endpoint: ``NA`` unless NA has a function of
        its own, then ``default``), then each regional function, by region."""
        regional = sorted((self.regional_functions or {}).items())
        urls = self.regional_endpoints or {}
        first = "default" if "NA" in dict(regional) else "NA"
        return (
            Placement(first, self.function, tuple(sorted((self.endpoints or {}).items()))),
            *(Placement(r, f, tuple(sorted(urls.get(r, {}).items()))) for r, f in regional),
        )

    @field_validator("freeze")
    @classmethod
    def _own_freeze(cls, value: list[str] | None) -> list[str] | None:
        for text in value or ():
            FreezeWindow.parse(text)
        return value

    @field_validator("regional_functions")
    @classmethod
    def _regional_arns(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for region, arn in (value or {}).items():
            if region not in ALEXA_REGIONS:
                raise ValueError(
                    f"{region!r} is not an Alexa endpoint region: use {', '.join(ALEXA_REGIONS)}"
                )
            if not FUNCTION_ARN.fullmatch(arn):
                raise ValueError(
                    f"{region} = {arn!r} is not a function ARN like "
                    "'arn:aws:lambda:eu-west-1:123456789012:function:trivia' (the AWS region "
                    "is read from it; no alias or version qualifier)"
                )
        arns = list((value or {}).values())
        if len(set(arns)) != len(arns):
            raise ValueError("each region needs its own function: an ARN is listed twice")
        return value

    @model_validator(mode="after")
    def _regions_apart(self) -> SkillEntry:
        regional = self.regional_functions or {}
        if self.function in regional.values():
            raise ValueError(
                "regional_functions repeats `function`: list only the other regions' functions"
            )
        if self.regional_endpoints is None:
            return self
        if self.endpoints is None:
            raise ValueError("regional_endpoints needs endpoints (the default region's) too")
        for region, table in self.regional_endpoints.items():
            if region not in regional:
                raise ValueError(
                    f"regional_endpoints.{region}: {region} is not in regional_functions"
                )
            problem = endpoints_problem(table, self.aliases)
            if problem:
                raise ValueError(f"regional_endpoints.{region}: {problem}")
        return self

    @field_validator("aliases")
    @classmethod
    def _two_distinct(cls, value: tuple[str, str]) -> tuple[str, str]:
        for alias in value:
            if not re.fullmatch(r"(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}", alias):
                raise ValueError(f"{alias!r} is not a valid Lambda alias name")
        if value[0] == value[1]:
            raise ValueError("the two aliases must differ")
        return value

    @model_validator(mode="after")
    def _live_is_one_of_them(self) -> SkillEntry:
        if self.live_alias is not None and self.live_alias not in self.aliases:
            raise ValueError(
                f"live_alias {self.live_alias!r} is not one of aliases {list(self.aliases)}"
            )
        return self

    @model_validator(mode="after")
    def _endpoints_per_alias(self) -> SkillEntry:
        if self.endpoints is None:
            if self.ssl_certificate_type is not None:
                raise ValueError("ssl_certificate_type applies only together with endpoints")
            return self
        problem = endpoints_problem(self.endpoints, self.aliases)
        if problem:
            raise ValueError(f"endpoints: {problem}")
        on_execute_api = all(
            parse_execute_api_url(url) is not None for url in self.endpoints.values()
        )
        if self.ssl_certificate_type is None and not on_execute_api:
            raise ValueError(
                "ssl_certificate_type is required for endpoints outside execute-api "
                "(Wildcard, Trusted or SelfSigned, as in the Alexa developer console)"
            )
        return self


def endpoints_problem(endpoints: Mapping[str, str], aliases: tuple[str, str]) -> str | None:
    """What is wrong with a skill's ``endpoints`` table (None when nothing is)."""
    if set(endpoints) != set(aliases):
        return f"the keys must be the skill's two aliases {list(aliases)}, not {sorted(endpoints)}"
    for alias, url in endpoints.items():
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return f"{alias} = {url!r} is not an https:// URL"
    if len(set(endpoints.values())) != len(endpoints):
        return "the two aliases need two different URLs (one API Gateway endpoint each)"
    return None


class SkillsFile(BaseModel):
    """The TOML skills file (SPEC §5)."""

    model_config = ConfigDict(extra="forbid")

    announce_channel: SlackId
    operators: list[SlackId] = Field(min_length=1)
    approvers: list[SlackId] = Field(min_length=1)
    #: CD pipelines that may apply from the command line (``github:ORG/REPO``, …)
    pipelines: list[str] = Field(default_factory=list)
    promote_reaction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_+'-]+$")] = (
        "white_check_mark"
    )
    #: the person who started or confirmed a certification cannot promote it
    four_eyes: bool = True
    #: how many distinct approvers' yes a promotion needs
    approvals: int = Field(default=1, ge=1, le=20)
    #: false: a change from a terminal (not a listed CD pipeline) is always a --request
    terminal_apply: bool = True
    timezone: str = "UTC"  # before reminder_schedule: its validator reads it
    reminder_schedule: str = "0 10 * * MON-FRI"
    skills: dict[SkillName, SkillEntry] = Field(min_length=1)
    # canaries: abort when the new version's error rate exceeds the old one's by more
    # than this many points (with at least canary_min_invocations of the new version)
    canary_max_error_rate_increase: float = Field(default=1.0, ge=0, le=100)
    canary_min_invocations: int = Field(default=10, ge=1)
    canary_complete_without_traffic: bool = False
    #: seconds: CloudWatch's metric period (1, 5, 10, 30 or a multiple of 60)
    canary_period: int = 60
    #: how often the bot reads Alexa's certification review (with SMAPI), a duration
    alexa_poll_every: str = "5m"
    #: when no change is made: "Fri 16:00 - Mon 08:00", "2026-12-21 - 2027-01-04"
    freeze: list[str] = Field(default_factory=list)
    #: after every alias change, a chart of how it does at each of these delays ([]: none)
    health_report: list[str] = Field(default_factory=lambda: ["1h", "24h"], max_length=5)

    @field_validator("health_report")
    @classmethod
    def _report_delays(cls, value: list[str]) -> list[str]:
        for text in value:
            delay = parse_duration(text)
            if delay is None:
                raise ValueError(f"{text!r} is not a duration such as '1h' or '24h'")
            if delay > timedelta(days=14):  # CloudWatch keeps minute figures for 15 days
                raise ValueError(f"{text!r} is longer than 14 days (CloudWatch's minute data)")
        return value

    def health_report_delays(self) -> list[timedelta]:
        """``health_report`` as durations, shortest first, each once."""
        delays = {parse_duration(text) for text in self.health_report}
        return sorted(d for d in delays if d is not None)

    @field_validator("freeze")
    @classmethod
    def _freeze_windows(cls, value: list[str]) -> list[str]:
        for text in value:
            FreezeWindow.parse(text)
        return value

    @field_validator("alexa_poll_every")
    @classmethod
    def _poll_duration(cls, value: str) -> str:
        if parse_duration(value) is None:
            raise ValueError(f"{value!r} is not a duration such as '5m' or '30s'")
        return value

    def alexa_poll_seconds(self) -> float:
        """``alexa_poll_every`` in seconds."""
        every = parse_duration(self.alexa_poll_every)
        assert every is not None  # validated above
        return every.total_seconds()

    @field_validator("canary_period")
    @classmethod
    def _metric_period(cls, value: int) -> int:
        if value in (1, 5, 10, 30) or (value > 0 and value % 60 == 0):
            return value
        raise ValueError(f"{value} is not a CloudWatch period: use 1, 5, 10, 30 or 60, 120, …")

    def canary_rules(self) -> CanaryRules:
        return CanaryRules(
            max_error_rate_increase=self.canary_max_error_rate_increase,
            min_invocations=self.canary_min_invocations,
            complete_without_traffic=self.canary_complete_without_traffic,
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like 'Europe/Berlin'") from None
        return value

    @field_validator("pipelines")
    @classmethod
    def _pipeline_identities(cls, value: list[str]) -> list[str]:
        for identity in value:
            if not actors.is_pipeline(identity):
                raise ValueError(
                    f"{identity!r} is not a pipeline identity like 'github:ORG/REPO' or "
                    "'codebuild:PROJECT'"
                )
        return value

    @field_validator("reminder_schedule")
    @classmethod
    def _schedule(cls, value: str, info: ValidationInfo) -> str:
        return validate_schedule(value, info.data.get("timezone", "UTC"))

    @model_validator(mode="after")
    def _enough_approvers(self) -> SkillsFile:
        # with four eyes, whoever started or confirmed a certification is not counted
        if self.approvals > len(set(self.approvers)):
            raise ValueError(
                f"approvals: {self.approvals} approvals need as many approvers; "
                f"{len(set(self.approvers))} are listed"
            )
        return self

    @model_validator(mode="after")
    def _skill_schedules(self) -> SkillsFile:
        for name, entry in self.skills.items():
            if entry.reminder_schedule is not None:
                try:
                    validate_schedule(entry.reminder_schedule, self.timezone)
                except ValueError as err:
                    raise ValueError(f"skills.{name}.reminder_schedule: {err}") from None
        return self

    @model_validator(mode="after")
    def _one_skill_per_function(self) -> SkillsFile:
        # two skills on one function share its aliases: a hotfix of one would put the
        # other's uncertified candidate live, past both skills' locks and guards
        # by function name: only functions of one name are compared (10,000 skills in ms)
        seen: dict[str, list[tuple[str, str, str]]] = {}  # name → (region, account, skill)
        for name, entry in self.skills.items():
            for function in (entry.function, *(entry.regional_functions or {}).values()):
                parts = function.split(":")
                # a bare name is in the bot's own region and account, which an ARN may name
                fn, region, account = (
                    (parts[6], parts[3], parts[4])
                    if function.startswith("arn:") and len(parts) >= 7
                    else (function, "", "")
                )
                for other_region, other_account, other in seen.get(fn, ()):
                    apart = (region and other_region and region != other_region) or (
                        account and other_account and account != other_account
                    )
                    if other != name and not apart:
                        raise ValueError(
                            f"skills.{other} and skills.{name} both name the Lambda function "
                            f"{fn!r}: each skill needs functions of its own (their aliases "
                            "would be shared)"
                        )
                seen.setdefault(fn, []).append((region, account, name))
        return self

    def to_skills(self) -> dict[str, Skill]:
        return {
            name: Skill(
                name=name,
                placements=entry.placements(),
                alexa_skill_id=entry.alexa_skill_id,
                aliases=entry.aliases,
                initial_live_alias=entry.live_alias or entry.aliases[0],
                channel=entry.channel or self.announce_channel,
                reminder_schedule=entry.reminder_schedule,
                freeze=tuple(
                    FreezeWindow.parse(text)
                    for text in (self.freeze if entry.freeze is None else entry.freeze)
                ),
                ssl_certificate_type=(
                    entry.ssl_certificate_type or ("Wildcard" if entry.endpoints else None)
                ),
            )
            for name, entry in self.skills.items()
        }


def load_skills_file(path: str | Path) -> SkillsFile:
    """Read and validate the skills file; :class:`ConfigError` names file, key, problem."""
    path = Path(path)
    try:
        raw = toml.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: the skills file does not exist.",
            hint="Copy skillbot.example.toml to skillbot.toml, or set SKILLBOT_CONFIG.",
        ) from None
    except toml.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}.", hint="Fix the syntax.") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}).",
            hint="Save the skills file as UTF-8.",
        ) from None
    except OSError as err:  # a directory, no permission, …
        raise ConfigError(
            f"{path}: the skills file cannot be read: {err.strerror or err}.",
            hint="Point SKILLBOT_CONFIG at a readable TOML file (skillbot.example.toml shows one).",
        ) from None
    return parse_skills(raw, source=str(path))


def parse_skills(raw: Mapping[str, Any], source: str = "skills file") -> SkillsFile:
    try:
        return SkillsFile.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(_describe(e) for e in err.errors())
        raise ConfigError(
            f"{source}: {problems}.",
            hint="See skillbot.example.toml for every key with an example.",
        ) from None


def _describe(error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}"
