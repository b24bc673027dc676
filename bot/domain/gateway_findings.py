"""Doctor's checks of the API Gateway variant: each alias's HTTPS endpoint must reach the
function through an integration qualified with *that* alias, and the alias must let that
API invoke it; in a skill served from several regions, each region's URLs reach *that
region's* function. Pure: the routes and permissions are read by the gateway use case."""

from __future__ import annotations

from dataclasses import replace

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
from bot.domain.words import Code, Words, words


def region_urls(skill: Skill, region: str | None) -> dict[str, str]:
    """The URL of each alias in Alexa's ``region`` (None: the default endpoint's).

    >>> from bot.domain.model import Placement
    >>> places = (Placement("NA", "f", (("P1", "https://a/1"),)),
    ...           Placement("EU", "g", (("P1", "https://b/1"),)))
    >>> s = Skill("t", places, "i", ("P1", "P2"), "P1", "C")
    >>> region_urls(s, "EU"), region_urls(s, None)
    ({'P1': 'https://b/1'}, {'P1': 'https://a/1'})
    """
    return dict(skill.at(region).endpoints)


def gateway_findings(
    skill: Skill,
    alias: str,
    function_arn: str,
    route: GatewayRoute | None,
    route_problem: str | Words | None,
    permissions: list[GatewayPermission],
    region: str | None = None,
) -> list[Finding]:
    """The API Gateway variant, for one alias (in Alexa's ``region``, None: the default
    endpoint): its endpoint's integration invokes ``function_arn`` (that region's function)
    qualified with that alias, and a permission on it lets that API invoke the alias.

    A crossed integration (one alias's URL invoking the other, or another region's
    function) is reported for a person to fix in API Gateway; only a missing permission
    has a Fix. A region's findings carry its name (``EU: API Gateway …``)."""
    url = region_urls(skill, region)[alias]
    other = skill.other_alias(alias)
    expected = f"{function_arn}:{alias}"
    owner = f"{region}'s function" if region else "the skill's function"
    check = f"API Gateway integration of {alias}"
    parsed = parse_execute_api_url(url)
    if parsed is None:
        return _in_region(
            region,
            [
                Finding(
                    check,
                    False,
                    words(
                        Code(url),
                        " is not an execute-api URL (a custom domain?), so it cannot be "
                        "checked here: make sure it invokes ",
                        Code(expected),
                        ".",
                    ),
                    alias=alias,
                )
            ],
        )
    if route is None:
        findings = [Finding(check, False, words(Code(url), ": ", route_problem), alias=alias)]
    else:
        invoked = invoked_function(route)
        where = words(
            Code(url), f" ({route.kind} {route.api_id}, stage {route.stage}, {route.route})"
        )
        fix_it = words(
            "In API Gateway, make its integration invoke ",
            Code(expected),
            " (the alias-qualified ARN, or a stage variable naming the alias) and deploy the API.",
        )
        if invoked == expected:
            findings = [Finding(check, True, words(where, f" invokes {alias}"))]
        elif invoked == f"{function_arn}:{other}":
            detail = words(
                where,
                f" invokes {other}, not {alias}: the endpoints are crossed, so Alexa calling "
                f"{alias}'s endpoint runs {other}'s code. ",
                fix_it,
            )
            findings = [Finding(check, False, detail, alias=alias)]
        elif invoked == function_arn:
            detail = words(
                where, f" invokes the unqualified function ($LATEST), not {alias}. ", fix_it
            )
            findings = [Finding(check, False, detail, alias=alias)]
        elif invoked and invoked.rsplit(":", 1)[-1] in skill.aliases:
            # the right kind of target, but another function (e.g. another region's)
            detail = words(
                where,
                " invokes ",
                Code(invoked),
                f", another function than {owner} ",
                Code(function_arn),
                ": Alexa's requests to it run elsewhere. ",
                fix_it,
            )
            findings = [Finding(check, False, detail, alias=alias)]
        else:
            what = Code(invoked) if invoked else "no Lambda function"
            detail = words(where, " invokes ", what, f", not {alias}. ", fix_it)
            findings = [Finding(check, False, detail, alias=alias)]
    check = f"API Gateway may invoke {alias}"
    of = words(f" of {owner} ", Code(function_arn)) if region else ()
    if any(permits_api(p, parsed) for p in permissions):
        findings.append(Finding(check, True, words(f"API {parsed.api_id} may invoke {alias}", of)))
    else:
        findings.append(
            Finding(
                check,
                False,
                words(
                    alias,
                    of,
                    " has no resource policy statement letting API Gateway "
                    f"(API {parsed.api_id}) invoke it: Alexa's calls to ",
                    Code(url),
                    " fail; Fix adds one.",
                ),
                FixKind.ADD_GATEWAY_PERMISSION,
                alias,
            )
        )
    return _in_region(region, findings)


def _in_region(region: str | None, findings: list[Finding]) -> list[Finding]:
    """A region's findings are named by it, like doctor's other regional checks."""
    if region is None:
        return findings
    return [replace(f, check=f"{region}: {f.check}") for f in findings]
