"""Reading, never changing: a skill's status (aliases, roles, pending certification) and
its history from the audit log::

    view = Reading(ctx).status("trivia")
    view.aliases[0].role      # 'live'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import blocks_canary
from bot.domain.model import LATEST, AliasState, AuditEvent, Certification, Roles, Skill, Version
from bot.service.context import RotationContext


@dataclass(frozen=True)
class AliasView:
    name: str
    role: str
    state: AliasState | None
    version: Version | None
    last_change: AuditEvent | None
    #: what Alexa must call for this alias (its ARN, or its HTTPS endpoint)
    endpoint: str | None = None


@dataclass(frozen=True)
class StatusView:
    skill: Skill
    roles: Roles
    aliases: list[AliasView]
    pending: Certification | None
    now: datetime
    #: the running canary, as one line (None: none runs)
    canary_line: str | None = None


class Reading:
    def __init__(
        self, ctx: RotationContext, *, endpoint_of: Callable[[Skill, str], str | None] | None = None
    ) -> None:
        self.ctx = ctx
        self.endpoint_of = endpoint_of

    def status(self, name: str) -> StatusView:
        ctx = self.ctx
        skill = ctx.skill(name)
        roles = ctx.roles(skill)
        views = []
        for alias in skill.aliases:
            state = ctx.lambda_.get_alias(skill.function, alias)
            version = (
                ctx.lambda_.get_version(skill.function, state.version)
                if state and state.version != LATEST
                else None
            )
            moves = ctx.store.alias_moves(skill.name, alias, limit=1)
            role = "live" if alias == roles.live_alias else "candidate"
            endpoint = self.endpoint_of(skill, alias) if self.endpoint_of else None
            last = moves[0] if moves else None
            views.append(AliasView(alias, role, state, version, last, endpoint))
        canary = ctx.active_canary(skill)
        return StatusView(
            skill,
            roles,
            views,
            ctx.store.pending_certification(skill.name),
            ctx.clock(),
            blocks_canary.canary_status(canary, ctx.clock()) if canary else None,
        )

    def history(self, name: str, limit: int = 20) -> list[AuditEvent]:
        return self.ctx.store.audit(self.ctx.skill(name).name, limit)
