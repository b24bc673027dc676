"""What a start checks with Slack and AWS before it says ready, and just after.

What the standard AWS chain lacks on this machine (no region, no credentials) is found
without calling AWS, so a first start names it beside every other setting
(:func:`aws_problems`). Slack's ``auth.test`` and STS's ``GetCallerIdentity`` (which
needs no permission) run before ready; a failure is a :class:`StartupFailure` with one
line to show and the command line's exit code (2: the token or credentials are wrong, 3:
the service did not answer). The configured functions are checked after ready, in the
background::

    slack = check_slack(settings.slack_bot_token, settings.slack_api_url)
    aws = check_aws(settings.aws_region)
    log.info(connections_line(settings, "all", slack, aws))
    FunctionCheck(lambda_, skills, aws).start()
"""

from __future__ import annotations

import logging
import threading
import urllib.error
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.adapters.aws_errors import CREDENTIALS_REFUSED, refused_credentials
from bot.adapters.lambda_aws import lambda_client_config
from bot.config import Settings
from bot.domain.errors import NotFound, SkillbotError
from bot.domain.locations import function_location
from bot.domain.model import Skill

log = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3

#: auth.test errors that mean the token itself is wrong, not that Slack is down
SLACK_TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "no_permission",
        "ekm_access_denied",
    }
)
NO_CREDENTIALS_HINT = (
    "Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in .env or the "
    "environment, or run the bot on a role (instance, task or pod)."
)
NO_REGION_HINT = (
    "Set AWS_REGION in .env or the environment (or AWS_DEFAULT_REGION, or a region in your "
    "AWS profile)."
)
PROFILE_HINT = (
    "Set AWS_PROFILE to a profile of ~/.aws/config (`aws configure list-profiles`), or unset it."
)


