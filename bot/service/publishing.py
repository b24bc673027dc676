"""Publishing ``$LATEST`` as a new version, guarded by the hash the plan showed.

Used by a one-region Confirm and by every region of a lockstep Confirm::

    version = publish_guarded(ctx.lambda_, function, plan.code_sha256, plan, actor)
"""

from __future__ import annotations

from bot.domain.errors import Busy, StalePlan
from bot.domain.model import Plan, Version
from bot.domain.words import words
from bot.ports import LambdaPort


def code_changed(plan: Plan, shown_sha256: str, now_sha256: str, outcome: str) -> StalePlan:
    """The refusal of a plan whose ``$LATEST`` changed since it was shown."""
    return StalePlan(
        f"The code in $LATEST changed since this plan was shown "
        f"({shown_sha256[:12]}… → {now_sha256[:12]}…).",
        hint=words(f"{outcome} Run ", plan.run, " again to see the new code."),
    )


def publish_guarded(
    lam: LambdaPort, function: str, code_sha256: str, plan: Plan, actor: str
) -> Version:
    """Publish ``function``'s ``$LATEST`` only if its hash is ``code_sha256``; while a
    deployment is still being applied, wait for it and check the code again."""
    description = f"skillbot {plan.operation} by {actor}: {plan.reason}".strip(": ")
    try:
        return lam.publish_version(function, code_sha256, description)
    except Busy:
        latest = lam.wait_until_updated(function)
        if latest.code_sha256 != code_sha256:
            raise code_changed(
                plan, code_sha256, latest.code_sha256, "Nothing was published."
            ) from None
        return lam.publish_version(function, code_sha256, description)
