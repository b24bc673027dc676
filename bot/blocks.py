"""Pure Block Kit builders: values in, ``(text, blocks)`` or a view out. No Slack client.

``text`` is always the notification fallback a person reads in a push notification, so
it carries the essentials on its own (skill, alias, ``vOLD → vNEW``, who, why)::

    text, blocks = announcement(change, console_url="https://...")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.actors import display
from bot.domain.errors import AppliedNotRecorded, SkillbotError
from bot.domain.model import (
    Certification,
    CertificationState,
    Change,
    Operation,
    Plan,
    describe_fix,
    escape,
    version_label,
)
from bot.domain.words import Words, render

Block = dict[str, Any]

# action ids: the one list handlers/__init__.py registers
CONFIRM = "plan_confirm"
CONFIRM_AND_SUBMIT = "plan_confirm_submit"
DISMISS = "plan_dismiss"
FIX_ALL = "doctor_fix_all"
CONFIRM_CANARY = "plan_confirm_canary"
CANARY_COMPLETE = "canary_complete"
CANARY_ABORT = "canary_abort"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def age(since: datetime, now: datetime) -> str:
    """``"3d 4h"``, ``"2h 5m"``, ``"40s"``: how long something has been going on."""
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def short_sha(code_sha256: str | None) -> str:
    return f"`{code_sha256[:12]}…`" if code_sha256 else "—"


def console_url(region: str, function: str, alias: str | None = None) -> str:
    base = f"https://{region}.console.aws.amazon.com/lambda/home?region={region}#/functions/"
    name = function.rsplit(":", 1)[-1] if function.startswith("arn:") else function
    return base + name + (f"/aliases/{alias}" if alias else "")


# -- plans ---------------------------------------------------------------------------


def plan_message(
    plan: Plan,
    *,
    extra: str = "",
    offer_submit: bool = False,
    canary: tuple[str, str] | None = None,
) -> tuple[str, list[Block]]:
    """The ephemeral plan: what moves from which version to which, and Confirm/Cancel."""
    text = f"Plan: {plan.summary()}"
    lines = [f"*{plan.summary()}*"]
    if plan.operation is not Operation.CANCEL and plan.regions:
        lines.append(f"• alias `{plan.alias}` in every region, together:")
        lines.extend(f"    ◦ {line}" for line in region_lines(plan))
    elif plan.operation is not Operation.CANCEL:  # every other plan here moves an alias
        lines.append(
            f"• alias `{plan.alias}`: {version_label(plan.from_version)} → {plan.to_label}"
        )
        lines.append(f"• code {short_sha(plan.code_sha256)}")
        if plan.code_last_modified:
            lines.append(f"• last modified {plan.code_last_modified}")
    who = display(plan.requested_by, plan.run_url)
    lines.append(f"• asked by {who}" + (f": {escape(plan.reason)}" if plan.reason else ""))
    if extra:
        lines.append(extra)
    blocks = [section("\n".join(lines))]
    if plan.noop:
        blocks.append(context("Nothing to do: the alias already serves this code."))
        return f"Nothing to do: {plan.summary()}", blocks
    blocks.append(
        {
            "type": "actions",
            "block_id": "plan",
            "elements": [
                button("Confirm", CONFIRM, plan.id, "primary"),
                *(
                    [button("Confirm and submit to Alexa", CONFIRM_AND_SUBMIT, plan.id)]
                    if offer_submit
                    else []
                ),
                *([button(canary[0], CONFIRM_CANARY, canary[1])] if canary else []),
                button("Cancel", DISMISS, plan.id),
            ],
        }
    )
    blocks.append(
        context(
            "Only Confirm changes anything. The plan is refused if the alias "
            "moves before you confirm."
        )
    )
    return text, blocks


def region_lines(plan: Plan) -> list[str]:
    """One line per region of a lockstep plan: ``NA: v7 → a new version, code …``."""
    lines = []
    for move in plan.moves:
        new = (
            "a new version from $LATEST"
            if move.to_version is None
            else version_label(move.to_version)
        )
        line = f"*{move.region}*: {version_label(move.from_version)} → {new}"
        if move.to_version == move.from_version:
            line += " (already there)"
        line += f", code {short_sha(move.code_sha256)}"
        if move.code_last_modified:
            line += f", last modified {move.code_last_modified}"
        lines.append(line)
    return lines


def result_message(change: Change) -> tuple[str, list[Block]]:
    """The reply to the person who applied a change: the headline, then any notes."""
    if change.noop:
        mark, icon = "Nothing to do", ":white_check_mark:"
    elif change.announced:
        mark, icon = "Done", ":white_check_mark:"
    else:
        mark, icon = "Applied, not announced yet", ":warning:"
    text = f"{mark}: {change.headline()}"
    body = [section(f"{icon} {text}"), *(context(n) for n in change.notes)]
    return "\n".join([text, *change.notes]), body


def say(said: Words) -> str:
    """Words as Slack shows them: ``/skill`` commands, mentions, typed text escaped."""
    return render(
        said,
        command=lambda run: f"`/skill {run.line}`",
        person=display,
        typed=escape,
    )


def error_message(err: SkillbotError, *, doing: str = "") -> tuple[str, list[Block]]:
    # a change made but not yet recorded was not a failure to do it
    prefix = f"Could not {doing}: " if doing and not isinstance(err, AppliedNotRecorded) else ""
    text, hint = f"{prefix}{say(err.said)}", say(err.todo)
    blocks = [section(f":warning: {text}")]
    if hint:
        blocks.append(context(hint))
    return f"{text} {hint}".strip(), blocks


def dismissed_message(plan: Plan, user: str) -> tuple[str, list[Block]]:
    text = f"Cancelled by <@{user}>; nothing changed: {plan.summary()}"
    return text, [section(text)]


# -- announcements -------------------------------------------------------------------


def announcement(change: Change, *, console: str | None = None) -> tuple[str, list[Block]]:
    """Top-level channel message of an alias or role change (alerts first, loudly)."""
    text = "\n".join([change.headline(), *change.alerts])
    if change.plan.operation is Operation.FIX:
        # a setup fix moves no version: say what changed instead
        fields = [
            f"*Alias*\n`{change.alias}`",
            f"*Changed*\n{describe_fix(change.plan.fix, change.alias, change.plan.region)}",
            f"*Live alias*\n`{change.live_alias}`",
        ]
    else:
        moves = f"{version_label(change.from_version)} → {version_label(change.to_version)}"
        if change.regions:
            moves = "\n".join(
                [
                    f"{change.plan.default_region} {moves}",
                    *(
                        f"{r.region} {version_label(r.from_version)} → "
                        f"{version_label(r.to_version)}"
                        for r in change.regions
                    ),
                ]
            )
        fields = [
            f"*Alias*\n`{change.alias}`",
            f"*Version{'s' if change.regions else ''}*\n{moves}",
            f"*Code*\n{short_sha(change.code_sha256)}",
            f"*Live alias*\n`{change.live_alias}`",
        ]
    blocks: list[Block] = [
        section(f"*{change.headline()}*"),
        *(section(alert) for alert in change.alerts),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if console:
        blocks.append(context(f"<{console}|Open the alias in the AWS console>"))
    return text, blocks


def certification_message(
    cert: Certification,
    *,
    from_version: str | None,
    now: datetime,
    approvers: Sequence[str],
    reaction: str,
    console: str | None = None,
    review_status: str | None = None,
    endpoint: str | None = None,
) -> tuple[str, list[Block]]:
    """The one top-level message of a certification; updated in place as it changes.
    ``endpoint`` is the line naming what Alexa calls for certification."""
    pending_for, ended_by = age(cert.created_at, now), display(cert.ended_by or "")
    state = {
        CertificationState.PENDING: f":hourglass_flowing_sand: pending for {pending_for}",
        CertificationState.PROMOTED: f":white_check_mark: promoted by {ended_by}",
        CertificationState.CANCELLED: f":no_entry_sign: cancelled by {ended_by}",
    }[cert.state]
    text = (
        f"{cert.skill}: certify {cert.alias} {version_label(from_version)} → "
        f"{version_label(cert.version)} by {display(cert.requested_by)}"
        + (f" — {escape(cert.note)}" if cert.note else "")
    )
    lines = [
        f"*{text}*",
        f"State: {state}",
        f"Code {short_sha(cert.code_sha256)}",
    ]
    if endpoint:
        lines.append(endpoint)
    if review_status:
        lines.append(f"Alexa certification: {review_status}")
    blocks: list[Block] = [section("\n".join(lines))]
    if cert.pending:
        blocks.append(
            context(
                f"When certification passes, an approver ({mentions(approvers)}) reacts with "
                f":{reaction}: to promote {cert.alias} to live."
            )
        )
    if console:
        blocks.append(context(f"<{console}|Open {cert.alias} in the AWS console>"))
    return text, blocks


def reminder_message(
    cert: Certification,
    *,
    now: datetime,
    approvers: Sequence[str],
    reaction: str,
    review_status: str | None = None,
) -> str:
    """The thread reply of a reminder: how long, what, who started it, how to promote."""
    review = f" Alexa says: {review_status}." if review_status else ""
    return (
        f":alarm_clock: Certification of {version_label(cert.version)} on {cert.alias} has been "
        f"pending for {age(cert.created_at, now)} (started by {display(cert.requested_by)})."
        f"{review} "
        f"When it passes, {mentions(approvers)} can react with :{reaction}: on the message "
        "above to promote it."
    )


def not_an_approver(user: str, approvers: Sequence[str], reaction: str) -> str:
    return (
        f"<@{user}>, only {mentions(approvers)} may promote with :{reaction}:; "
        "your reaction changed nothing."
    )


def mentions(users: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) or "nobody (configure approvers)"


# the status view and App Home live in bot.blocks_status (named here for older callers)
from bot.blocks_status import home_view as home_view  # noqa: E402
from bot.blocks_status import status_blocks as status_blocks  # noqa: E402
from bot.blocks_status import status_text as status_text  # noqa: E402
