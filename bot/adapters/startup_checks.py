"""What a start checks with Slack and AWS before it says ready, and just after.

What the standard AWS chain lacks on this machine (no region, no credentials) is found
without calling AWS, so a first start names it beside every other setting
(:func:`aws_problems`). Slack's ``auth.test`` and STS's ``GetCallerIdentity`` (which
needs no permission) run before ready; a service that is briefly unavailable is tried
again (:class:`StartRetries`); a failure is a :class:`StartupFailure` with one line to
show and the command line's exit code (2: the token or credentials are wrong, 3: the
service did not answer). The configured functions are checked after ready, in the
background::

    retries = StartRetries()
    slack = check_slack(settings.slack_bot_token, settings.slack_api_url, retries)
    aws = check_aws(settings.aws_region, retries)
    log.info(connections_line(settings, "all", slack, aws))
    FunctionCheck(lambda_, skills, aws).start()
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
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
T = TypeVar("T")

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
#: auth.test errors of a Slack that is briefly in trouble (besides HTTP 429 and 5xx)
SLACK_BUSY = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
#: AWS error codes botocore's standard retry mode tries again (throttling, timeouts)
AWS_BUSY = OrRetryChecker([TransientRetryableChecker(), ThrottledRetryableChecker()])
NO_CREDENTIALS_HINT = (
    "Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in .env or the "
    "environment, or run the bot on a role (instance, task or pod)."
)
NO_REGION_HINT = (
    "Set AWS_REGION in .env or the environment (or AWS_DEFAULT_REGION, or a region in your "
    "AWS profile)."
)
PROFILE_HINT = (
    "Set AWS_PROFILE to a profile of ~/.aws/config (aws configure list-profiles), or unset it."
)


class StartupFailure(Exception):
    """The start cannot go on: ``message`` and ``hint`` for a person, ``exit_code`` for
    scripts (2 configuration, 3 unavailable); ``transient`` when the service was only
    briefly unavailable (throttling, HTTP 5xx, no connection, a timeout), so another try
    may succeed."""

    def __init__(self, message: str, hint: str, exit_code: int, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
        self.transient = transient


@dataclass(frozen=True)
class StartRetries:
    """How a start waits out a service that is briefly unavailable: each transient
    :class:`StartupFailure` is tried again after a pause that doubles from ``first`` up to
    ``longest`` seconds, drawn between half and all of it (replicas started together do
    not knock in step), until the next try would come more than ``budget`` seconds after
    the first; each retry is logged. Any other failure ends the tries at once, and so does
    :meth:`stop`. Tests pass their own ``sleep`` and ``monotonic`` to wait without
    sleeping::

        identity = StartRetries().run(lambda: ask_sts(sts, "env"))
    """

    budget: float = 30.0
    first: float = 0.5
    longest: float = 8.0
    #: None: wait on :attr:`stopped`, so :meth:`stop` cuts a pause short
    sleep: Callable[[float], object] | None = None
    monotonic: Callable[[], float] = time.monotonic
    stopped: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def stop(self) -> None:
        """No more tries: a check waiting to try again fails with its last failure."""
        self.stopped.set()

    def run(self, try_once: Callable[[], T]) -> T:
        """``try_once()``'s result, trying again while it fails transiently."""
        started = self.monotonic()
        pause, tries = self.first, 0
        while True:
            tries += 1
            try:
                return try_once()
            except StartupFailure as failure:
                if not failure.transient or self.stopped.is_set():
                    raise
                wait = random.uniform(pause / 2, pause)
                if self.monotonic() + wait - started > self.budget:
                    elapsed = self.monotonic() - started
                    raise StartupFailure(
                        f"{failure.message} Gave up after {tries} tries in {elapsed:.0f} s.",
                        failure.hint,
                        failure.exit_code,
                    ) from None
                log.warning(
                    "%s Trying again in %.1f s (try %d failed; the start gives up after %.0f s).",
                    failure.message,
                    wait,
                    tries,
                    self.budget,
                )
                (self.sleep or self.stopped.wait)(wait)
                if self.stopped.is_set():
                    raise
            pause = min(pause * 2, self.longest)


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


def check_slack(
    token: str | None, api_url: str, retries: StartRetries | None = None, *, timeout: int = 10
) -> SlackIdentity:
    """``auth.test``, tried again by ``retries`` while Slack is briefly unavailable;
    :class:`StartupFailure` when it fails."""
    # our one line replaces slack_sdk's own error log of a failed call
    quiet = logging.getLogger(f"{__name__}.auth_test")
    quiet.setLevel(logging.CRITICAL)
    # no retry handlers: ``retries`` is the one policy, and it logs each retry
    client = WebClient(
        token=token, base_url=api_url, timeout=timeout, logger=quiet, retry_handlers=[]
    )
    return (retries or StartRetries()).run(lambda: ask_slack(client, api_url))


