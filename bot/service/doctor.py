"""Doctor's checks at each placement of a skill: its aliases, Alexa triggers and weighted
routing, the live role recorded alike on every function, and the code storage of every
AWS region. Each finding comes with the move its Fix makes at that placement::

    found, aliases = placement_findings(ctx, skill, roles, placement, first=True, recorded="PROD1")
    [(finding.check, move.function) for finding, move in found]
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain import rotation
from bot.domain.errors import NotFound, SkillbotError
from bot.domain.model import AliasState, FixKind, Move, Roles, Skill
from bot.domain.placements import Placement
from bot.domain.regions import aws_region_of
from bot.domain.words import Code, words
from bot.service.context import RotationContext

#: a finding and the move its Fix would make (region "" at the first placement)
Located = tuple[rotation.Finding, Move]
Aliases = dict[str, AliasState | None]


def at(region: str, function: str, finding: rotation.Finding, aliases: Aliases) -> Located:
    """``finding`` with the move of its Fix: from the alias as it is, guarded by its revision."""
    state = aliases.get(finding.alias or "")
    move = Move(
        region,
        function,
        state.version if state else None,
        state.version if state else finding.fix_version,
        revision_id=state.revision_id if state else None,
    )
    return finding, move


def placement_findings(
    ctx: RotationContext,
    skill: Skill,
    roles: Roles,
    placement: Placement,
    *,
    first: bool,
    recorded: str | None = None,
) -> tuple[list[Located], Aliases]:
    """Doctor's checks at one placement. The first placement's tag is the role (read by
    the caller, ``recorded``); every other's must record the same live alias, and its
    findings are named by its region."""
    lam, function = ctx.lambda_, placement.function
    region = "" if first else placement.region
    if not first:
        try:
            recorded = lam.read_live_alias(function)
        except NotFound:
            return [(_missing(skill, region, function), Move(region, function, None, None))], {}
    aliases: Aliases = {a: lam.get_alias(function, a) for a in skill.aliases}
    triggers = {a: lam.alexa_triggers(function, a) for a in skill.aliases if aliases[a]}
    newest = None
    if not all(aliases.values()):
        numbers = [int(v.number) for v in lam.list_versions(function)]
        newest = str(max(numbers)) if numbers else None
    canary = ctx.active_canary(skill)  # its weights are not leftovers
    if canary is not None and not first:
        canary = canary.in_region(region)
    found: list[Located] = []
    for finding in rotation.diagnose(skill, roles, recorded, aliases, triggers, newest, canary):
        if region and finding.check == "role record":
            finding = _role_finding(skill, region, roles, recorded)
        if region:
            finding = replace(finding, check=f"{region}: {finding.check}")
        found.append(at(region, function, finding, aliases))
    return found, aliases


def _missing(skill: Skill, region: str, function: str) -> rotation.Finding:
    return rotation.Finding(
        f"{region}: function exists",
        False,
        words(
            f"{region}'s function ",
            Code(function),
            f" was not found (in {aws_region_of(function) or 'the default region'}): check "
            f"skills.{skill.name}.regional_functions and the bot's account.",
        ),
    )


def _role_finding(
    skill: Skill, region: str, roles: Roles, recorded: str | None
) -> rotation.Finding:
    """Another placement's function must record the same live alias as the first's."""
    if recorded == roles.live_alias:
        return rotation.Finding("role record", True, f"{recorded} is recorded as live (tag)")
    what = f"records {recorded} as live" if recorded else "records no live alias"
    return rotation.Finding(
        "role record",
        False,
        f"{region}'s function {what}, {skill.placements[0].region}'s {roles.live_alias}; Fix "
        f"records {roles.live_alias} there.",
        FixKind.RECORD_ROLES,
        roles.live_alias,
    )


def storage_finding(
    ctx: RotationContext, skill: Skill, placement: Placement, *, first: bool
) -> rotation.Finding:
    """The code storage of the AWS region the placement's function is in, against its
    quota (never fails the doctor); another placement's names its regions."""
    try:
        used, limit = (
            ctx.lambda_.code_storage() if first else ctx.lambda_.code_storage(placement.function)
        )
    except SkillbotError as err:
        finding = rotation.storage_finding(None, None, skill.name, err.said)
    else:
        finding = rotation.storage_finding(used, limit, skill.name)
    where = aws_region_of(placement.function)
    if first:
        return finding
    return replace(
        finding,
        check=f"{placement.region}: {finding.check}",
        detail=words(f"{where}: ", finding.detail) if where else finding.detail,
    )
