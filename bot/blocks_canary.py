"""Pure Block Kit builders of canaries and pruning: values in, ``(text, blocks)`` out.

The canary message (one per canary, updated in place), the announcements of its end,
and the prune plan. Text people typed (reasons) is escaped, so it cannot mention
anyone or plant a link::

    text, blocks = canary_message(canary, now=now, rules=CanaryRules())
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.blocks import CANARY_ABORT, CANARY_COMPLETE, CONFIRM, DISMISS, button, context, section
from bot.domain.canary import Canary, CanaryRules, CanaryState, Tally
from bot.domain.model import AliasState, Plan, Version, duration_label, version_label
from bot.domain.prune import RegionPrune, size_label
from bot.domain.text import escape

Block = dict[str, Any]


def _why(reason: str) -> str:
    return f" — {escape(reason)}" if reason else ""


def _tally(label: str, share: float, tally: Tally) -> str:
    rate = tally.rate
    shown = "—" if rate is None else f"{rate:.2f} %"
    return (
        f"*{label}* ({share:.0%} of traffic)\n{tally.invocations} invocations, "
        f"{tally.errors} errors\nerror rate *{shown}*"
    )


def alias_text(state: AliasState | None) -> str:
    """``"v7, v8 at 10%"``: an alias's main version and its weights."""
    if state is None:
        return "the alias is gone"
    extra = "".join(f", {version_label(v)} at {w:.0%}" for v, w in state.routing.items())
    return version_label(state.version) + extra


def _other_regions(canary: Canary, *, stays: bool = False) -> str:
    """`` (NA), EU v5 → v6, FE v2 → v3``: a canary's other regions, after the default's."""
    if not canary.regions:
        return ""
    first, *others = canary.regions
    if stays:
        moves = [f"{r.region} stays on {version_label(r.old_version)}" for r in others]
    else:
        moves = [r.moves for r in others]
    return f" ({first.region}), " + ", ".join(moves)


def start_headline(canary: Canary) -> str:
    return (
        f"{canary.skill}: canary {canary.alias} {version_label(canary.old_version)} → "
        f"{version_label(canary.new_version)}{_other_regions(canary)} for "
        f"{canary.weight:.0%} of traffic, "
        f"{duration_label(canary.seconds)}, by <@{canary.requested_by}>{_why(canary.reason)}"
    )


def end_headline(canary: Canary) -> str:
    """The end in one line, e.g. ``trivia: canary completed — PROD1 v7 → v8 …``."""
    old, new = version_label(canary.old_version), version_label(canary.new_version)
    if canary.state is CanaryState.COMPLETED:
        what = f"completed — {canary.alias} {old} → {new}{_other_regions(canary)}"
    else:
        others = _other_regions(canary, stays=True)
        what = f"aborted — {canary.alias} stays on {old} ({new} → {old}){others}"
    return f"{canary.skill}: canary {what}; {canary.outcome}"


def _state_line(canary: Canary, now: datetime) -> str:
    if canary.state is CanaryState.COMPLETED:
        new = version_label(canary.new_version)
        return f":white_check_mark: Completed: {canary.alias} now serves {new}."
    if canary.state is CanaryState.ABORTED:
        return f":x: Aborted: {canary.alias} serves {version_label(canary.old_version)} only."
    if canary.state is CanaryState.ENDING:
        return ":hourglass_flowing_sand: Ending…"
    ends = canary.ends_at
    left = max(0, int((ends - now).total_seconds())) if ends else canary.seconds
    if canary.waiting:
        return f":hourglass: The window is over; {canary.outcome}."
    return f":hourglass_flowing_sand: Running, {duration_label(left)} left."


def canary_message(canary: Canary, *, now: datetime, rules: CanaryRules) -> tuple[str, list[Block]]:
    """The one canary message: both versions' figures side by side, time left, buttons."""
    text = start_headline(canary)
    blocks: list[Block] = [
        section(f"*{text}*"),
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": _tally(
                        version_label(canary.old_version), 1 - canary.weight, canary.old
                    ),
                },
                {
                    "type": "mrkdwn",
                    "text": _tally(version_label(canary.new_version), canary.weight, canary.new),
                },
            ],
        },
        section(_state_line(canary, now)),
    ]
    if canary.regions:  # each marketplace's own figures (the fields above: all together)
        blocks.append(context(_per_region(canary)))
    if canary.state in (CanaryState.COMPLETED, CanaryState.ABORTED) and canary.outcome:
        blocks.append(context(canary.outcome))  # skillbot's words, never typed text
    if canary.state is CanaryState.RUNNING:
        blocks.append(
            {
                "type": "actions",
                "block_id": "canary",
                "elements": [
                    button("Complete now", CANARY_COMPLETE, canary.id, "primary"),
                    button("Abort", CANARY_ABORT, canary.id, "danger"),
                ],
            }
        )
        blocks.append(
            context(
                f"Aborts by itself as soon as {version_label(canary.new_version)}'s error rate "
                f"is more than {rules.max_error_rate_increase:g} points above "
                f"{version_label(canary.old_version)}'s (with at least {rules.min_invocations} "
                "invocations); completes at the end of the window otherwise."
            )
        )
    return text, blocks


