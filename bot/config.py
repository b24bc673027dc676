"""The only place that reads the environment and the skills file (SPEC §5).

Environment variables (and a ``.env`` file when present) are read by pydantic-settings;
the skills file is TOML validated by pydantic models. Anything wrong raises
:class:`ConfigError` naming the file or variable, the key and the problem::

    settings = load_settings()            # os.environ + .env
    skills = load_skills_file(settings.skillbot_config)
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import actors
from bot.domain.endpoints import parse_execute_api_url
from bot.domain.errors import ConfigError
from bot.domain.model import Skill
from bot.schedules import ReminderSchedule

ENV_HINT = "See .env.example for every variable, and manifest.yml to create the Slack app."

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,}$")]
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
    #: the API Gateway variant: what Alexa calls for each alias, instead of its ARN
    endpoints: dict[str, str] | None = None
    ssl_certificate_type: Literal["Wildcard", "Trusted", "SelfSigned"] | None = None

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
    #: the person who started a certification cannot promote it
    four_eyes: bool = True
    timezone: str = "UTC"  # before reminder_schedule: its validator reads it
    reminder_schedule: str = "0 10 * * MON-FRI"
    skills: dict[SkillName, SkillEntry] = Field(min_length=1)

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
    def _skill_schedules(self) -> SkillsFile:
        for name, entry in self.skills.items():
            if entry.reminder_schedule is not None:
                try:
                    validate_schedule(entry.reminder_schedule, self.timezone)
                except ValueError as err:
                    raise ValueError(f"skills.{name}.reminder_schedule: {err}") from None
        return self

    def to_skills(self) -> dict[str, Skill]:
        return {
            name: Skill(
                name=name,
                function=entry.function,
                alexa_skill_id=entry.alexa_skill_id,
                aliases=entry.aliases,
                initial_live_alias=entry.live_alias or entry.aliases[0],
                channel=entry.channel or self.announce_channel,
                reminder_schedule=entry.reminder_schedule,
                endpoints=dict(entry.endpoints or {}),
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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: the skills file does not exist.",
            hint="Copy skillbot.example.toml to skillbot.toml, or set SKILLBOT_CONFIG.",
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}.", hint="Fix the syntax.") from None
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


class Settings(BaseSettings):
    """Secrets and deployment settings from the environment (and ``.env``)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    database_url: str = "sqlite:///skillbot.db"
    skillbot_config: str = "skillbot.toml"
    alexa_lwa_client_id: str | None = None
    alexa_lwa_client_secret: str | None = None
    alexa_lwa_refresh_token: str | None = None
    alexa_smapi_url: str = "https://api.amazonalexa.com"
    alexa_lwa_token_url: str = "https://api.amazon.com/auth/o2/token"
    log_level: str = "INFO"
    # AWS_REGION is honoured even where the SDK only reads AWS_DEFAULT_REGION
    aws_region: str | None = None
    #: who the command line acts as: a Slack user id, or a pipeline identity
    skillbot_actor: str | None = None

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def smapi_enabled(self) -> bool:
        return bool(
            self.alexa_lwa_client_id
            and self.alexa_lwa_client_secret
            and self.alexa_lwa_refresh_token
        )

    def require_slack(self) -> None:
        """Name every variable the chosen mode needs and lacks."""
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if self.socket_mode:
            if not (self.slack_app_token or "").startswith("xapp-"):
                raise ConfigError(
                    "SLACK_APP_TOKEN must be an app-level token starting with xapp-.",
                    hint=ENV_HINT,
                )
        elif not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET (needed in HTTP mode; or set SLACK_APP_TOKEN)")
        if missing:
            raise ConfigError(
                "Missing environment variables: " + ", ".join(missing) + ".", hint=ENV_HINT
            )


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the environment (and ``env_file`` if it exists); raise :class:`ConfigError`."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"Bad environment: {problems}.", hint=ENV_HINT) from None


@dataclass(frozen=True)
class PipelineRun:
    """The CD pipeline this process runs in: its identity and a link to the run."""

    identity: str
    run_url: str | None
    #: the person or event that started the run, when the pipeline says
    started_by: str | None = None


def pipeline_run(environ: Mapping[str, str] | None = None) -> PipelineRun | None:
    """The pipeline of the environment, if any: GitHub Actions (``GITHUB_ACTOR``,
    ``GITHUB_RUN_ID``, ``GITHUB_REPOSITORY``, ``GITHUB_SERVER_URL``) or AWS CodeBuild
    (``CODEBUILD_BUILD_ARN``, ``CODEBUILD_BUILD_URL``). Read from the process only: a
    ``.env`` file never makes a terminal pass for a pipeline.

    >>> pipeline_run({"GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "42",
    ...               "GITHUB_REPOSITORY": "acme/trivia"}).run_url
    'https://github.com/acme/trivia/actions/runs/42'
    """
    env = os.environ if environ is None else environ
    repository, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    if env.get("GITHUB_ACTOR") and repository and run_id:
        server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
        return PipelineRun(
            actors.github_identity(repository),
            f"{server}/{repository}/actions/runs/{run_id}",
            env["GITHUB_ACTOR"],
        )
    build_arn = env.get("CODEBUILD_BUILD_ARN")
    if build_arn:
        return PipelineRun(
            actors.codebuild_identity(build_arn),
            env.get("CODEBUILD_BUILD_URL") or None,
            env.get("CODEBUILD_INITIATOR") or None,
        )
    return None
