"""What the bot answers when asked to show: a skill's status (aliases, roles, regions, the
pending certification, a canary), the App Home tab of every skill's, the history, help::

    text, blocks = status_text(view), status_blocks(view, region="eu-west-1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.adapters.slack.kit import (
    TEXT_MAX,
    Json,
    age,
    console_url,
    context,
    cut,
    fields,
    mentions,
    message,
    say,
    section,
    short_sha,
)
from bot.adapters.slack.messages import canary_status, started_by
from bot.domain.actors import display
from bot.domain.model import AuditEvent, FixKind, Outcome, escape, version_label
from bot.domain.news import HomeView
from bot.domain.rotation import locked_by

#: one history entry's most characters; a long reason is cut, never the older entries
HISTORY_ENTRY_MAX = 600
#: entries are packed into sections below a section's limit
SECTION_MAX = TEXT_MAX - 100
#: an App Home view holds at most this many blocks
HOME_BLOCKS = 100


def status_blocks(view: Any, *, region: str | None = None, review: str | None = None) -> list[Json]:
    """One skill's aliases with version, role, last change; the pending certification."""
    return [block.to_dict() for block in _status(view, region, review)]


def _status(view: Any, region: str | None, review: str | None) -> list[Block]:
    skill, roles = view.skill, view.roles
    header = f"*{skill.name}* — `{skill.placements[0].function}`"
    if not roles.recorded:
        header += (
            f"\n_live role taken from the skills file ({roles.live_alias}); "
            f"record it with `/skill doctor {skill.name}`_"
        )
    blocks: list[Block] = [section(header)]
    if view.lock:
        blocks.append(section(f":lock: *{say(locked_by(view.lock))}*. Every change to it is "
                              f"refused until `/skill unlock {skill.name}`."))  # fmt: skip
    if view.frozen:
        window, ends = view.frozen
        until = f"{ends:%a %Y-%m-%d %H:%M} {ends.tzname()}"
        blocks.append(
            section(
                f":snowflake: *Frozen until {until}* (the window `{window}`): every change to "
                "it is refused until then."
            )
        )
    blocks.append(fields([_alias_field(a, view, region) for a in view.aliases]))
    if view.regions:
        lines = [f"{skill.placements[0].region}: {_alias_line(view.aliases)}"]
        lines += [f"{r.region} (`{r.function}`): {_alias_line(r.aliases)}" for r in view.regions]
        blocks.append(section("*Regions*\n" + "\n".join(lines)))
    if view.disagreement:
        blocks.append(
            section(
                f":warning: *The regions disagree*: {view.disagreement}. Confirm the "
                "plan that moved them again, or plan again: regions already there stay."
            )
        )
    blocks.extend(_pending(view, review))
    if view.scheduled:
        at, by = view.scheduled
        blocks.append(context(f":alarm_clock: Promotion scheduled for {at} by {display(by)}"))
    if view.certification_drift:
        cert = view.pending
        blocks.append(
            section(
                f":warning: *Promoting would be refused*: {view.certification_drift}, so it "
                f"would put uncertified code live. Move {cert.alias} back to "
                f"{version_label(cert.version)}, or `/skill cancel {view.skill.name}` and "
                "certify again."
            )
        )
    if view.canary:
        blocks.append(context(canary_status(view.canary, view.now)))
    return blocks


def _alias_field(alias: Any, view: Any, region: str | None) -> str:
    if alias.state is None:
        body = "missing"
    else:
        body = version_label(alias.state.version)
        if alias.version:
            body += f" {short_sha(alias.version.code_sha256)}"
        if alias.state.routing:
            body += " (weighted routing!)"
    if alias.endpoint:
        body += f"\nAlexa calls `{alias.endpoint}`"
    if alias.last_change:
        ev = alias.last_change
        body += f"\n{ev.operation} {age(ev.at, view.now)} ago by {display(ev.actor)}"
    link = alias.name
    if region:
        link = (
            f"<{console_url(region, view.skill.placements[0].function, alias.name)}|{alias.name}>"
        )
    return f"*{link}* ({alias.role})\n{body}"


def _pending(view: Any, review: str | None) -> list[Block]:
    cert = view.pending
    if not cert:
        return [context("No certification pending.")]
    blocks: list[Block] = [
        context(
            f"Pending certification: {version_label(cert.version)} on {cert.alias}, "
            f"for {age(cert.created_at, view.now)}, started by {started_by(cert)}"
            + (f"; Alexa certification: {review}" if review else "")
        )
    ]
    if not cert.message_ts:
        blocks.append(
            context(
                ":warning: Its certification message is not posted yet (Slack refused it); "
                "it is posted as soon as Slack accepts it. Until then use `/skill promote`."
            )
        )
    return blocks


def _alias_line(aliases: Sequence[Any]) -> str:
    return ", ".join(
        f"{a.name} ({a.role}) {version_label(a.state.version) if a.state else 'missing'}"
        for a in aliases
    )