def _per_region(canary: Canary) -> str:
    return "\n".join(
        f"*{r.region}* {r.moves}: {version_label(r.new_version)} {r.new.describe()}; "
        f"{version_label(r.old_version)} {r.old.describe()}"
        for r in canary.regions
    )


def end_announcement(canary: Canary) -> tuple[str, list[Block]]:
    """The top-level announcement of a canary's end, with the figures."""
    text = end_headline(canary)
    icon = ":white_check_mark:" if canary.state is CanaryState.COMPLETED else ":x:"
    fields = [
        _tally(version_label(canary.old_version), 1 - canary.weight, canary.old),
        _tally(version_label(canary.new_version), canary.weight, canary.new),
    ]
    blocks = [
        section(f"{icon} *{text}*"),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if canary.regions:
        blocks.append(context(_per_region(canary)))
    return text, blocks


def canary_choice(plan: Plan) -> tuple[str, str]:
    """The "Canary" button of a hotfix plan: its label and the canary plan's id."""
    share, window = plan.canary_weight or 0, duration_label(plan.canary_seconds or 0)
    return f"Canary {share:.0%} for {window}", plan.id


def canary_status(canary: Canary, now: datetime) -> str:
    """One line for ``/skill status`` and App Home."""
    figures = (
        f"{version_label(canary.new_version)} {canary.new.describe()}, "
        f"{version_label(canary.old_version)} {canary.old.describe()}"
    )
    return (
        f":bird: Canary on {canary.alias}: {version_label(canary.new_version)} takes "
        f"{canary.weight:.0%} of traffic beside {version_label(canary.old_version)} "
        f"({canary.state}). {_state_line(canary, now)} {figures}"
    )


# -- pruning -------------------------------------------------------------------------


def prune_plan_message(
    plan: Plan,
    versions: Sequence[Version],
    keep: int,
    regions: Sequence[RegionPrune] = (),
) -> tuple[str, list[Block]]:
    """The prune plan: each version with its code size, the total freed, Confirm/Cancel;
    for a skill in several regions, each region's versions and the space freed there."""
    regional = len(regions) > 1
    parts = list(regions) if regional else [RegionPrune("", "", tuple(versions))]
    count = sum(len(part.versions) for part in parts)
    total = sum(part.freed for part in parts)
    if not count:
        where = " in any region" if regional else ""
        text = (
            f"Nothing to prune in {plan.skill}{where}: every version is in use or among the "
            f"{keep} most recent."
        )
        return text, [section(text)]
    text = f"Plan: prune {plan.skill}: delete {count} old version(s), {size_label(total)} freed" + (
        " in all" if regional else ""
    )
    blocks: list[Block] = [section(f"*{text}*")]
    for part in parts:
        lines = [
            f"• {version_label(v.number)} — {size_label(v.code_size)}"
            + (f" — {escape(v.description)}" if v.description else "")
            for v in part.versions[:40]
        ]
        if len(part.versions) > 40:
            lines.append(f"• … and {len(part.versions) - 40} more")
        if regional:
            head = (
                f"*{part.region}* (`{escape(part.function)}`): {len(part.versions)} "
                f"version(s), {size_label(part.freed)} freed"
            )
            lines = [head, *(lines or ["• nothing to delete"])]
        blocks.append(section("\n".join(lines)))
    own = " (each region's own)" if regional else ""
    return text, [
        *blocks,
        context(
            f"Kept{own}: $LATEST, the {keep} most recent, every version an alias points at "
            "or weights, and the pending candidate's. Asked by "
            f"<@{plan.requested_by}>."
        ),
        {
            "type": "actions",
            "block_id": "plan",
            "elements": [
                button("Confirm", CONFIRM, plan.id, "primary"),
                button("Cancel", DISMISS, plan.id),
            ],
        },
        context("Versions are deleted one by one; one that is in use by then is skipped."),
    ]
