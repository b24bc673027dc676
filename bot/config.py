"""The only place that reads the environment and the skills file (SPEC §5).

Environment variables (and a ``.env`` file when present) are read by pydantic-settings;
the skills file is TOML validated by pydantic models. Anything wrong raises
:class:`ConfigError` naming the file or variable, the key and the problem::

    settings = load_settings()            # os.environ + .env (its AWS_* exported for boto3)
    skills = load_skills_file(settings.skillbot_config)
    settings, skills = load_for_start("all")   # both, or one error naming every problem
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, MutableMapping
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
from pydantic_settings.sources import DotEnvSettingsSource

from bot.domain.canary import CanaryRules
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
    promote_reaction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_+'-]+$")] = (
        "white_check_mark"
    )
    #: the person who started a certification cannot promote it
    four_eyes: bool = True
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


def export_aws_settings(
    env_file: str | Path | None, environ: MutableMapping[str, str] | None = None
) -> list[str]:
    """Copy the ``AWS_*`` entries of ``env_file`` into the process environment, where
    boto3 reads them (it never reads ``.env``); what the environment sets already wins.
    Returns the names copied."""
    if env_file is None or not Path(env_file).is_file():
        return []
    target = os.environ if environ is None else environ
    values = DotEnvSettingsSource(Settings, env_file=env_file, case_sensitive=True).env_vars
    copied = []
    for name, value in values.items():
        key = name.upper()
        if key.startswith("AWS_") and value is not None and key not in target:
            target[key] = value
            copied.append(key)
    return copied


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the environment (and ``env_file`` if it exists, exporting its ``AWS_*``
    entries for boto3); raise :class:`ConfigError`."""
    export_aws_settings(env_file)
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"Bad environment: {problems}.", hint=ENV_HINT) from None


# -- a start: every problem at once ---------------------------------------------------------

#: the Slack ids of skillbot.example.toml: the local stand-ins' people and channels, which
#: no real workspace has, so with Slack's own API they mean the example was not filled in
EXAMPLE_IDS = frozenset({"U0ALICE", "U0BOB", "U0CAROL", "C0ANNOUNCE", "C0TRIVIA"})
EXAMPLE_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
START_HINT = ENV_HINT + " skillbot.example.toml describes the skills file."
_DOTENV = ".env or the environment"


def _placeholder(value: str | None) -> bool:
    # .env.example's placeholders end in "..." (xoxb-..., xapp-..., Atzr|...)
    return value is not None and "..." in value


def talks_to_slack_itself(settings: Settings) -> bool:
    host = urlsplit(settings.slack_api_url).hostname or ""
    return host == "slack.com" or host.endswith(".slack.com")


def settings_problems(settings: Settings, role: str) -> list[str]:
    """Every required variable the role lacks and every placeholder left in place."""
    problems = []
    token = settings.slack_bot_token
    if not token:
        problems.append(
            f"SLACK_BOT_TOKEN is missing: set it in {_DOTENV} (the Slack app's OAuth & "
            "Permissions page, Bot User OAuth Token, xoxb-…)."
        )
    elif _placeholder(token):
        problems.append(
            f"SLACK_BOT_TOKEN in {_DOTENV} is still .env.example's placeholder {token!r}: "
            "replace it with the Bot User OAuth Token (the app's OAuth & Permissions page)."
        )
    if role != "scheduler":
        if settings.socket_mode:
            app_token = settings.slack_app_token or ""
            if _placeholder(app_token) or not app_token.startswith("xapp-"):
                problems.append(
                    f"SLACK_APP_TOKEN in {_DOTENV} must be an app-level token starting with "
                    "xapp- (the app's Basic Information > App-Level Tokens, scope "
                    "connections:write); unset it to use HTTP mode."
                )
        elif not settings.slack_signing_secret:
            problems.append(
                f"SLACK_SIGNING_SECRET is missing (HTTP mode needs it): set it in {_DOTENV} "
                "from the app's Basic Information > App Credentials, or set SLACK_APP_TOKEN "
                "for Socket Mode."
            )
    for name in ("slack_signing_secret", *(f for f in Settings.model_fields if "alexa" in f)):
        if _placeholder(getattr(settings, name)):
            problems.append(
                f"{name.upper()} in {_DOTENV} is still .env.example's placeholder: set the "
                "real value, or comment the line out."
            )
    return problems


def example_values(config: SkillsFile, source: str, *, slack_itself: bool) -> list[str]:
    """The example file's values still in ``config``: the all-zero skill id always; its
    Slack ids only when the bot talks to Slack itself (the stand-ins know them)."""
    problems = [
        f"{source}: skills.{name}.alexa_skill_id is the example's all-zero id: set the "
        "skill's id (Alexa developer console > your skill > Copy Skill ID)."
        for name, entry in config.skills.items()
        if entry.alexa_skill_id == EXAMPLE_SKILL_ID
    ]
    if not slack_itself:
        return problems
    for key, ids in (("operators", config.operators), ("approvers", config.approvers)):
        if shown := [i for i in ids if i in EXAMPLE_IDS]:
            problems.append(
                f"{source}: {key} {', '.join(shown)}: the example's people, not members of "
                "your workspace; put their Slack member ids (a profile > ⋮ > Copy member ID)."
            )
    channels = {"announce_channel": config.announce_channel}
    channels |= {f"skills.{n}.channel": e.channel for n, e in config.skills.items() if e.channel}
    for key, channel in channels.items():
        if channel in EXAMPLE_IDS:
            problems.append(
                f"{source}: {key} {channel}: the example's channel; put your channel's id "
                "(the channel's details, at the bottom)."
            )
    return problems


def load_for_start(role: str, env_file: str | Path | None = ".env") -> tuple[Settings, SkillsFile]:
    """Settings and skills file for a start as ``role`` (all, web, scheduler), or one
    :class:`ConfigError` naming every problem with where to fix it."""
    try:
        settings = load_settings(env_file)
    except ConfigError as err:
        raise ConfigError(err.message, hint=START_HINT) from None
    problems = settings_problems(settings, role)
    config: SkillsFile | None = None
    try:
        config = load_skills_file(settings.skillbot_config)
    except ConfigError as err:
        problems.append(f"{err.message} {err.hint}")
    else:
        problems += example_values(
            config, settings.skillbot_config, slack_itself=talks_to_slack_itself(settings)
        )
    if problems or config is None:
        if len(problems) == 1:
            raise ConfigError(problems[0], hint=START_HINT)
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{len(problems)} problems:\n{listed}", hint=START_HINT)
    return settings, config
