"""Secrets and deployment settings from the environment and ``.env`` (pydantic-settings),
and the CD pipeline a command line runs in."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import DotEnvSettingsSource

from bot.domain import actors
from bot.domain.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
AWS_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
ENV_HINT = "See .env.example for every variable, and manifest.yml to create the Slack app."


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

    @field_validator("slack_api_url", "alexa_smapi_url", "alexa_lwa_token_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s):// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("aws_region")
    @classmethod
    def _aws_region(cls, value: str | None) -> str | None:
        if value and not AWS_REGION.fullmatch(value):
            raise ValueError(f"{value!r} is not an AWS region like 'eu-west-1'")
        return value or None

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
            "{}: {}".format(
                ".".join(str(p) for p in e["loc"]).upper(),
                str(e["msg"]).removeprefix("Value error, "),
            )
            for e in err.errors()
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
