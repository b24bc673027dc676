"""What a command answers: a plan with its buttons (in the channel, or asked for from the
command line), the result of applying it, a refusal, doctor's report, the prune plan::

    text, blocks = plan_message(plan)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.adapters.slack.kit import (
    CONFIRM,
    CONFIRM_AND_SUBMIT,
    CONFIRM_CANARY,
    DISMISS,
    FIX_ALL,
    Json,
    buttons,
    commit_link,
    context,
    message,
    say,
    section,
    short_sha,
)
from bot.domain.actors import display
from bot.domain.errors import AppliedNotRecorded, SkillbotError
from bot.domain.model import (
    Change,
    Operation,
    Plan,
    Version,
    duration_label,
    escape,
    version_label,
)
from bot.domain.prune import RegionPrune, size_label
from bot.domain.regions import deployed_ago
from bot.domain.words import Words

Message = tuple[str, list[Json]]
#: a prune plan lists at most this many versions per region
PRUNE_SHOWN = 40


def plan_message(
    plan: Plan,
    *,
    extra: str | Words = "",
    offer_submit: bool = False,
    canary: tuple[str, str] | None = None,
) -> Message:
    """The ephemeral plan: what moves from which version to which, and Confirm/Cancel."""
    lines = [f"*{plan.summary()}*"]
    if plan.operation is not Operation.CANCEL and plan.regions:
        lines.append(f"• alias `{plan.alias}` in every region, together:")
        lines.extend(f"    ◦ {line}" for line in region_lines(plan))
    elif plan.operation is not Operation.CANCEL:  # every other plan here moves an alias
        lines.append(
            f"• alias `{plan.alias}`: {version_label(plan.from_version)} → {plan.to_label}"
        )
        deployed = (
            f", {deployed_ago(plan.code_last_modified, plan.created_at)}"
            if plan.code_last_modified
            else ""
        )
        lines.append(f"• code {short_sha(plan.code_sha256)}{deployed}")
    if plan.commits:
        lines.append(f"• commits {commit_link(plan)}")
    if plan.override:
        lines.append(f"• :warning: past {escape(plan.override)} (--override)")
    who = display(plan.requested_by, plan.run_url)
    lines.append(f"• asked by {who}" + (f": {escape(plan.reason)}" if plan.reason else ""))
    if extra:
        lines.append(say(extra))
    if plan.noop:
        body = [
            section("\n".join(lines)),
            context("Nothing to do: the alias already serves this code."),
        ]
        return message(f"Nothing to do: {plan.summary()}", body)
    choices: list[tuple[str, str, str, str | None]] = [("Confirm", CONFIRM, plan.id, "primary")]
    if offer_submit:
        choices.append(("Confirm and submit to Alexa", CONFIRM_AND_SUBMIT, plan.id, None))
    if canary:
        choices.append((canary[0], CONFIRM_CANARY, canary[1], None))
    choices.append(("Cancel", DISMISS, plan.id, None))
    return message(
        f"Plan: {plan.summary()}",
        [
            section("\n".join(lines)),
            buttons("plan", *choices),
            context(
                "Only Confirm changes anything. The plan is refused if the alias "
                "moves before you confirm."
            ),
        ],
    )


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
            line += f", {deployed_ago(move.code_last_modified, plan.created_at)}"
        lines.append(line)
    return lines


def canary_choice(plan: Plan) -> tuple[str, str]:
    """The "Canary" button of a hotfix plan: its label and the canary plan's id."""
    share, window = plan.canary_weight or 0, duration_label(plan.canary_seconds or 0)
    return f"Canary {share:.0%} for {window}", plan.id


def plan_request(plan: Plan, *, note: str | Words = "", offer_submit: bool = False) -> Message:
    """A plan asked for from the command line, posted in the skill's channel with the same
    buttons (so the same listeners apply it): who asks, and that nothing changes yet."""
    asks = "_Asked for from the command line: an operator's Confirm applies it; nothing "
    asks += "changes until then._"
    extra = "\n".join(line for line in (say(note), asks) if line)
    _, body = plan_message(plan, extra=extra, offer_submit=offer_submit)
    who = display(plan.requested_by, plan.run_url)
    return f"{who} asks an operator to confirm: {plan.summary()}", body


def request_closed(plan: Plan, why: str) -> Message:
    """The request once it can no longer be confirmed: the buttons are gone."""
    return text_message(f"{why}; nothing changed: {plan.summary()}")


def dismissed_message(plan: Plan, user: str) -> Message:
    return text_message(f"Cancelled by <@{user}>; nothing changed: {plan.summary()}")


