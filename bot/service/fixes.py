"""Doctor's fixes, each one change at one placement: create a missing alias, add the
verified Alexa trigger, clear leftover weighted routing, record the live role on the
function, let API Gateway invoke an alias.

A fix whose change a lost attempt already made completes as "nothing to do"::

    change = apply_fix(ctx, skill, plan)   # under the skill's lock, from Applying
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain import rotation
from bot.domain.errors import StalePlan
from bot.domain.model import Change, FixKind, Plan, Skill
from bot.domain.words import Run, words
from bot.service.context import RotationContext
from bot.service.gateway import GatewayChecks

#: one fix at its plan's one placement: (ctx, skill, plan, gateway) →
#: True when it changed AWS, False when there was nothing left to do
Fix = Callable[[RotationContext, Skill, Plan, GatewayChecks | None], bool]


def apply_fix(
    ctx: RotationContext, skill: Skill, plan: Plan, *, gateway: GatewayChecks | None = None
) -> Change:
    assert plan.alias is not None and plan.fix is not None
    roles = ctx.roles(skill)
    changed = FIXES[plan.fix](ctx, skill, plan, gateway)
    return Change(
        plan=plan,
        alias=plan.alias,
        from_version=plan.from_version,
        to_version=plan.to_version,
        code_sha256=None,
        live_alias=roles.live_alias,
        noop=not changed,
    )


def _create_alias(ctx: RotationContext, skill: Skill, plan: Plan, _: GatewayChecks | None) -> bool:
    lam, alias, function = ctx.lambda_, plan.alias or "", plan.moves[0].function
    state = lam.get_alias(function, alias)
    if state is not None and state.version == plan.to_version:
        return False  # created by a lost attempt
    if state is not None:
        raise StalePlan(
            f"{alias} exists now.", hint=words("Run ", Run("doctor", skill.name), " again.")
        )
    assert plan.to_version is not None
    rotation.check_published(plan.to_version, alias)
    lam.create_alias(function, alias, plan.to_version)
    return True


def _add_trigger(ctx: RotationContext, skill: Skill, plan: Plan, _: GatewayChecks | None) -> bool:
    lam, alias, function = ctx.lambda_, plan.alias or "", plan.moves[0].function
    rotation.require_alias(lam.get_alias(function, alias), skill, alias, function)
    ours = lam.alexa_trigger_id(alias)
    triggers = lam.alexa_triggers(function, alias)
    if any(t.skill_id == skill.alexa_skill_id or t.statement_id == ours for t in triggers):
        return False  # e.g. added by a lost attempt
    lam.add_alexa_trigger(function, alias, skill.alexa_skill_id)
    return True


def _clear_routing(ctx: RotationContext, skill: Skill, plan: Plan, _: GatewayChecks | None) -> bool:
    lam, alias, function = ctx.lambda_, plan.alias or "", plan.moves[0].function
    ctx.check_no_canary(skill, alias, "clearing its weights")
    current = rotation.require_alias(lam.get_alias(function, alias), skill, alias, function)
    rotation.check_fresh(plan, current)
    lam.update_alias(function, alias, current.version, current.revision_id, clear_routing=True)
    return True


def _record_roles(ctx: RotationContext, skill: Skill, plan: Plan, _: GatewayChecks | None) -> bool:
    lam, alias, function = ctx.lambda_, plan.alias or "", plan.moves[0].function
    recorded = lam.read_live_alias(function)
    # the first placement's tag is the role: any recorded one stands; another placement
    # must record the same live alias
    if recorded == alias or (plan.region is None and recorded in skill.aliases):
        return False
    lam.write_live_alias(function, alias)
    return True


def _gateway_permission(
    ctx: RotationContext, skill: Skill, plan: Plan, gateway: GatewayChecks | None
) -> bool:
    # a region's own URLs: the permission goes on that region's function
    return gateway is not None and gateway.add_permission(
        skill, plan.alias or "", region=plan.region
    )


FIXES: dict[FixKind, Fix] = {
    FixKind.CREATE_ALIAS: _create_alias,
    FixKind.ADD_TRIGGER: _add_trigger,
    FixKind.CLEAR_ROUTING: _clear_routing,
    FixKind.RECORD_ROLES: _record_roles,
    FixKind.ADD_GATEWAY_PERMISSION: _gateway_permission,
}
