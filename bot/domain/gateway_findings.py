"""Doctor's checks of the API Gateway variant: each alias's HTTPS endpoint must reach the
function through an integration qualified with *that* alias, and the alias must let that
API invoke it. Pure: the routes and permissions are read by the gateway use case."""

from __future__ import annotations

from bot.domain.endpoints import (
    GatewayPermission,
    GatewayRoute,
    invoked_function,
    parse_execute_api_url,
    permits_api,
)
from bot.domain.model import (
    FixKind,
    Skill,
)
from bot.domain.rotation import Finding


def gateway_findings(
    skill: Skill,
    alias: str,
    function_arn: str,
    route: GatewayRoute | None,
    route_problem: str | None,
    permissions: list[GatewayPermission],
) -> list[Finding]:
    """The API Gateway variant, for one alias: its endpoint's integration invokes the
    function qualified with that alias, and a permission lets that API invoke the alias.

    A crossed integration (one alias's URL invoking the other) is reported for a person to
    fix in API Gateway; only a missing permission has a Fix."""
    url = skill.endpoints[alias]
    other = skill.other_alias(alias)
    expected = f"{function_arn}:{alias}"
    check = f"API Gateway integration of {alias}"
    parsed = parse_execute_api_url(url)
    if parsed is None:
        return [
            Finding(
                check,
                False,
                f"`{url}` is not an execute-api URL (a custom domain?), so it cannot be "
                f"checked here: make sure it invokes `{expected}`.",
                alias=alias,
            )
        ]
    if route is None:
        findings = [Finding(check, False, f"`{url}`: {route_problem}", alias=alias)]
    else:
        invoked = invoked_function(route)
        where = f"`{url}` ({route.kind} {route.api_id}, stage {route.stage}, {route.route})"
        fix_it = (
            f"In API Gateway, make its integration invoke `{expected}` (the alias-qualified "
            "ARN, or a stage variable naming the alias) and deploy the API."
        )
        if invoked == expected:
            findings = [Finding(check, True, f"{where} invokes {alias}")]
        elif invoked == f"{function_arn}:{other}":
            detail = (
                f"{where} invokes {other}, not {alias}: the endpoints are crossed, so "
                f"Alexa calling {alias}'s endpoint runs {other}'s code. {fix_it}"
            )
            findings = [Finding(check, False, detail, alias=alias)]
        elif invoked == function_arn:
            detail = f"{where} invokes the unqualified function ($LATEST), not {alias}. {fix_it}"
            findings = [Finding(check, False, detail, alias=alias)]
        else:
            what = f"`{invoked}`" if invoked else "no Lambda function"
            detail = f"{where} invokes {what}, not {alias}. {fix_it}"
            findings = [Finding(check, False, detail, alias=alias)]
    check = f"API Gateway may invoke {alias}"
    if any(permits_api(p, parsed) for p in permissions):
        findings.append(Finding(check, True, f"API {parsed.api_id} may invoke {alias}"))
    else:
        findings.append(
            Finding(
                check,
                False,
                f"{alias} has no resource policy statement letting API Gateway "
                f"(API {parsed.api_id}) invoke it: Alexa's calls to `{url}` fail; "
                "Fix adds one.",
                FixKind.ADD_GATEWAY_PERMISSION,
                alias,
            )
        )
    return findings