def status_text(view: Any) -> str:
    pending = (
        f"; pending certification {version_label(view.pending.version)} on {view.pending.alias}"
        if view.pending
        else ""
    )
    regions = "".join(f"; {r.region} " + _alias_line(r.aliases) for r in view.regions)
    disagree = f"; the regions disagree: {view.disagreement}" if view.disagreement else ""
    drift = (
        f"; promoting would be refused: {view.certification_drift}"
        if view.certification_drift
        else ""
    )
    locked = f"; {say(locked_by(view.lock))}" if view.lock else ""
    if view.scheduled:
        locked += f"; promotion scheduled for {view.scheduled[0]}"
    if view.frozen:
        locked += f"; frozen until {view.frozen[1]:%a %Y-%m-%d %H:%M}"
    said = _alias_line(view.aliases) + regions + pending + disagree + drift + locked
    return f"{view.skill.name}: {said}"


def home_view(home: HomeView) -> Json:
    """The App Home tab: every skill's status, then the skills that could not be read."""
    blocks: list[Block] = [HeaderBlock(text="Skills")]
    for view, review in home.statuses:
        blocks.extend([*_status(view, home.region, review), DividerBlock()])
    blocks.extend(section(f":warning: {say(error)}") for error in home.errors)
    blocks.append(context("Type `/skill help` for commands."))
    return View(type="home", blocks=blocks[:HOME_BLOCKS]).to_dict()


# -- history and help ----------------------------------------------------------------

FIX_WORDS = {
    FixKind.CREATE_ALIAS.value: "create the alias",
    FixKind.ADD_TRIGGER.value: "add the Alexa trigger",
    FixKind.CLEAR_ROUTING.value: "remove weighted routing",
    FixKind.RECORD_ROLES.value: "record the live role",
}
OUTCOME_WORDS = {
    Outcome.APPLIED: "applied",
    Outcome.NOOP: "nothing to do",
    Outcome.REFUSED: "refused",
    Outcome.FAILED: "failed",
    Outcome.PLANNED: "planned",
}
OUTCOME_ICONS = {
    Outcome.APPLIED: ":white_check_mark:",
    Outcome.NOOP: ":heavy_minus_sign:",
    Outcome.REFUSED: ":no_entry_sign:",
    Outcome.FAILED: ":x:",
    Outcome.PLANNED: ":memo:",
}


def operation_words(operation: str) -> str:
    """The audit log's operation, in words: ``fix:add_trigger`` → "fix: add the trigger".

    >>> operation_words("fix:create_alias")
    'fix: create the alias'
    """
    if operation.startswith("fix:"):
        kind = operation.removeprefix("fix:")
        return "fix: " + FIX_WORDS.get(kind, kind.replace("_", " "))
    return operation


def _history_entry(ev: AuditEvent) -> str:
    move = (
        f" {ev.alias} {version_label(ev.from_version)} → {version_label(ev.to_version)}"
        if ev.alias and ev.to_version and not ev.operation.startswith("fix:")
        else (f" on {ev.alias}" if ev.alias else "")
    )
    why = f" — {escape(ev.reason)}" if ev.reason else ""
    entry = (
        f"{OUTCOME_ICONS[ev.outcome]} {ev.at:%Y-%m-%d %H:%M} UTC {operation_words(ev.operation)}"
        f"{move} by {display(ev.actor)}{why} ({OUTCOME_WORDS[ev.outcome]})"
    )
    return cut(entry, HISTORY_ENTRY_MAX)


def history_blocks(skill: str, events: Sequence[AuditEvent]) -> tuple[str, list[Json]]:
    if not events:
        text = f"{skill}: nothing recorded yet."
        return message(text, [section(text)])
    text = f"History of {skill} (newest first)"
    blocks = [section(f"*{text}*")]
    chunk: list[str] = []
    for entry in map(_history_entry, events):
        if chunk and len("\n".join([*chunk, entry])) > SECTION_MAX:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(entry)
    blocks.append(section("\n".join(chunk)))
    return message(text, blocks)


def help_blocks(
    skills: Sequence[str],
    commands: str,
    *,
    operators: Sequence[str] = (),
    approvers: Sequence[str] = (),
    reaction: str = "white_check_mark",
    four_eyes: bool = True,
) -> tuple[str, list[Json]]:
    names = ", ".join(f"`{s}`" for s in skills)
    one = " (SKILL may be left out: only one is configured)" if len(skills) == 1 else ""
    promotion = (
        f"*Promotion:* when Alexa certification passes, an approver reacts with :{reaction}: "
        "on the certification message (or runs `/skill promote`): the candidate becomes live."
        + (" The person who started a certification cannot promote it." if four_eyes else "")
    )
    who = (
        f"Operators (plan and confirm changes): {mentions(operators)}. "
        f"Approvers (promote): {mentions(approvers)}."
    )
    return message(
        "skillbot commands",
        [
            section(commands),
            section(promotion),
            context(who),
            context(f"Skills: {names}{one}"),
        ],
    )