def ask_slack(client: WebClient, api_url: str) -> SlackIdentity:
    """``auth.test`` once on ``client``; every failure is a :class:`StartupFailure`."""
    try:
        resp = client.auth_test()
    except SlackApiError as err:
        raise slack_refused(err, api_url) from None
    except (urllib.error.URLError, OSError, SlackClientError) as err:
        reason = getattr(err, "reason", None) or err
        raise StartupFailure(
            f"Slack's API at {api_url} did not answer ({reason}).",
            "Check the network, a proxy, and SLACK_API_URL (unset means Slack itself); "
            "start again once it answers.",
            EXIT_UNAVAILABLE,
            # no connection or a timeout; a certificate refused or a bad request stays so
            transient=isinstance(err, OSError) and not isinstance(reason, ssl.CertificateError),
        ) from None
    return SlackIdentity(
        api_url=api_url,
        team=str(resp.get("team", "")),
        bot=str(resp.get("user", "")),
        bot_user_id=str(resp.get("user_id", "")),
    )


def slack_refused(err: SlackApiError, api_url: str) -> StartupFailure:
    """What an error answer to ``auth.test`` means for the start."""
    error = str(err.response.get("error", "") or "")
    status = err.response.status_code
    if error in SLACK_TOKEN_REFUSED:
        return StartupFailure(
            f"Slack refused SLACK_BOT_TOKEN ({error}).",
            "Copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions "
            "page into .env or the environment; reinstall the app if it was revoked.",
            EXIT_CONFIG,
        )
    if status in (400, 404, 405):
        return StartupFailure(
            f"SLACK_API_URL {api_url} does not look like the Slack Web API "
            f"(auth.test answered HTTP {status}).",
            "Leave SLACK_API_URL unset for Slack itself, or point it at the Web API's "
            "base URL, ending in /api/.",
            EXIT_CONFIG,
        )
    return StartupFailure(
        f"Slack's API at {api_url} failed auth.test (HTTP {status}, {error[:120]}).",
        "Slack may be having trouble (status.slack.com); start again in a minute.",
        EXIT_UNAVAILABLE,
        transient=status == 429 or status >= 500 or error in SLACK_BUSY,
    )


def aws_problems(region: str | None) -> list[str]:
    """What the standard AWS chain (the environment, ``.env``'s ``AWS_*``, a profile, a
    role) lacks for ``region``, found without calling AWS, each with what to do. A start
    names them beside every other problem::

        settings, config = load_for_start("all", aws_problems=aws_problems)
    """
    _session, _credentials, lacking = standard_chain(region)
    return [f"{failure.message} {failure.hint}" for failure in lacking]


def standard_chain(
    region: str | None, session: Any = None, *, credentials: bool = True
) -> tuple[Any, Any, list[StartupFailure]]:
    """boto3's session for ``region`` (or ``session``), its credentials, and what it lacks:
    a profile that does not exist, a region, credentials (or half of a key pair; not
    looked for without ``credentials``)."""
    import boto3

    try:
        session = session or boto3.session.Session(region_name=region)
    except ProfileNotFound as err:
        failure = StartupFailure(
            f"The AWS profile is not configured: {err}.", PROFILE_HINT, EXIT_CONFIG
        )
        return None, None, [failure]
    lacking = []
    if session.region_name is None:
        lacking.append(StartupFailure("No AWS region is configured.", NO_REGION_HINT, EXIT_CONFIG))
    if not credentials:
        return session, None, lacking
    found = None
    try:
        found = session.get_credentials()
    except PartialCredentialsError as err:
        lacking.append(
            StartupFailure(f"No usable AWS credentials: {err}.", NO_CREDENTIALS_HINT, EXIT_CONFIG)
        )
    else:
        if found is None:
            lacking.append(
                StartupFailure("No AWS credentials found.", NO_CREDENTIALS_HINT, EXIT_CONFIG)
            )
    return session, found, lacking


def check_aws(
    region: str | None, retries: StartRetries | None = None, *, session: Any = None
) -> AwsIdentity:
    """The standard credential chain, ``AWS_ENDPOINT_URL`` and the region, as the Lambda
    client sees them, proved by ``sts:GetCallerIdentity``, tried again by ``retries``
    while AWS is briefly unavailable (tests pass a boto3 ``session`` whose calls fail)."""
    session, credentials, lacking = standard_chain(region, session)
    if lacking:  # a start has named them all already (aws_problems)
        raise lacking[0]
    try:
        # one attempt per try: ``retries`` is the one policy, and it logs each retry
        sts = session.client("sts", config=lambda_client_config(max_attempts=1, timeout=5.0))
    except NoRegionError:
        raise StartupFailure("No AWS region is configured.", NO_REGION_HINT, EXIT_CONFIG) from None
    return (retries or StartRetries()).run(lambda: ask_sts(sts, credentials.method))


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
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        busy = AWS_BUSY.is_retryable(RetryContext(attempt_number=1, parsed_response=err.response))
        raise StartupFailure(
            f"AWS STS at {endpoint} failed GetCallerIdentity: {code} {message}".rstrip(),
            "Check AWS_ENDPOINT_URL and AWS_REGION; start again in a minute.",
            EXIT_UNAVAILABLE,
            transient=busy or status == 429 or status >= 500,
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
    except (BotoConnectionError, HTTPClientError) as err:  # no connection, or a timeout
        raise StartupFailure(
            f"AWS at {endpoint} did not answer ({type(err).__name__}).",
            "Check the network, AWS_ENDPOINT_URL and AWS_REGION; start again once it answers.",
            EXIT_UNAVAILABLE,
            transient=True,
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
