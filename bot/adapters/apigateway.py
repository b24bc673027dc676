"""API Gateway through boto3: the real :class:`bot.ports.GatewayPort`.

For the API Gateway variant (an HTTPS endpoint in front of each alias) doctor reads what
an endpoint's route is integrated with — a REST API (``apigateway``: the stage, its
resources and the method's integration) or an HTTP API (``apigatewayv2``: stages, routes,
integrations) — and the alias's resource policy; Fix adds a permission for
``apigateway.amazonaws.com``. The API Gateway clients are made per region (the URL's),
and so are the Lambda clients of functions in other regions (the function ARN's), by the
factory the composition root passes::

    gateway = GatewayAdapter(lambda_client, lambda service, region: boto3.client(service, …))
    gateway.route("https://abc.execute-api.eu-west-1.amazonaws.com/prod1").integration_uri
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.adapters.aws_errors import aws_errors, from_aws
from bot.adapters.aws_regions import ClientsByRegion, function_client
from bot.domain.endpoints import GatewayPermission, GatewayRoute, parse_execute_api_url
from bot.domain.errors import Forbidden, NotFound, Refused, Unavailable
from bot.domain.words import Code, words

log = logging.getLogger(__name__)

GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
PERMISSION_SID_PREFIX = "skillbot-apigateway-"
#: methods Alexa's POST can reach, in the order a REST resource is looked at
_ALEXA_METHODS = ("POST", "ANY")

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


@contextmanager
def gateway_errors(action: str) -> Iterator[None]:
    """Turn what boto3 raises while reading API Gateway into a domain error."""
    try:
        yield
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        said = from_aws(str(err.response.get("Error", {}).get("Message", "")) or str(err))
        log.warning("apigateway %s failed: %s %s", action, code, said.text)
        if code in ("NotFoundException", "ResourceNotFoundException"):
            raise NotFound(
                words(f"API Gateway has no such resource ({action}): ", said),
                hint=words(
                    "Check ",
                    Code("endpoints"),
                    " in the skills file against the API in API Gateway.",
                ),
            ) from err
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
            raise Forbidden(
                words(f"The bot's AWS credentials may not {action}: ", said),
                hint="Grant the apigateway:GET statement of iam-policy.json to the bot's role.",
            ) from err
        raise Unavailable(
            words(f"AWS failed to {action}: {code or 'error'} ", said),
            hint="Nothing was changed. Try again in a minute.",
        ) from err
    except BotoCoreError as err:
        raise Unavailable(
            f"Calling API Gateway to {action} failed: {err}",
            hint="Try again; check the AWS region and endpoint settings.",
        ) from err


def parse_gateway_permissions(policy_json: str, alias: str) -> list[GatewayPermission]:
    """Statements of a resource policy letting API Gateway invoke the function's ``alias``.

    >>> parse_gateway_permissions('{"Statement": []}', "PROD1")
    []
    """
    statements = json.loads(policy_json).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for st in statements:
        principal = st.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        services = service if isinstance(service, list) else [service]
        if GATEWAY_PRINCIPAL not in services or st.get("Effect", "Allow") != "Allow":
            continue
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
            continue
        resource = str(st.get("Resource", ""))
        # one policy may list several qualifiers: only this alias's statements count
        if ":function:" not in resource or resource.rsplit(":", 1)[-1] != alias:
            continue
        source = None
        for operator in (st.get("Condition") or {}).values():
            for key, value in (operator or {}).items():
                if key.lower() == "aws:sourcearn":
                    source = value if isinstance(value, str) else None
        found.append(GatewayPermission(st.get("Sid", ""), alias, source))
    return found


class GatewayAdapter:
    """API Gateway reads (REST and HTTP APIs) and the Lambda permissions for them."""

    def __init__(self, lambda_client: Any, client_for: ClientFactory) -> None:
        self._lambda = lambda_client
        self._client_for = client_for
        self._regional_lambda = ClientsByRegion(lambda region: self._client("lambda", region))
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._client_for(service, region)
        return self._clients[key]

    def _c(self, function: str) -> Any:
        """The Lambda client of the function's AWS region (its ARN's): a regional
        function's policy lives there; a bare name is the default region's."""
        return function_client(self._lambda, function, self._regional_lambda)

    # -- routes -------------------------------------------------------------------------
    def route(self, url: str) -> GatewayRoute:
        """What the endpoint ``url`` is integrated with; NotFound says what is missing."""
        parsed = parse_execute_api_url(url)
        if parsed is None:
            raise Refused(f"{url} is not an execute-api URL.", hint="Check it by hand.")
        rest = self._client("apigateway", parsed.region)
        with gateway_errors(f"list the REST APIs in {parsed.region}"):
            rest_ids = {api["id"] for api in _rest_items(rest, "get_rest_apis")}
        if parsed.api_id in rest_ids:
            return self._rest_route(rest, parsed.api_id, parsed.segments)
        http = self._client("apigatewayv2", parsed.region)
        with gateway_errors(f"list the HTTP APIs in {parsed.region}"):
            http_ids = {api["ApiId"] for api in _v2_items(http, "get_apis")}
        if parsed.api_id in http_ids:
            return self._http_route(http, parsed.api_id, parsed.segments)
        raise NotFound(
            f"API Gateway in {parsed.region} has no REST API or HTTP API {parsed.api_id}.",
            hint=words(
                "Check ", Code("endpoints"), " in the skills file, and AWS_REGION / the account."
            ),
        )

    def _rest_route(self, client: Any, api_id: str, segments: tuple[str, ...]) -> GatewayRoute:
        if not segments:
            raise NotFound(f"The URL names no stage of REST API {api_id}.", hint="Add it.")
        stage, path = segments[0], "/" + "/".join(segments[1:])
        with gateway_errors(f"read stage {stage} of REST API {api_id}"):
            variables = client.get_stage(restApiId=api_id, stageName=stage).get("variables")
        with gateway_errors(f"list the resources of REST API {api_id}"):
            resources = _rest_items(client, "get_resources", restApiId=api_id)
        resource = next((r for r in resources if r.get("path") == path), None)
        if resource is None:
            raise NotFound(
                f"REST API {api_id} has no resource {path}.",
                hint=words("Check the URL in ", Code("endpoints"), " against the API's resources."),
            )
        methods = resource.get("resourceMethods") or {}
        method = next((m for m in _ALEXA_METHODS if m in methods), None)
        if method is None:
            raise NotFound(
                f"Resource {path} of REST API {api_id} has no POST or ANY method: Alexa's "
                "requests (POST) reach nothing.",
                hint="Add a POST method integrated with the function's alias.",
            )
        with gateway_errors(f"read the integration of {method} {path} of REST API {api_id}"):
            integration = client.get_integration(
                restApiId=api_id, resourceId=resource["id"], httpMethod=method
            )
        return GatewayRoute(
            "REST API", api_id, stage, f"{method} {path}", integration.get("uri"), variables or {}
        )

    def _http_route(self, client: Any, api_id: str, segments: tuple[str, ...]) -> GatewayRoute:
        with gateway_errors(f"list the stages of HTTP API {api_id}"):
            stages = {s["StageName"]: s for s in _v2_items(client, "get_stages", ApiId=api_id)}
        if segments and segments[0] in stages and segments[0] != "$default":
            stage, rest = segments[0], segments[1:]
        elif "$default" in stages:
            stage, rest = "$default", segments
        else:
            raise NotFound(
                f"HTTP API {api_id} has no stage for this URL (stages: {', '.join(stages)}).",
                hint=words("Check the URL in ", Code("endpoints"), " against the API's stages."),
            )
        path = "/" + "/".join(rest)
        with gateway_errors(f"list the routes of HTTP API {api_id}"):
            routes = {r["RouteKey"]: r for r in _v2_items(client, "get_routes", ApiId=api_id)}
        key = next((k for k in (f"POST {path}", f"ANY {path}", "$default") if k in routes), None)
        if key is None:
            raise NotFound(
                f"HTTP API {api_id} has no route for POST {path}.",
                hint="Add a route integrated with the function's alias.",
            )
        target = str(routes[key].get("Target") or "")
        with gateway_errors(f"list the integrations of HTTP API {api_id}"):
            integrations = {
                i["IntegrationId"]: i for i in _v2_items(client, "get_integrations", ApiId=api_id)
            }
        integration = integrations.get(target.removeprefix("integrations/"), {})
        return GatewayRoute(
            "HTTP API",
            api_id,
            stage,
            key,
            integration.get("IntegrationUri"),
            stages[stage].get("StageVariables") or {},
        )

    # -- permissions ------------------------------------------------------------------------
    @staticmethod
    def gateway_permission_id(alias: str) -> str:
        """The statement id skillbot gives the permission it adds to ``alias``."""
        return f"{PERMISSION_SID_PREFIX}{alias}"

    def gateway_permissions(self, function: str, alias: str) -> list[GatewayPermission]:
        try:
            with aws_errors(f"read the resource policy of {alias}", function):
                policy = self._c(function).get_policy(FunctionName=function, Qualifier=alias)
                policy = policy["Policy"]
        except NotFound:
            return []  # no policy at all yet
        return parse_gateway_permissions(policy, alias)

    def add_gateway_permission(
        self, function: str, alias: str, source_arn: str
    ) -> GatewayPermission:
        sid = self.gateway_permission_id(alias)
        with aws_errors(f"let API Gateway invoke {alias}", function):
            self._c(function).add_permission(
                FunctionName=function,
                Qualifier=alias,
                StatementId=sid,
                Action="lambda:InvokeFunction",
                Principal=GATEWAY_PRINCIPAL,
                SourceArn=source_arn,
            )
        return GatewayPermission(sid, alias, source_arn)


def _rest_items(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated REST API read (botocore's paginator follows ``position``;
    500 a page, not the default 25)."""
    pages = client.get_paginator(operation).paginate(PaginationConfig={"PageSize": 500}, **kwargs)
    return [item for page in pages for item in page.get("items", [])]


def _v2_items(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated HTTP API (``apigatewayv2``) read (``NextToken``)."""
    pages = client.get_paginator(operation).paginate(**kwargs)
    return [item for page in pages for item in page.get("Items", [])]
