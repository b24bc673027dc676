"""Reading, never changing: a skill's status (aliases, roles, pending certification) and
its history from the audit log::

    view = Reading(ctx).status("trivia")
    view.aliases[0].role      # 'live'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.canary import Canary
from bot.domain.freeze import frozen_until, shown_at
from bot.domain.model import (
    LATEST,
    AliasState,
    AuditEvent,
    Certification,
    Roles,
    Skill,
    SkillLock,
    Version,
    version_label,
)
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
    #: the running canary (None: none runs)
    canary: Canary | None = None
    #: a skill served from several regions: the other regions' aliases, and how the
    #: regions disagree (None: they agree)
    regions: tuple[RegionView, ...] = ()
    disagreement: str | None = None
    #: what promoting the pending certification would refuse now: its alias serves other
    #: code than was certified (None: it serves what was certified)
    certification_drift: str | None = None
    #: who locked the skill, when and why (None: not locked)
    lock: SkillLock | None = None
    #: the freeze window it is in now and when that ends, in the file's zone (None: none)
    frozen: tuple[str, datetime] | None = None
    #: the pending certification's promotion set for a time: when (in the file's zone)
    #: and by whom (None: none is set)
    scheduled: tuple[str, str] | None = None


@dataclass(frozen=True)
class RegionView:
    """The aliases of one more region's function."""

    region: str
    function: str
    aliases: list[AliasView]
    recorded_live: str | None


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
        views = self._aliases(skill, skill.placements[0].function, roles, with_history=True)
        regions = tuple(
            RegionView(
                region,
                function,
                self._aliases(skill, function, roles),
                ctx.lambda_.read_live_alias(function),
            )
            for region, function, _ in skill.placements[1:]
        )
        canary = ctx.active_canary(skill)
        pending = ctx.store.pending_certification(skill.name)
        return StatusView(
            skill,
            roles,
            views,
            pending,
            ctx.clock(),
            canary,
            regions,
            disagreement(skill, roles, views, regions) if regions else None,
            certification_drift(skill, roles, pending, views, regions),
            ctx.store.lock_of(skill.name),
            self._frozen(skill),
            self._scheduled(pending),
        )

    def _scheduled(self, pending: Certification | None) -> tuple[str, str] | None:
        found = self.ctx.store.scheduled_promotion(pending.id) if pending else None
        return (shown_at(found.at, self.ctx.timezone), found.scheduled_by) if found else None

    def _frozen(self, skill: Skill) -> tuple[str, datetime] | None:
        zone = ZoneInfo(self.ctx.timezone)
        found = frozen_until(skill.freeze, self.ctx.clock(), zone)
        return (found[0].text, found[1].astimezone(zone)) if found else None

    def _aliases(
        self, skill: Skill, function: str, roles: Roles, *, with_history: bool = False
    ) -> list[AliasView]:
        ctx = self.ctx
        views = []
        for alias in skill.aliases:
            state = ctx.lambda_.get_alias(function, alias)
            version = (
                ctx.lambda_.get_version(function, state.version)
                if state and state.version != LATEST
                else None
            )
            moves = ctx.store.alias_moves(skill.name, alias, limit=1) if with_history else []
            role = "live" if alias == roles.live_alias else "candidate"
            endpoint = self.endpoint_of(skill, alias) if self.endpoint_of and with_history else None
            last = moves[0] if moves else None
            views.append(AliasView(alias, role, state, version, last, endpoint))
        return views

    def history(self, name: str, limit: int = 20) -> list[AuditEvent]:
        return self.ctx.store.audit(self.ctx.skill(name).name, limit)


def disagreement(
    skill: Skill, roles: Roles, default: list[AliasView], regions: tuple[RegionView, ...]
) -> str | None:
    """How a skill's regions disagree (each alias's code, the recorded live alias), in
    words; None when every region agrees."""
    problems = []
    for index, alias in enumerate(skill.aliases):
        codes = [(skill.placements[0].region, _code(default[index]))]
        codes += [(r.region, _code(r.aliases[index])) for r in regions]
        if len({code for _, code in codes}) > 1:
            problems.append(
                f"{alias} serves " + ", ".join(f"{code} in {region}" for region, code in codes)
            )
    tags = [(r.region, r.recorded_live) for r in regions if r.recorded_live != roles.live_alias]
    if tags and roles.recorded:
        problems.append(
            f"{roles.live_alias} is recorded as live in {skill.placements[0].region}, but "
            + ", ".join(f"{tag or 'nothing'} in {region}" for region, tag in tags)
        )
    return "; ".join(problems) or None


def certification_drift(
    skill: Skill,
    roles: Roles,
    cert: Certification | None,
    default: list[AliasView],
    regions: tuple[RegionView, ...],
) -> str | None:
    """How the pending certification's alias has moved since it was certified, as the
    promotion checks it (the first region: the certified version; every other region: the
    certified code); None when promoting would find what was certified."""
    if cert is None or cert.alias not in skill.aliases or roles.live_alias == cert.alias:
        return None  # nothing pending, or a promotion cut short: it finishes without checks
    index = skill.aliases.index(cert.alias)
    first = default[index].state
    if first is None or first.version != cert.version:
        now = version_label(first.version) if first else "nothing (the alias is missing)"
        return f"{cert.alias} serves {now}, not the certified {version_label(cert.version)}"
    for region in regions:
        view = region.aliases[index]
        if view.version is None or view.version.code_sha256 != cert.code_sha256:
            now = version_label(view.state.version) if view.state else "nothing"
            return (
                f"in {region.region}, {cert.alias} serves {now}, not the certified code "
                f"({cert.code_sha256[:12]}…)"
            )
    return None


def _code(view: AliasView) -> str:
    if view.state is None:
        return "no alias"
    if view.version is None:
        return view.state.version
    return view.version.code_sha256[:8] + "…"