def text_message(text: str) -> Message:
    """A message that is one section of its own text."""
    return message(text, [section(text)])


def result_message(change: Change) -> Message:
    """The reply to the person who applied a change: the headline, then any notes."""
    if change.noop:
        mark, icon = "Nothing to do", ":white_check_mark:"
    elif change.announced:
        mark, icon = "Done", ":white_check_mark:"
    else:
        mark, icon = "Applied, not announced yet", ":warning:"
    text = f"{mark}: {change.headline()}"
    notes = [say(note) for note in change.notes]
    _, body = message(text, [section(f"{icon} {text}"), *(context(n) for n in notes)])
    return "\n".join([text, *notes]), body


def error_message(err: SkillbotError, *, doing: str = "") -> Message:
    # a change made but not yet recorded was not a failure to do it
    prefix = f"Could not {doing}: " if doing and not isinstance(err, AppliedNotRecorded) else ""
    text, hint = f"{prefix}{say(err.said)}", say(err.todo)
    blocks: list[Block] = [section(f":warning: {text}")]
    if hint:
        blocks.append(context(hint))
    return message(f"{text} {hint}".strip(), blocks)


#: a doctor line's icon by (ok, checked): a check that could not run is no pass
_DOCTOR_ICONS = {
    (True, True): ":white_check_mark:",
    (True, False): ":grey_question:",
    (False, True): ":x:",
    (False, False): ":x:",
}


def doctor_blocks(report: Any) -> Message:
    skill = report.skill.name
    problems = [f for f in report.findings if not f.ok]
    lines = [
        f"{_DOCTOR_ICONS[f.ok, f.checked]} {f.check}: {say(f.detail)}" for f in report.findings
    ]
    blocks: list[Block] = [section(f"*Doctor for {skill}*"), section("\n".join(lines))]
    if report.fixes:
        ids = ",".join(p.id for p in report.fixes)
        plan_lines = "\n".join(f"• {p.summary()}" for p in report.fixes)
        blocks.append(section(f"*Fix would make {len(report.fixes)} change(s):*\n{plan_lines}"))
        blocks.append(
            buttons("doctor", ("Fix", FIX_ALL, ids, "primary"), ("Cancel", DISMISS, ids, None))
        )
    elif problems:
        blocks.append(context("These need a person: follow the advice above."))
    return message(f"{skill}: {report.outcome}", blocks)


def prune_plan_message(
    plan: Plan,
    versions: Sequence[Version],
    keep: int,
    regions: Sequence[RegionPrune] = (),
) -> Message:
    """The prune plan: each version with its code size, the total freed, Confirm/Cancel;
    for a skill in several regions, each region's versions and the space freed there."""
    regional = len(regions) > 1
    parts = list(regions) if regional else [RegionPrune("", "", tuple(versions))]
    count = sum(len(part.versions) for part in parts)
    if not count:
        where = " in any region" if regional else ""
        return text_message(
            f"Nothing to prune in {plan.skill}{where}: every version is in use or among the "
            f"{keep} most recent."
        )
    total = size_label(sum(part.freed for part in parts))
    text = f"Plan: prune {plan.skill}: delete {count} old version(s), {total} freed"
    text += " in all" if regional else ""
    blocks: list[Block] = [section(f"*{text}*")]
    blocks.extend(section("\n".join(_pruned_lines(part, regional))) for part in parts)
    own = " (each region's own)" if regional else ""
    blocks += [
        context(
            f"Kept{own}: $LATEST, the {keep} most recent, every version an alias points at "
            f"or weights, and the pending candidate's. Asked by <@{plan.requested_by}>."
        ),
        buttons(
            "plan", ("Confirm", CONFIRM, plan.id, "primary"), ("Cancel", DISMISS, plan.id, None)
        ),
        context("Versions are deleted one by one; one that is in use by then is skipped."),
    ]
    return message(text, blocks)


def _pruned_lines(part: RegionPrune, regional: bool) -> list[str]:
    lines = [
        f"• {version_label(v.number)} — {size_label(v.code_size)}"
        + (f" — {escape(v.description)}" if v.description else "")
        for v in part.versions[:PRUNE_SHOWN]
    ]
    if len(part.versions) > PRUNE_SHOWN:
        lines.append(f"• … and {len(part.versions) - PRUNE_SHOWN} more")
    if not regional:
        return lines
    head = (
        f"*{part.region}* (`{escape(part.function)}`): {len(part.versions)} "
        f"version(s), {size_label(part.freed)} freed"
    )
    return [head, *(lines or ["• nothing to delete"])]
