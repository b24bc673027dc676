"""What is posted in a skill's channel: a change's announcement, the certification message
and its reminders, the canary message and its end. Text people typed is escaped, so it
cannot mention anyone or plant a link::

    text, blocks = announcement(change, console="https://...")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.adapters.slack.kit import (
    CANARY_ABORT,
    CANARY_COMPLETE,
    ROLLBACK_OFFER,
    Json,
    age,
    buttons,
    commit_link,
    context,
    fields,
    heading,
    mentions,
    message,
    say,
    section,
    short_sha,
    since,
)
from bot.domain.actors import display
from bot.domain.canary import Canary, CanaryRules, CanaryState, Tally, end_headline, other_regions
from bot.domain.freeze import shown_at
from bot.domain.model import (
    Certification,
    CertificationState,
    Change,
    Operation,
    describe_fix,
    duration_label,
    escape,
    version_label,
)
from bot.domain.news import CertificationNews, Reminder, RollbackOffer
from bot.domain.rotation import locked_by

Message = tuple[str, list[Json]]


def announcement(change: Change, *, console: str | None = None) -> Message:
    """Top-level channel message of an alias or role change (alerts first, loudly)."""
    alerts = [say(alert) for alert in change.alerts]
    if change.plan.override:
        alerts.append(
            f":warning: Made past {escape(change.plan.override)}, with --override by "
            f"{display(change.plan.requested_by)}."
        )
    text = "\n".join([change.headline(), *alerts])
    blocks: list[Block] = [
        section(heading(change.headline(reason=False), change.plan.reason)),
        *(section(alert) for alert in alerts),
        fields(_change_fields(change)),
    ]
    if console:
        blocks.append(context(f"<{console}|Open the alias in the AWS console>"))
    return message(text, blocks)


def _change_fields(change: Change) -> list[str]:
    if change.plan.operation is Operation.FIX:
        # a setup fix moves no version: say what changed instead
        fix = describe_fix(change.plan.fix, change.alias, change.plan.region)
        return [
            f"*Alias*\n`{change.alias}`",
            f"*Changed*\n{fix}",
            f"*Live alias*\n`{change.live_alias}`",
        ]
    if change.plan.operation is Operation.PROMOTE:
        # the live role moves between aliases: name both, so no alias seems to change version
        return [
            f"*Live*\n`{change.previous_live_alias}` {version_label(change.from_version)} → "
            f"`{change.alias}` {version_label(change.to_version)}",
            *([f"*Regions*\n{_moves(change)}"] if change.regions else []),
            f"*Code*\n{short_sha(change.code_sha256)}",
        ]
    commits = [f"*Commits*\n{commit_link(change.plan)}"] if change.plan.commits else []
    return [
        f"*Alias*\n`{change.alias}`",
        f"*Version{'s' if change.regions else ''}*\n{_moves(change)}",
        f"*Code*\n{short_sha(change.code_sha256)}",
        *commits,
        f"*Live alias*\n`{change.live_alias}`",
    ]


def _moves(change: Change) -> str:
    """``v1 → v3``, or one such line a region when the change moved several."""
    moves = f"{version_label(change.from_version)} → {version_label(change.to_version)}"
    if change.regions:
        moves = "\n".join(
            [
                f"{change.plan.default_region} {moves}",
                *(
                    f"{r.region} {version_label(r.from_version)} → {version_label(r.to_version)}"
                    for r in change.regions
                ),
            ]
        )
    return moves


def certification_message(news: CertificationNews, *, console: str | None = None) -> Message:
    """The one top-level message of a certification; updated in place as it changes."""
    cert = news.cert
    # the message is posted once and edited only when its state changes, so it says since
    # when (Slack shows the date in each reader's time zone), never a duration that ages
    started, ended_by = since(cert.created_at), display(cert.ended_by or "")
    state = {
        CertificationState.PENDING: f":hourglass_flowing_sand: pending since {started}",
        CertificationState.PROMOTED: f":white_check_mark: promoted by {ended_by}",
        CertificationState.CANCELLED: f":no_entry_sign: cancelled by {ended_by}",
    }[cert.state]
    title = (
        f"{cert.skill}: certify {cert.alias} {version_label(news.from_version)} → "
        f"{version_label(cert.version)} by {started_by(cert)}"
    )
    text = title + (f" — {escape(cert.note)}" if cert.note else "")
    lines = [
        heading(title, cert.note),
        f"State: {state}",
        f"Code {short_sha(cert.code_sha256)}",
        say(news.endpoint) if news.endpoint else None,
    ]
    if news.review_status:
        lines.append(f"Alexa certification: {news.review_status}")
    if news.approvals > 1 and cert.pending:
        who = f": {mentions(news.approved)}" if news.approved else ""
        lines.append(f"Approvals: {len(news.approved)} of {news.approvals}{who}")
    if news.scheduled:
        at = shown_at(news.scheduled.at, news.timezone)
        lines.append(
            f":alarm_clock: Promotion scheduled for {at} by {display(news.scheduled.scheduled_by)}"
        )
    if news.lock:
        lines.append(f":lock: {say(locked_by(news.lock))}: promoting waits until it is unlocked.")
    blocks: list[Block] = [section("\n".join(line for line in lines if line))]
    if cert.pending:
        blocks.append(
            context(
                f"When certification passes, an approver ({mentions(news.approvers)}) reacts "
                f"with :{news.reaction}: to promote {cert.alias} to live."
                if news.approvals <= 1
                else f"When certification passes, {news.approvals} approvers "
                f"({mentions(news.approvers)}) react with :{news.reaction}:; the last one "
                f"promotes {cert.alias} to live."
            )
        )
    if console:
        blocks.append(context(f"<{console}|Open {cert.alias} in the AWS console>"))
    return message(text, blocks)


def started_by(cert: Certification) -> str:
    """``<@U0ALICE>``, or ``<@U0ALICE>, confirmed by <@U0BOB>``: who started it (four eyes
    keeps both from promoting it)."""
    confirmed = f", confirmed by {display(cert.confirmed_by)}" if cert.confirmed_by else ""
    return display(cert.requested_by) + confirmed


def reminder_message(news: Reminder) -> str:
    """The thread reply of a reminder: how long, what, who started it, how to promote."""
    cert = news.cert
    review = f" Alexa says: {news.review_status}." if news.review_status else ""
    return (
        f":alarm_clock: Certification of {version_label(cert.version)} on {cert.alias} has been "
        f"pending for {age(cert.created_at, news.now)} (started by {started_by(cert)})."
        f"{review} When it passes, {mentions(news.approvers)} can react with :{news.reaction}: "
        "on the message above to promote it."
    )


def not_an_approver(user: str, approvers: Sequence[str], reaction: str) -> str:
    return (
        f"<@{user}>, only {mentions(approvers)} may promote with :{reaction}:; "
        "your reaction changed nothing."
    )


def rollback_offer(offer: RollbackOffer) -> Message:
    """Under a health report that found the release worse: plan the rollback."""
    text = f"{offer.skill} is worse since the change ({offer.why}): roll back to v{offer.version}?"
    blocks = [
        section(f":warning: {escape(text)}"),
        buttons(
            "health_rollback",
            (
                f"Roll back to v{offer.version}",
                ROLLBACK_OFFER,
                json.dumps({"skill": offer.skill, "version": offer.version}),
                "danger",
            ),
        ),
    ]
    return message(text, blocks)


# -- canaries ------------------------------------------------------------------------


def _tally(label: str, share: float, tally: Tally) -> str:
    shown = "—" if tally.rate is None else f"{tally.rate:.2f} %"
    return (
        f"*{label}* ({share:.0%} of traffic)\n{tally.invocations} invocations, "
        f"{tally.errors} errors\nerror rate *{shown}*"
    )


def _figures(canary: Canary) -> list[Block]:
    """Both versions' figures side by side (all regions together), then each region's."""
    blocks: list[Block] = [
        fields(
            [
                _tally(version_label(canary.old_version), 1 - canary.weight, canary.old),
                _tally(version_label(canary.new_version), canary.weight, canary.new),
            ]
        )
    ]
    if canary.regions:
        lines = (
            f"*{r.region}* {r.moves}: {version_label(r.new_version)} {r.new.describe()}; "
            f"{version_label(r.old_version)} {r.old.describe()}"
            for r in canary.regions
        )
        blocks.append(context("\n".join(lines)))
    return blocks


def start_headline(canary: Canary, *, reason: bool = True) -> str:
    why = f" — {escape(canary.reason)}" if canary.reason and reason else ""
    return (
        f"{canary.skill}: canary {canary.alias} {version_label(canary.old_version)} → "
        f"{version_label(canary.new_version)}{other_regions(canary)} for "
        f"{canary.weight:.0%} of traffic, "
        f"{duration_label(canary.seconds)}, by <@{canary.requested_by}>{why}"
    )


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


def canary_message(canary: Canary, *, now: datetime, rules: CanaryRules) -> Message:
    """The one canary message: both versions' figures side by side, time left, buttons."""
    text = start_headline(canary)
    figures = _figures(canary)
    title = heading(start_headline(canary, reason=False), canary.reason)
    blocks = [section(title), figures[0], section(_state_line(canary, now)), *figures[1:]]
    if canary.state in (CanaryState.COMPLETED, CanaryState.ABORTED) and canary.outcome:
        blocks.append(context(canary.outcome))  # skillbot's words, never typed text
    if canary.state is CanaryState.RUNNING:
        old, new = version_label(canary.old_version), version_label(canary.new_version)
        blocks.append(
            buttons(
                "canary",
                ("Complete now", CANARY_COMPLETE, canary.id, "primary"),
                ("Abort", CANARY_ABORT, canary.id, "danger"),
            )
        )
        blocks.append(
            context(
                f"Aborts by itself as soon as {new}'s error rate is more than "
                f"{rules.max_error_rate_increase:g} points above {old}'s (with at least "
                f"{rules.min_invocations} invocations); completes at the end of the window "
                "otherwise."
            )
        )
    return message(text, blocks)


def end_announcement(canary: Canary) -> Message:
    """The top-level announcement of a canary's end, with the figures."""
    text = end_headline(canary)
    icon = ":white_check_mark:" if canary.state is CanaryState.COMPLETED else ":x:"
    return message(text, [section(f"{icon} *{text}*"), *_figures(canary)])


def canary_status(canary: Canary, now: datetime) -> str:
    """One line for the status and App Home."""
    old, new = version_label(canary.old_version), version_label(canary.new_version)
    return (
        f":bird: Canary on {canary.alias}: {new} takes {canary.weight:.0%} of traffic beside "
        f"{old} ({canary.state}). {_state_line(canary, now)} "
        f"{new} {canary.new.describe()}, {old} {canary.old.describe()}"
    )