class StartupFailure(Exception):
    """The start cannot go on: ``message`` and ``hint`` for a person, ``exit_code`` for
    scripts (2 configuration, 3 unavailable)."""

    def __init__(self, message: str, hint: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot token is, as ``auth.test`` says."""

    api_url: str
    team: str
    bot: str
    bot_user_id: str


@dataclass(frozen=True)
class AwsIdentity:
    """Where AWS calls go and as whom; never the secret."""

    account: str
    region: str
    endpoint: str
    credentials: str  # botocore's name for where the credentials came from


def check_slack(token: str | None, api_url: str, *, timeout: int = 10) -> SlackIdentity:
    """``auth.test`` once, without retries; :class:`StartupFailure` when it fails."""
    # our one line replaces slack_sdk's own error log of a failed call
    quiet = logging.getLogger(f"{__name__}.auth_test")
    quiet.setLevel(logging.CRITICAL)
    client = WebClient(token=token, base_url=api_url, timeout=timeout, logger=quiet)
    try:
        resp = client.auth_test()
    except SlackApiError as err:
        error = str(err.response.get("error", "") or "")
        status = err.response.status_code
        if error in SLACK_TOKEN_REFUSED:
            raise StartupFailure(
                f"Slack refused SLACK_BOT_TOKEN ({error}).",
                "Copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions "
                "page into .env or the environment; reinstall the app if it was revoked.",
                EXIT_CONFIG,
            ) from None
        if status in (400, 404, 405):
            raise StartupFailure(
                f"SLACK_API_URL {api_url} does not look like the Slack Web API "
                f"(auth.test answered HTTP {status}).",
                "Leave SLACK_API_URL unset for Slack itself, or point it at the Web API's "
                "base URL, ending in /api/.",
                EXIT_CONFIG,
            ) from None
        raise StartupFailure(
            f"Slack's API at {api_url} failed auth.test (HTTP {status}, {error[:120]}).",
            "Slack may be having trouble (status.slack.com); start again in a minute.",
            EXIT_UNAVAILABLE,
        ) from None
    except (urllib.error.URLError, OSError, SlackClientError) as err:
        reason = getattr(err, "reason", None) or err
        raise StartupFailure(
            f"Slack's API at {api_url} did not answer ({reason}).",
            "Check the network, a proxy, and SLACK_API_URL (unset means Slack itself); "
            "start again once it answers.",
            EXIT_UNAVAILABLE,
        ) from None
    return SlackIdentity(
        api_url=api_url,
        team=str(resp.get("team", "")),
        bot=str(resp.get("user", "")),
        bot_user_id=str(resp.get("user_id", "")),
    )


def aws_problems(region: str | None) -> list[str]:
    """What the standard AWS chain (the environment, ``.env``'s ``AWS_*``, a profile, a
    role) lacks for ``region``, found without calling AWS, each with what to do. A start
    names them beside every other problem::

        settings, config = load_for_start("all", aws_problems=aws_problems)
    """
    _session, _credentials, lacking = standard_chain(region)
    return [f"{failure.message} {failure.hint}" for failure in lacking]


def standard_chain(region: str | None) -> tuple[Any, Any, list[StartupFailure]]:
    """boto3's session for ``region``, its credentials, and what it lacks: a profile that
    does not exist, a region, credentials (or half of a key pair)."""
    import boto3

    try:
        session = boto3.session.Session(region_name=region)
    except ProfileNotFound as err:
        failure = StartupFailure(
            f"The AWS profile is not configured: {err}.", PROFILE_HINT, EXIT_CONFIG
        )
        return None, None, [failure]
    lacking = []
    if session.region_name is None:
        lacking.append(StartupFailure("No AWS region is configured.", NO_REGION_HINT, EXIT_CONFIG))
    credentials = None
    try:
        credentials = session.get_credentials()
    except PartialCredentialsError as err:
        lacking.append(
            StartupFailure(f"No usable AWS credentials: {err}.", NO_CREDENTIALS_HINT, EXIT_CONFIG)
        )
    else:
        if credentials is None:
            lacking.append(
                StartupFailure("No AWS credentials found.", NO_CREDENTIALS_HINT, EXIT_CONFIG)
            )
    return session, credentials, lacking


def check_aws(region: str | None) -> AwsIdentity:
    """The standard credential chain, ``AWS_ENDPOINT_URL`` and the region, as the Lambda
    client sees them, proved by ``sts:GetCallerIdentity``."""
    session, credentials, lacking = standard_chain(region)
    if lacking:  # a start has named them all already (aws_problems)
        raise lacking[0]
    try:
        sts = session.client("sts", config=lambda_client_config(max_attempts=2, timeout=5.0))
    except NoRegionError:
        raise StartupFailure("No AWS region is configured.", NO_REGION_HINT, EXIT_CONFIG) from None
    return ask_sts(sts, credentials.method)


def ask_sts(sts: Any, credentials: str) -> AwsIdentity:
    """GetCallerIdentity on ``sts``; every failure is a :class:`StartupFailure`."""
    endpoint = str(sts.meta.endpoint_url)
    try:
        account = str(sts.get_caller_identity()["Account"])
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = str(err.response.get("Error", {}).get("Message", ""))
        if code in CREDENTIALS_REFUSED:
            refused = refused_credentials(code, message, f"GetCallerIdentity at {endpoint}")
            raise StartupFailure(refused.message, refused.hint, EXIT_CONFIG) from None
        raise StartupFailure(
            f"AWS STS at {endpoint} failed GetCallerIdentity: {code} {message}".rstrip(),
            "Check AWS_ENDPOINT_URL and AWS_REGION; start again in a minute.",
            EXIT_UNAVAILABLE,
        ) from None
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise StartupFailure(f"No usable AWS credentials: {err}.", NO_CREDENTIALS_HINT, 2) from None
    except (SSOError, TokenRetrievalError, CredentialRetrievalError) as err:
        raise StartupFailure(
            f"The AWS credentials ({credentials}) could not be obtained: {err}.",
            "For an SSO profile run `aws sso login --profile NAME`; for a role, check that "
            "the bot may assume it.",
            EXIT_CONFIG,
        ) from None
    except (BotoConnectionError, ReadTimeoutError) as err:
        raise StartupFailure(
            f"AWS at {endpoint} did not answer ({type(err).__name__}).",
            "Check the network, AWS_ENDPOINT_URL and AWS_REGION; start again once it answers.",
            EXIT_UNAVAILABLE,
        ) from None
    except BotoCoreError as err:
        raise StartupFailure(
            f"Calling AWS STS at {endpoint} failed: {err}.",
            "Check AWS_ENDPOINT_URL, AWS_REGION and the AWS settings of .env.",
            EXIT_UNAVAILABLE,
        ) from None
    return AwsIdentity(
        account=account,
        region=str(sts.meta.region_name),
        endpoint=endpoint,
        credentials=credentials,
    )


def database_shown(url: str) -> str:
    """``DATABASE_URL`` without its password.

    >>> database_shown("postgresql://bot:s3cret@db:5432/skillbot")
    'postgresql://bot:***@db:5432/skillbot'
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL fails later with its own message
        return url.split("@")[-1]


def connections_line(
    settings: Settings,
    role: str,
    slack: SlackIdentity | None,
    aws: AwsIdentity,
    lambda_endpoint: str | None = None,
) -> str:
    """One line saying where the bot talks to (no secret)."""
    who = f" as @{slack.bot} in {slack.team}" if slack is not None and slack.bot else ""
    if role == "scheduler":
        face = "scheduler only"
    elif settings.socket_mode:
        face = "Socket Mode"
    else:
        face = f"HTTP on port {settings.port}"
    return (
        f"talking to Slack {settings.slack_api_url}{who}; AWS region {aws.region}, endpoint "
        f"{lambda_endpoint or aws.endpoint}, credentials from {aws.credentials}, account "
        f"{aws.account}; database {database_shown(settings.database_url)}; {face}"
    )


class FunctionCheck:
    """After ready: does every configured function exist? A missing one is logged with
    where it was looked for; paced, so thousands of skills never crowd out real work."""

    #: missing functions logged one by one; beyond, a count
    LOGGED = 20

    def __init__(
        self,
        lambda_: Any,
        skills: Iterable[Skill],
        aws: AwsIdentity,
        *,
        per_second: float = 10.0,
    ) -> None:
        self.lambda_ = lambda_
        self.skills = list(skills)
        self.aws = aws
        self.interval = 1.0 / per_second
        self.stopped = threading.Event()
        self.missing: list[Skill] = []
        self._thread: threading.Thread | None = None

    def start(self) -> FunctionCheck:
        self._thread = threading.Thread(target=self.run, name="skillbot-functions", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> list[Skill]:
        for skill in self.skills:
            if self.stopped.is_set():
                return self.missing
            try:
                self.lambda_.get_latest(skill.placements[0].function)
            except NotFound:
                self._missing(skill)
            except SkillbotError as err:
                log.warning("could not check the configured functions: %s", err)
                return self.missing
            except Exception:
                log.exception("could not check the configured functions")
                return self.missing
            self.stopped.wait(self.interval)
        if len(self.missing) > self.LOGGED:
            log.warning(
                "%d configured functions were not found (%d shown above)",
                len(self.missing),
                self.LOGGED,
            )
        elif not self.missing:
            log.info("all %d configured functions exist", len(self.skills))
        return self.missing

    def _missing(self, skill: Skill) -> None:
        self.missing.append(skill)
        if len(self.missing) > self.LOGGED:
            return
        where = function_location(skill.placements[0].function, self.aws.region, self.aws.account)
        log.warning(
            "skill %s: Lambda function %s not found %s; check skills.%s.function in the "
            "skills file, AWS_REGION and the credentials' account (doctor %s says the same)",
            skill.name,
            skill.placements[0].function,
            where,
            skill.name,
            skill.name,
        )
