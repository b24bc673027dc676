"""Cancelling a pending certification: no AWS change, the certification ends and its
reminders stop (Alexa's withdrawal follows in :meth:`Applying.finish`)::

    change = apply_cancel(ctx, skill, plan, actor="U0ALICE")
"""

from __future__ import annotations

from bot.domain.errors import StalePlan
from bot.domain.model import Certification, CertificationState, Change, Plan, Skill
from bot.domain.words import Run, words
from bot.service.context import RotationContext


def apply_cancel(ctx: RotationContext, skill: Skill, plan: Plan, actor: str) -> Change:
    """End the plan's certification as cancelled, once; a stale plan when it is over."""
    assert plan.certification_id is not None
    cert = ctx.store.get_certification(plan.certification_id)
    if cert is None or not ctx.store.end_certification(
        cert.id, CertificationState.CANCELLED, actor, ctx.clock()
    ):
        raise StalePlan(
            "That certification is no longer pending.",
            hint=words(Run("status", skill.name), " shows the current state."),
        )
    return cancel_change(ctx, skill, plan, ctx.store.get_certification(cert.id) or cert)


def cancel_change(ctx: RotationContext, skill: Skill, plan: Plan, cert: Certification) -> Change:
    """The change a cancellation records (also for one recovery completes)."""
    return Change(
        plan=plan,
        alias=cert.alias,
        from_version=cert.version,
        to_version=cert.version,
        code_sha256=cert.code_sha256,
        live_alias=ctx.roles(skill).live_alias,
        certification=cert,
    )
