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
from collections.abc import Callable
from typing import Any

from botocore.config import Config

from bot.adapters.aws_errors import aws_errors
from bot.adapters.aws_regions import ClientsByRegion, function_client
from bot.domain.errors import Busy, NotFound, Refused, StalePlan
from bot.domain.model import LATEST, AlexaTrigger, AliasState, LatestCode, Version
from bot.domain.words import Run, words

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
        regional_client: Callable[[str], Any] | None = None,
    ) -> None:
        self._client = client
        #: a function ARN in another AWS region is called through that region's client,
        #: built once by ``regional_client(region)``
        self._regional = ClientsByRegion(regional_client) if regional_client else None
        self._update_wait = update_wait_seconds
        self._poll = poll_interval
        self._sleep = sleep
        self._arns: dict[str, str] = {}

    def _c(self, function: str | None) -> Any:
        """The client of the function's AWS region (its ARN's): the default one unless the
        ARN names another region."""
        return function_client(self._client, function, self._regional)

    def get_alias(self, function: str, alias: str) -> AliasState | None:
        try:
            with aws_errors("read alias " + alias, function):
                return _alias_state(self._c(function).get_alias(FunctionName=function, Name=alias))
        except NotFound:
            return None

    def get_latest(self, function: str) -> LatestCode:
        with aws_errors("read $LATEST", function):
            resp = self._c(function).get_function_configuration(FunctionName=function)
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
                resp = self._c(function).get_function_configuration(
                    FunctionName=function, Qualifier=version
                )
        except NotFound:
            return None
        return _version(resp)

    def list_versions(self, function: str) -> list[Version]:
        versions: list[Version] = []
        with aws_errors("list versions", function):
            for page in (
                self._c(function)
                .get_paginator("list_versions_by_function")
                .paginate(FunctionName=function)
            ):
                versions.extend(_version(v) for v in page["Versions"] if v["Version"] != LATEST)
        return versions

    def publish_version(self, function: str, code_sha256: str, description: str) -> Version:
        with aws_errors("publish a version", function):
            resp = self._c(function).publish_version(
                FunctionName=function, CodeSha256=code_sha256, Description=description[:256]
            )
        return _version(resp)

    def update_alias(
        self, function: str, alias: str, version: str, revision_id: str, *, clear_routing: bool
    ) -> AliasState:
        routing: dict[str, Any] | None = {"AdditionalVersionWeights": {}} if clear_routing else None
        return self._update_alias(
            f"move alias {alias}", function, alias, version, revision_id, routing
        )

    def create_alias(self, function: str, alias: str, version: str) -> AliasState:
        try:
            with aws_errors(f"create alias {alias}", function):
                resp = self._c(function).create_alias(
                    FunctionName=function, Name=alias, FunctionVersion=version
                )
        except Busy as err:
            if "exist" not in err.message.lower():
                raise  # an update in progress, not a duplicate: retrying later works
            raise StalePlan(
                f"Alias {alias} of {function} was created meanwhile by someone else.",
                hint=words("Nothing was changed. Run ", Run("doctor"), " again."),
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
                answer = self._c(function).get_policy(FunctionName=function, Qualifier=alias)
                policy = answer["Policy"]
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
            self._c(function).add_permission(
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
            tags = self._c(function).list_tags(Resource=self.function_arn(function)).get("Tags", {})
        return tags.get(LIVE_ALIAS_TAG)

    def write_live_alias(self, function: str, alias: str) -> None:
        with aws_errors("write the role tag", function):
            self._c(function).tag_resource(
                Resource=self.function_arn(function), Tags={LIVE_ALIAS_TAG: alias}
            )

    # -- canaries and pruning ---------------------------------------------------------
    def route(
        self, function: str, alias: str, version: str, weights: dict[str, float], revision_id: str
    ) -> AliasState:
        """Point ``alias`` at ``version`` with ``weights`` ({} clears them), guarded by
        ``revision_id``: one ``UpdateAlias``."""
        routing = {"AdditionalVersionWeights": weights}
        return self._update_alias(
            f"route traffic of alias {alias}", function, alias, version, revision_id, routing
        )

    def _update_alias(
        self, action: str, function: str, alias: str, version: str, revision_id: str,
        routing: dict[str, Any] | None,
    ) -> AliasState:  # fmt: skip
        """One guarded ``UpdateAlias``; ``routing`` None keeps the alias's weights."""
        extra = {} if routing is None else {"RoutingConfig": routing}
        with aws_errors(action, function):
            return _alias_state(
                self._c(function).update_alias(
                    FunctionName=function,
                    Name=alias,
                    FunctionVersion=version,
                    RevisionId=revision_id,
                    **extra,
                )
            )

    def list_aliases(self, function: str) -> list[AliasState]:
        """Every alias of the function, not only the skill's two."""
        found: list[AliasState] = []
        with aws_errors("list aliases", function):
            for page in (
                self._c(function).get_paginator("list_aliases").paginate(FunctionName=function)
            ):
                found.extend(_alias_state(a) for a in page["Aliases"])
        return found

    def delete_version(self, function: str, version: str) -> None:
        """Delete one published version; :class:`Refused` when AWS says it is in use."""
        if not version.isdigit():  # never $LATEST, never the function itself
            raise Refused(f"{version!r} is not a published version.", hint="Name a number.")
        try:
            with aws_errors(f"delete version {version}", function):
                self._c(function).delete_function(FunctionName=function, Qualifier=version)
        except Busy as err:  # AWS: an alias (or its routing) still refers to it
            raise Refused(
                f"AWS keeps version {version}: {err.message}",
                hint="It is in use; nothing was deleted.",
            ) from err

    def code_storage(self, function: str | None = None) -> tuple[int, int]:
        """(bytes used, quota) of the function's region's function and layer code storage
        (the default region's without a function)."""
        with aws_errors("read the account settings", function or "the region"):
            resp = self._c(function).get_account_settings()
        return (
            int(resp["AccountUsage"]["TotalCodeSize"]),
            int(resp["AccountLimit"]["TotalCodeSize"]),
        )
