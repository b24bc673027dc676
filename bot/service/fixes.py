"""Doctor's fixes, each one change: create a missing alias, add the verified Alexa trigger,
clear leftover weighted routing, record the live role on the function, let API Gateway
invoke an alias.

A fix whose change a lost attempt already made completes as "nothing to do"::

    change = apply_fix(ctx, skill, plan)   # under the skill's lock, from Applying
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain import rotation
from bot.domain.errors import StalePlan
from bot.domain.model import Change, FixKind, Plan, Roles, Skill
from bot.service.context import RotationContext
from bot.service.gateway import GatewayChecks


def apply_fix(
    ctx: RotationContext, skill: Skill, plan: Plan, *, gateway: GatewayChecks | None = None
) -> Change:
    lam = ctx.lambda_
    alias = plan.alias
    assert alias is not None and plan.fix is not None
    roles = ctx.roles(skill)
    if plan.function is not None:  # a fix of one of the skill's regional functions
        regional = replace(skill, function=plan.function)
        if plan.fix is FixKind.RECORD_ROLES:
            if lam.read_live_alias(plan.function) == alias:
                return _fix_change(plan, roles, noop=True)
            lam.write_live_alias(plan.function, alias)
            return _fix_change(plan, roles, noop=False)
        skill = regional
    state = lam.get_alias(skill.function, alias)
    if plan.fix is FixKind.CREATE_ALIAS:
        if state is not None and state.version == plan.to_version:
            return _fix_change(plan, roles, noop=True)  # created by a lost attempt
        if state is not None:
            raise StalePlan(f"{alias} exists now.", hint=f"Run `/skill doctor {skill.name}` again.")
        assert plan.to_version is not None
        rotation.check_published(plan.to_version, alias)
        lam.create_alias(skill.function, alias, plan.to_version)
    elif plan.fix is FixKind.ADD_TRIGGER:
        rotation.require_alias(state, skill, alias)
        triggers = lam.alexa_triggers(skill.function, alias)
        ours = lam.alexa_trigger_id(alias)
        if any(t.skill_id == skill.alexa_skill_id or t.statement_id == ours for t in triggers):
            return _fix_change(plan, roles, noop=True)  # e.g. added by a lost attempt
        lam.add_alexa_trigger(skill.function, alias, skill.alexa_skill_id)
    elif plan.fix is FixKind.CLEAR_ROUTING:
        ctx.check_no_canary(skill, alias, "clearing its weights")
        current = rotation.require_alias(state, skill, alias)
        rotation.check_fresh(plan, current)
        lam.update_alias(
            skill.function, alias, current.version, current.revision_id, clear_routing=True
        )
    elif plan.fix is FixKind.RECORD_ROLES:
        if lam.read_live_alias(skill.function) in skill.aliases:
            return _fix_change(plan, roles, noop=True)
        lam.write_live_alias(skill.function, alias)
    elif plan.fix is FixKind.ADD_GATEWAY_PERMISSION:
        # a region's own URLs: the permission goes on that region's function
        added = gateway is not None and gateway.add_permission(skill, alias, region=plan.region)
        return _fix_change(plan, roles, noop=not added)
    return _fix_change(plan, roles, noop=False)


def _fix_change(plan: Plan, roles: Roles, *, noop: bool) -> Change:
    return Change(
        plan=plan,
        alias=plan.alias,
        from_version=plan.from_version,
        to_version=plan.to_version,
        code_sha256=None,
        live_alias=roles.live_alias,
        noop=noop,
    )
