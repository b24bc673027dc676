"""Lambda on moto as the tests read it back: an alias's version and weights, the role
tag, the published versions; and a skill's functions in three regions::

    functions = create_regional_functions("trivia-skill", moto_endpoint)
    assert in_every_region(functions, routing) == {"NA": ("1", {}), "EU": ..., "FE": ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.adapters.lambda_aws import LambdaAdapter
from bot.devkit.aws import create_skill_function, deploy

T = TypeVar("T")

#: everything of the standard chain that could find a region or credentials here
AWS_CHAIN = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
FN = "trivia-skill"
#: the tag that records which alias is live
LIVE_TAG = "skillbot:live-alias"
#: a skill's other regional functions in the tests: Alexa region → AWS region
REGIONAL = {"EU": "eu-west-1", "FE": "us-west-2"}


def function_arn(name: str, region: str, account: str = "123456789012") -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def create_regional_functions(
    name: str = FN, endpoint_url: str | None = None, **options: Any
) -> dict[str, tuple[str, Any]]:
    """The skill's function in the default region and in each of :data:`REGIONAL`'s, each
    made by ``create_skill_function``: Alexa region → (function, that region's client).
    The default one is named ``name``; the others by their ARN."""
    functions = {"NA": (name, create_skill_function(name, endpoint_url, **options))}
    for alexa_region, region in REGIONAL.items():
        client = create_skill_function(name, endpoint_url, region=region, **options)
        functions[alexa_region] = (function_arn(name, region), client)
    return functions


def adapter(client: Any) -> LambdaAdapter:
    """The Lambda adapter over ``client``, polling a function's update quickly."""
    return LambdaAdapter(client, poll_interval=0.01)


def alias_version(client: Any, name: str, alias: str) -> str:
    return str(client.get_alias(FunctionName=name, Name=alias)["FunctionVersion"])


def aliases(client: Any, name: str = FN) -> tuple[str, str]:
    """The versions of PROD1 and PROD2."""
    return alias_version(client, name, "PROD1"), alias_version(client, name, "PROD2")


def routing(client: Any, name: str = FN, alias: str = "PROD1") -> tuple[str, dict[str, float]]:
    """An alias's version and its weighted versions (a canary's)."""
    found = client.get_alias(FunctionName=name, Name=alias)
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return found["FunctionVersion"], weights


def live_tag(client: Any, name: str = FN) -> str | None:
    """The alias the function's tag records as live."""
    arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
    return client.list_tags(Resource=arn)["Tags"].get(LIVE_TAG)


def versions(client: Any, name: str = FN) -> list[str]:
    """The function's versions as Lambda lists them ($LATEST first)."""
    listed = client.list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed]


def in_every_region(
    functions: dict[str, tuple[str, Any]], read: Callable[[Any, str], T]
) -> dict[str, T]:
    """``read(client, function)`` in each region of :func:`create_regional_functions`."""
    return {region: read(client, fn) for region, (fn, client) in functions.items()}


def deploy_everywhere(functions: dict[str, tuple[str, Any]], source: str = "VERSION = 3\n") -> None:
    """New code on ``$LATEST`` in every region of :func:`create_regional_functions`."""
    for fn, client in functions.values():
        deploy(client, fn, source)
