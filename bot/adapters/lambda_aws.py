"""AWS Lambda through boto3: the real :class:`bot.ports.LambdaPort`.

Credentials, region and endpoint come from the standard AWS SDK chain (including
``AWS_ENDPOINT_URL``); throttling is retried by botocore's ``standard`` retry mode.
Every ``ClientError`` becomes a :mod:`bot.domain.errors` error a person can act on::

    lam = LambdaAdapter(boto3.client("lambda", config=lambda_client_config()))
    lam.get_alias("trivia-skill", "PROD1")  # AliasState(name='PROD1', version='7', ...)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from bot.domain.errors import Busy, Forbidden, NotFound, Refused, StalePlan, Unavailable
from bot.domain.model import LATEST, AlexaTrigger, AliasState, LatestCode, Version

log = logging.getLogger(__name__)

ALEXA_PRINCIPAL = "alexa-appkit.amazon.com"
LIVE_ALIAS_TAG = "skillbot:live-alias"
TRIGGER_SID_PREFIX = "skillbot-alexa-"


def lambda_client_config(max_attempts: int = 5, timeout: float = 10.0) -> Config:
    """botocore settings: standard retry mode (throttling, 5xx) and bounded timeouts."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
    )


#: what AWS answers when the credentials themselves are expired, unknown or mis-signed
CREDENTIALS_REFUSED = frozenset(
    {
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


def refused_credentials(code: str, message: str, action: str) -> Forbidden:
    """The error for credentials AWS does not accept: say so, and how to refresh them."""
    return Forbidden(
        f"AWS refused the bot's credentials for {action}: they are expired or wrong "
        f"({code}: {message}).",
        hint="Nothing was changed. Refresh them: `aws sso login` for an SSO profile, a new "
        "AWS_SESSION_TOKEN for temporary keys, or check the role the bot runs as and "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; then try again.",
    )


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", "")) or str(err)


@contextmanager
def aws_errors(action: str, function: str) -> Iterator[None]:
    """Turn what boto3 raises during ``action`` into a domain error."""
    try:
        yield
    except ClientError as err:
        code, msg = _error_code(err), _error_message(err)
        # a missing alias or policy is often the answer we look for, not a failure
        level = logging.DEBUG if code == "ResourceNotFoundException" else logging.WARNING
        log.log(level, "lambda %s on %s failed: %s %s", action, function, code, msg)
        if code in CREDENTIALS_REFUSED:
            raise refused_credentials(code, msg, f"{action} on {function}") from err
        if code == "ResourceNotFoundException":
            raise NotFound(
                f"AWS says {function} has no such resource ({action}): {msg}",
                hint="Check `function` and `aliases` in the skills file, "
                "or run `/skill doctor` to create what is missing.",
            ) from err
        if code == "PreconditionFailedException":
            raise StalePlan(
                f"The alias changed in AWS after the plan was shown ({action} refused: {msg}).",
                hint="Nothing was changed. Ask for a fresh plan and confirm that one.",
            ) from err
        if code == "InvalidParameterValueException" and "CodeSha256" in msg:
            raise StalePlan(
                f"The code in $LATEST changed since this plan was shown ({action} of "
                f"{function} refused: {msg}).",
                hint="Nothing was published. Ask for a fresh plan to see the new code.",
            ) from err
        if code in ("ResourceConflictException", "ConflictException"):
            raise Busy(
                f"AWS is still applying another change to {function} ({msg}).",
                hint="Nothing was changed by skillbot. Try again in a minute.",
            ) from err
        if code in ("TooManyRequestsException", "ThrottlingException"):
            raise Unavailable(
                f"AWS throttled {action} on {function} even after retries.",
                hint="Nothing was changed. Try again in a minute.",
            ) from err
        if code in ("AccessDeniedException", "AccessDenied"):
            raise Forbidden(
                f"The bot's AWS credentials may not {action} on {function}: {msg}",
                hint="Grant the permissions of iam-policy.json to the bot's role.",
            ) from err
        if code in ("InvalidParameterValueException", "ValidationException"):
            raise Refused(
                f"AWS refused {action} on {function}: {msg}",
                hint="Nothing was changed; check the skills file.",
            ) from err
        raise Unavailable(
            f"AWS failed {action} on {function}: {code or 'error'} {msg}",
            hint="Nothing was changed by skillbot. Try again; if it persists, check AWS Health.",
        ) from err
    except NoCredentialsError as err:
        raise Forbidden(
            "No AWS credentials found.",
            hint="Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on a role.",
        ) from err
    except (ReadTimeoutError, BotoConnectionError) as err:
        raise Unavailable(
            f"AWS did not answer {action} on {function} in time ({type(err).__name__}).",
            hint="The outcome is checked before anything else moves; try again shortly.",
        ) from err
    except BotoCoreError as err:
        raise Unavailable(
            f"Calling AWS for {action} on {function} failed: {err}",
            hint="Try again; check the AWS region and endpoint settings.",
        ) from err


def _alias_state(resp: dict[str, Any]) -> AliasState:
    weights = (resp.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(
        name=resp["Name"],
        version=resp["FunctionVersion"],
        revision_id=resp.get("RevisionId", ""),
        routing={str(k): float(v) for k, v in weights.items()},
    )


def _version(resp: dict[str, Any]) -> Version:
    return Version(
        number=resp["Version"],
        code_sha256=resp["CodeSha256"],
        last_modified=resp.get("LastModified", ""),
        description=resp.get("Description", ""),
        code_size=int(resp.get("CodeSize") or 0),
    )


def _unqualified_arn(arn: str) -> str:
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    parts = arn.split(":")
    return ":".join(parts[:7])


def parse_alexa_triggers(policy_json: str, alias_arn: str) -> list[AlexaTrigger]:
    """Alexa Skills Kit statements of a resource policy that apply to ``alias_arn``.

    >>> parse_alexa_triggers('{"Statement": []}', "arn:aws:lambda:r:1:function:f:PROD1")
    []
    """
    statements = json.loads(policy_json).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    alias = alias_arn.rsplit(":", 1)[-1]
    found = []
    for st in statements:
        principal = st.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        services = service if isinstance(service, list) else [service]
        if ALEXA_PRINCIPAL not in services or st.get("Effect", "Allow") != "Allow":
            continue
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
            continue
        resource = st.get("Resource", alias_arn)
        if resource != alias_arn:  # one policy may list several qualifiers
            continue
        condition = st.get("Condition") or {}
        token = (condition.get("StringEquals") or {}).get("lambda:EventSourceToken")
        found.append(AlexaTrigger(statement_id=st.get("Sid", ""), alias=alias, skill_id=token))
    return found


class LambdaAdapter:
    """The real Lambda port over a boto3 ``lambda`` client."""

    def __init__(
        self,
        client: Any,
        *,
        update_wait_seconds: float = 120.0,
        poll_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._update_wait = update_wait_seconds
        self._poll = poll_interval
        self._sleep = sleep
        self._arns: dict[str, str] = {}

    def get_alias(self, function: str, alias: str) -> AliasState | None:
        try:
            with aws_errors("read alias " + alias, function):
                return _alias_state(self._client.get_alias(FunctionName=function, Name=alias))
        except NotFound:
            return None

    def get_latest(self, function: str) -> LatestCode:
        with aws_errors("read $LATEST", function):
            resp = self._client.get_function_configuration(FunctionName=function)
        self._arns.setdefault(function, _unqualified_arn(resp["FunctionArn"]))
        return LatestCode(
            code_sha256=resp["CodeSha256"],
            last_modified=resp.get("LastModified", ""),
            state=resp.get("State") or "Active",
            last_update_status=resp.get("LastUpdateStatus") or "Successful",
        )

    def wait_until_updated(self, function: str) -> LatestCode:
        """Read ``$LATEST``; while a code update is in progress, poll until it settles."""
        deadline = time.monotonic() + self._update_wait
        latest = self.get_latest(function)
        while latest.last_update_status == "InProgress" or latest.state == "Pending":
            if time.monotonic() > deadline:
                raise Busy(
                    f"A code update of {function} is still in progress after "
                    f"{self._update_wait:.0f} s.",
                    hint="Nothing was published. Try again when the deployment has finished.",
                )
            self._sleep(self._poll)
            latest = self.get_latest(function)
        if latest.last_update_status == "Failed":
            raise Refused(
                f"The last code update of {function} failed; $LATEST is not deployable.",
                hint="Fix the deployment of $LATEST first, or name a published version.",
            )
        return latest

    def get_version(self, function: str, version: str) -> Version | None:
        try:
            with aws_errors(f"read version {version}", function):
                resp = self._client.get_function_configuration(
                    FunctionName=function, Qualifier=version
                )
        except NotFound:
            return None
        return _version(resp)

    def list_versions(self, function: str) -> list[Version]:
        versions: list[Version] = []
        with aws_errors("list versions", function):
            for page in self._client.get_paginator("list_versions_by_function").paginate(
                FunctionName=function
            ):
                versions.extend(_version(v) for v in page["Versions"] if v["Version"] != LATEST)
        return versions

    def publish_version(self, function: str, code_sha256: str, description: str) -> Version:
        with aws_errors("publish a version", function):
            resp = self._client.publish_version(
                FunctionName=function, CodeSha256=code_sha256, Description=description[:256]
            )
        return _version(resp)

    def update_alias(
        self, function: str, alias: str, version: str, revision_id: str, *, clear_routing: bool
    ) -> AliasState:
        kwargs: dict[str, Any] = {
            "FunctionName": function,
            "Name": alias,
            "FunctionVersion": version,
            "RevisionId": revision_id,
        }
        if clear_routing:
            kwargs["RoutingConfig"] = {"AdditionalVersionWeights": {}}
        with aws_errors(f"move alias {alias}", function):
            return _alias_state(self._client.update_alias(**kwargs))

    def create_alias(self, function: str, alias: str, version: str) -> AliasState:
        try:
            with aws_errors(f"create alias {alias}", function):
                resp = self._client.create_alias(
                    FunctionName=function, Name=alias, FunctionVersion=version
                )
        except Busy as err:
            if "exist" not in err.message.lower():
                raise  # an update in progress, not a duplicate: retrying later works
            raise StalePlan(
                f"Alias {alias} of {function} was created meanwhile by someone else.",
                hint="Nothing was changed. Run `/skill doctor` again.",
            ) from err
        return _alias_state(resp)

    def alias_arn(self, function: str, alias: str) -> str:
        return f"{self.function_arn(function)}:{alias}"

    def function_arn(self, function: str) -> str:
        if function.startswith("arn:"):
            return _unqualified_arn(function)
        if function not in self._arns:
            self.get_latest(function)
        return self._arns[function]

    def alexa_triggers(self, function: str, alias: str) -> list[AlexaTrigger]:
        try:
            with aws_errors(f"read the resource policy of {alias}", function):
                policy = self._client.get_policy(FunctionName=function, Qualifier=alias)["Policy"]
        except NotFound:
            return []  # no policy at all yet
        return parse_alexa_triggers(policy, self.alias_arn(function, alias))

    @staticmethod
    def alexa_trigger_id(alias: str) -> str:
        """The statement id skillbot gives the trigger it adds to ``alias``."""
        return f"{TRIGGER_SID_PREFIX}{alias}"

    def add_alexa_trigger(self, function: str, alias: str, skill_id: str) -> AlexaTrigger:
        sid = self.alexa_trigger_id(alias)
        with aws_errors(f"add the Alexa trigger to {alias}", function):
            self._client.add_permission(
                FunctionName=function,
                Qualifier=alias,
                StatementId=sid,
                Action="lambda:InvokeFunction",
                Principal=ALEXA_PRINCIPAL,
                EventSourceToken=skill_id,
            )
        return AlexaTrigger(statement_id=sid, alias=alias, skill_id=skill_id)

    def read_live_alias(self, function: str) -> str | None:
        with aws_errors("read the role tag", function):
            tags = self._client.list_tags(Resource=self.function_arn(function)).get("Tags", {})
        return tags.get(LIVE_ALIAS_TAG)

    def write_live_alias(self, function: str, alias: str) -> None:
        with aws_errors("write the role tag", function):
            self._client.tag_resource(
                Resource=self.function_arn(function), Tags={LIVE_ALIAS_TAG: alias}
            )

    # -- canaries and pruning ---------------------------------------------------------
    def route(
        self, function: str, alias: str, version: str, weights: dict[str, float], revision_id: str
    ) -> AliasState:
        """Point ``alias`` at ``version`` with ``weights`` ({} clears them), guarded by
        ``revision_id``: one ``UpdateAlias``."""
        with aws_errors(f"route traffic of alias {alias}", function):
            return _alias_state(
                self._client.update_alias(
                    FunctionName=function,
                    Name=alias,
                    FunctionVersion=version,
                    RevisionId=revision_id,
                    RoutingConfig={"AdditionalVersionWeights": weights},
                )
            )

    def list_aliases(self, function: str) -> list[AliasState]:
        """Every alias of the function, not only the skill's two."""
        found: list[AliasState] = []
        with aws_errors("list aliases", function):
            for page in self._client.get_paginator("list_aliases").paginate(FunctionName=function):
                found.extend(_alias_state(a) for a in page["Aliases"])
        return found

    def delete_version(self, function: str, version: str) -> None:
        """Delete one published version; :class:`Refused` when AWS says it is in use."""
        if not version.isdigit():  # never $LATEST, never the function itself
            raise Refused(f"{version!r} is not a published version.", hint="Name a number.")
        try:
            with aws_errors(f"delete version {version}", function):
                self._client.delete_function(FunctionName=function, Qualifier=version)
        except Busy as err:  # AWS: an alias (or its routing) still refers to it
            raise Refused(
                f"AWS keeps version {version}: {err.message}",
                hint="It is in use; nothing was deleted.",
            ) from err

    def code_storage(self) -> tuple[int, int]:
        """(bytes used, quota) of the region's function and layer code storage."""
        with aws_errors("read the account settings", "the region"):
            resp = self._client.get_account_settings()
        return (
            int(resp["AccountUsage"]["TotalCodeSize"]),
            int(resp["AccountLimit"]["TotalCodeSize"]),
        )
