"""Doctor over a skill's other regional functions: each region's aliases, Alexa triggers
and weighted routing, and whether its function records the same live alias as the default
one. Every finding with a fix comes back with its region and function, so Fix changes
that function only::

    for finding, region, function, state in regional_findings(ctx, skill, roles):
        ...
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain import rotation
from bot.domain.errors import NotFound, SkillbotError
from bot.domain.model import AliasState, FixKind, Roles, Skill
from bot.domain.regions import aws_region_of
from bot.service.context import RotationContext

#: a finding with the region and function it is about (None, None: the default function)
RegionalFinding = tuple[rotation.Finding, str | None, str | None, AliasState | None]


def regional_findings(ctx: RotationContext, skill: Skill, roles: Roles) -> list[RegionalFinding]:
    """Doctor's checks in every region but the default one, each named by its region."""
    found: list[RegionalFinding] = []
    lam = ctx.lambda_
    # code storage is an AWS region's: each AWS region is checked once
    storage_seen = {aws_region_of(skill.function)}
    active = ctx.active_canary(skill)  # its weights are not leftovers in any region
    for region, function in skill.regional_functions:
        there = replace(skill, function=function)
        try:
            recorded = lam.read_live_alias(function)
        except NotFound:
            missing = rotation.Finding(
                f"{region}: function exists",
                False,
                f"{region}'s function `{function}` was not found (in "
                f"{aws_region_of(function) or 'the default region'}): check "
                f"skills.{skill.name}.regional_functions and the bot's account.",
            )
            found.append((missing, region, function, None))
            continue
        aliases = {a: lam.get_alias(function, a) for a in skill.aliases}
        triggers = {a: lam.alexa_triggers(function, a) for a in skill.aliases if aliases[a]}
        newest = None
        if not all(aliases.values()):
            numbers = [int(v.number) for v in lam.list_versions(function)]
            newest = str(max(numbers)) if numbers else None
        canary = active.in_region(region) if active is not None else None
        for finding in rotation.diagnose(there, roles, recorded, aliases, triggers, newest, canary):
            if finding.check == "role record":
                finding = _role_finding(skill, region, roles, recorded)
            named = replace(finding, check=f"{region}: {finding.check}")
            found.append((named, region, function, aliases.get(finding.alias or "")))
        if aws_region_of(function) not in storage_seen:
            storage_seen.add(aws_region_of(function))
            found.append((_storage(ctx, skill, region, function), region, function, None))
    return found


def _role_finding(
    skill: Skill, region: str, roles: Roles, recorded: str | None
) -> rotation.Finding:
    """A regional function must record the same live alias as the default function."""
    if recorded == roles.live_alias:
        return rotation.Finding("role record", True, f"{recorded} is recorded as live (tag)")
    what = f"records {recorded} as live" if recorded else "records no live alias"
    return rotation.Finding(
        "role record",
        False,
        f"{region}'s function {what}, {skill.default_region}'s {roles.live_alias}; Fix "
        f"records {roles.live_alias} there.",
        FixKind.RECORD_ROLES,
        roles.live_alias,
    )


def _storage(ctx: RotationContext, skill: Skill, region: str, function: str) -> rotation.Finding:
    """The code storage of the region the function is in."""
    try:
        used, limit = ctx.lambda_.code_storage(function)
    except SkillbotError as err:
        finding = rotation.storage_finding(None, None, skill.name, err.message)
    else:
        finding = rotation.storage_finding(used, limit, skill.name)
    where = aws_region_of(function)
    return replace(
        finding,
        check=f"{region}: {finding.check}",
        detail=f"{where}: {finding.detail}" if where else finding.detail,
    )
