"""The API Gateway variant in ``doctor``: each alias's HTTPS endpoint must be integrated
with the function qualified by that alias, and API Gateway must be allowed to invoke the
alias — in every region the skill is served from, each region's URLs with that region's
function. Fix adds a missing permission (one change, on the right region's function); a
crossed integration is only reported::

    checks = GatewayChecks(gateway, lambda_)
    checks.findings(skill)   # [(Finding('EU: API Gateway …', …), 'EU', 'arn:…'), …]
    checks.add_permission(skill, "PROD2", region="EU")
"""

from __future__ import annotations

from bot.domain import rotation
from bot.domain.endpoints import parse_execute_api_url, permits_api, source_arn
from bot.domain.errors import Refused, SkillbotError
from bot.domain.gateway_findings import gateway_findings, region_urls
from bot.domain.model import Skill
from bot.domain.words import Run, words
from bot.ports import GatewayPort, LambdaPort

#: a region's finding with the region and the function it is about
RegionFinding = tuple[rotation.Finding, str, str]


class GatewayChecks:
    def __init__(self, gateway: GatewayPort, lambda_: LambdaPort) -> None:
        self.gateway = gateway
        self.lambda_ = lambda_

    def _function_arn(self, function: str, alias: str) -> str:
        return self.lambda_.alias_arn(function, alias).rsplit(":", 1)[0]

    def findings(self, skill: Skill) -> list[RegionFinding]:
        """Integration and permission findings of both aliases' URLs at every placement
        with URLs, each against that placement's function; the first placement's are
        named by no region (region "")."""
        found: list[RegionFinding] = []
        for i, place in enumerate(skill.placements):
            region = place.region if i else None
            for alias in skill.aliases if place.endpoints else ():
                found += [
                    (f, region or "", place.function)
                    for f in self._alias_findings(skill, alias, region)
                ]
        return found

    def _alias_findings(
        self, skill: Skill, alias: str, region: str | None
    ) -> list[rotation.Finding]:
        function = skill.at(region).function
        url = region_urls(skill, region)[alias]
        try:
            route, problem = self.gateway.route(url), None
        except SkillbotError as err:
            route, problem = None, err.told
        return gateway_findings(
            skill,
            alias,
            self._function_arn(function, alias),
            route,
            problem,
            self.gateway.gateway_permissions(function, alias),
            region,
        )

    def add_permission(self, skill: Skill, alias: str, *, region: str | None = None) -> bool:
        """Let the API of ``alias``'s endpoint (in Alexa's ``region``; None: the default
        endpoint's) invoke that alias of the region's function; False when it already may
        (e.g. added by an attempt whose answer was lost)."""
        where = f" in {region}" if region else ""
        url = parse_execute_api_url(region_urls(skill, region).get(alias, ""))
        if url is None:
            raise Refused(
                f"{alias} of {skill.name} has no execute-api endpoint{where} in the skills file.",
                hint=words("Run ", Run("doctor", skill.name), " again for fresh findings."),
            )
        function = skill.at(region).function
        ours = self.gateway.gateway_permission_id(alias)
        present = self.gateway.gateway_permissions(function, alias)
        if any(permits_api(p, url) or p.statement_id == ours for p in present):
            return False
        arn = source_arn(url, self._function_arn(function, alias))
        self.gateway.add_gateway_permission(function, alias, arn)
        return True
