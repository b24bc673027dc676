"""The API Gateway variant in ``doctor``: each alias's HTTPS endpoint must be integrated
with the function qualified by that alias, and API Gateway must be allowed to invoke the
alias. Fix adds a missing permission (one change); a crossed integration is only reported::

    checks = GatewayChecks(gateway, lambda_)
    checks.findings(skill)            # [Finding('API Gateway integration of PROD1', True, …), …]
    checks.add_permission(skill, "PROD2")
"""

from __future__ import annotations

from bot.domain import rotation
from bot.domain.endpoints import parse_execute_api_url, permits_api, source_arn
from bot.domain.errors import Refused, SkillbotError
from bot.domain.gateway_findings import gateway_findings
from bot.domain.model import Skill
from bot.ports import GatewayPort, LambdaPort


class GatewayChecks:
    def __init__(self, gateway: GatewayPort, lambda_: LambdaPort) -> None:
        self.gateway = gateway
        self.lambda_ = lambda_

    def _function_arn(self, skill: Skill, alias: str) -> str:
        return self.lambda_.alias_arn(skill.function, alias).rsplit(":", 1)[0]

    def findings(self, skill: Skill) -> list[rotation.Finding]:
        """Integration and permission findings for both aliases ([] without endpoints)."""
        found: list[rotation.Finding] = []
        for alias in skill.aliases if skill.endpoints else ():
            try:
                route, problem = self.gateway.route(skill.endpoints[alias]), None
            except SkillbotError as err:
                route, problem = None, f"{err.message} {err.hint}".strip()
            found += gateway_findings(
                skill,
                alias,
                self._function_arn(skill, alias),
                route,
                problem,
                self.gateway.gateway_permissions(skill.function, alias),
            )
        return found

    def add_permission(self, skill: Skill, alias: str) -> bool:
        """Let the API of ``alias``'s endpoint invoke it; False when it already may
        (e.g. added by an attempt whose answer was lost)."""
        url = parse_execute_api_url(skill.endpoints.get(alias, ""))
        if url is None:
            raise Refused(
                f"{alias} of {skill.name} has no execute-api endpoint in the skills file.",
                hint=f"Run `/skill doctor {skill.name}` again for fresh findings.",
            )
        ours = self.gateway.gateway_permission_id(alias)
        present = self.gateway.gateway_permissions(skill.function, alias)
        if any(permits_api(p, url) or p.statement_id == ours for p in present):
            return False
        arn = source_arn(url, self._function_arn(skill, alias))
        self.gateway.add_gateway_permission(skill.function, alias, arn)
        return True
