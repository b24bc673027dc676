"""Block Kit of a plan asked for from the command line: posted in the skill's channel with
the same Confirm/Cancel buttons as the ephemeral plan (so the same listeners apply it),
and replaced when it can no longer be confirmed::

    text, blocks = plan_request(plan)            # chat.postMessage to the skill's channel
    text, blocks = request_closed(plan, "Nobody confirmed within 30m")   # chat.update
"""

from __future__ import annotations

from bot.blocks import Block, plan_message
from bot.domain.actors import display
from bot.domain.model import Plan


def plan_request(
    plan: Plan, *, note: str = "", offer_submit: bool = False
) -> tuple[str, list[Block]]:
    """The plan, who asks (a pipeline with its run link, or a person) and the buttons."""
    who = display(plan.requested_by, plan.run_url)
    asks = "_Asked for from the command line: an operator's Confirm applies it; nothing "
    asks += "changes until then._"
    extra = "\n".join(line for line in (note, asks) if line)
    _, body = plan_message(plan, extra=extra, offer_submit=offer_submit)
    return f"{who} asks an operator to confirm: {plan.summary()}", body


def request_closed(plan: Plan, why: str) -> tuple[str, list[Block]]:
    """The request once it can no longer be confirmed: the buttons are gone."""
    text = f"{why}; nothing changed: {plan.summary()}"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]
