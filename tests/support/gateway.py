"""API Gateway endpoints in front of a function's two aliases, on moto (in-process or
moto_server), for the API Gateway variant::

    urls = rest_api_for_aliases(lambda_client, FN)   # {"PROD1": "https://…/prod1", …}
    allow_gateway(lambda_client, FN, "PROD1", urls["PROD1"])
    rest_api_for_aliases(eu_client, EU_ARN, region="eu-west-1")  # another region's API
"""

from __future__ import annotations

from typing import Any

import boto3

from bot.devkit.aws import REGION
from bot.domain.endpoints import parse_execute_api_url

ALIASES = ("PROD1", "PROD2")


def _function_arn(lambda_client: Any, function: str) -> str:
    return str(lambda_client.get_function_configuration(FunctionName=function)["FunctionArn"])


def rest_api_for_aliases(
    lambda_client: Any,
    function: str,
    endpoint_url: str | None = None,
    *,
    crossed: bool = False,
    region: str = REGION,
) -> dict[str, str]:
    """A REST API (in ``region``) with stages ``prod1``/``prod2`` whose POST / invokes the
    function with the alias named by the stage variable ``alias`` (swapped when
    ``crossed``)."""
    client = boto3.client("apigateway", region_name=region, endpoint_url=endpoint_url)
    api_id = client.create_rest_api(name=f"{function}-alexa")["id"]
    [root] = [r for r in client.get_resources(restApiId=api_id)["items"] if r["path"] == "/"]
    client.put_method(
        restApiId=api_id, resourceId=root["id"], httpMethod="POST", authorizationType="NONE"
    )
    arn = _function_arn(lambda_client, function)
    client.put_integration(
        restApiId=api_id,
        resourceId=root["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"{arn}:${{stageVariables.alias}}/invocations",
    )
    targets = tuple(reversed(ALIASES)) if crossed else ALIASES
    deployment = client.create_deployment(restApiId=api_id)["id"]
    urls = {}
    for alias, target in zip(ALIASES, targets, strict=True):
        stage = alias.lower()
        client.create_stage(
            restApiId=api_id, stageName=stage, deploymentId=deployment, variables={"alias": target}
        )
        urls[alias] = f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"
    return urls


def http_api_for_aliases(
    lambda_client: Any, function: str, endpoint_url: str | None = None, *, region: str = REGION
) -> dict[str, str]:
    """An HTTP API (in ``region``) on its ``$default`` stage: route ``POST /prod1`` invokes
    PROD1 and ``POST /prod2`` invokes PROD2 (alias-qualified ARNs)."""
    client = boto3.client("apigatewayv2", region_name=region, endpoint_url=endpoint_url)
    api_id = client.create_api(Name=f"{function}-alexa-http", ProtocolType="HTTP")["ApiId"]
    arn = _function_arn(lambda_client, function)
    urls = {}
    for alias in ALIASES:
        integration = client.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=f"{arn}:{alias}",
            PayloadFormatVersion="2.0",
        )["IntegrationId"]
        path = f"/{alias.lower()}"
        client.create_route(
            ApiId=api_id, RouteKey=f"POST {path}", Target=f"integrations/{integration}"
        )
        urls[alias] = f"https://{api_id}.execute-api.{region}.amazonaws.com{path}"
    client.create_stage(ApiId=api_id, StageName="$default")
    return urls


def allow_gateway(lambda_client: Any, function: str, alias: str, url: str) -> None:
    """The permission a careful person adds: this API (in its region) may invoke this
    alias of the function (``lambda_client``: of the function's region)."""
    parsed = parse_execute_api_url(url)
    assert parsed is not None
    account = _function_arn(lambda_client, function).split(":")[4]
    lambda_client.add_permission(
        FunctionName=function,
        Qualifier=alias,
        StatementId=f"apigateway-{alias}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{parsed.region}:{account}:{parsed.api_id}/*",
    )


def gateway_statements(lambda_client: Any, function: str, alias: str) -> list[dict[str, Any]]:
    """The statements of the alias's resource policy for API Gateway, as AWS has them."""
    import json

    try:
        policy = lambda_client.get_policy(FunctionName=function, Qualifier=alias)["Policy"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return []
    return [
        s
        for s in json.loads(policy)["Statement"]
        if s["Resource"].endswith(f":{alias}")
        and "apigateway.amazonaws.com" in json.dumps(s["Principal"])
    ]
