"""Pure Block Kit of what the bot answers when asked: history, doctor's report, help.

Like :mod:`bot.blocks`, values in and ``(text, blocks)`` out::

    text, body = history_blocks("trivia", events)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    DISMISS,
    FIX_ALL,
    Block,
    button,
    context,
    mentions,
    section,
)
from bot.domain.actors import display
from bot.domain.model import AuditEvent, FixKind, Outcome, escape, version_label

#: one history entry's most characters; a long reason is cut, never the older entries
HISTORY_ENTRY_MAX = 600
#: a section's text limit is 3,000 characters: entries are packed into sections below it
SECTION_MAX = 2900


def operation_words(operation: str) -> str:
    """The audit log's operation, in words: ``fix:add_trigger`` → "fix: add the trigger".

    >>> operation_words("fix:create_alias")
    'fix: create the alias'
    """
    if operation.startswith("fix:"):
        kind = operation.removeprefix("fix:")
        words = {
            FixKind.CREATE_ALIAS.value: "create the alias",
            FixKind.ADD_TRIGGER.value: "add the Alexa trigger",
            FixKind.CLEAR_ROUTING.value: "remove weighted routing",
            FixKind.RECORD_ROLES.value: "record the live role",
        }
        return "fix: " + words.get(kind, kind.replace("_", " "))
    return operation


OUTCOME_WORDS = {
    Outcome.APPLIED: "applied",
    Outcome.NOOP: "nothing to do",
    Outcome.REFUSED: "refused",
    Outcome.FAILED: "failed",
    Outcome.PLANNED: "planned",
}


def history_blocks(skill: str, events: Sequence[AuditEvent]) -> tuple[str, list[Block]]:
    if not events:
        text = f"{skill}: nothing recorded yet."
        return text, [section(text)]
    icons = {
        Outcome.APPLIED: ":white_check_mark:",
        Outcome.NOOP: ":heavy_minus_sign:",
        Outcome.REFUSED: ":no_entry_sign:",
        Outcome.FAILED: ":x:",
        Outcome.PLANNED: ":memo:",
    }
    entries = []
    for ev in events:
        move = (
            f" {ev.alias} {version_label(ev.from_version)} → {version_label(ev.to_version)}"
            if ev.alias and ev.to_version and not ev.operation.startswith("fix:")
            else (f" on {ev.alias}" if ev.alias else "")
        )
        why = f" — {escape(ev.reason)}" if ev.reason else ""
        entry = (
            f"{icons[ev.outcome]} {ev.at:%Y-%m-%d %H:%M} UTC {operation_words(ev.operation)}"
            f"{move} by {display(ev.actor)}{why} ({OUTCOME_WORDS[ev.outcome]})"
        )
        if len(entry) > HISTORY_ENTRY_MAX:
            entry = entry[: HISTORY_ENTRY_MAX - 1] + "…"
        entries.append(entry)
    text = f"History of {skill} (newest first)"
    blocks = [section(f"*{text}*")]
    chunk: list[str] = []
    for entry in entries:
        if chunk and len("\n".join([*chunk, entry])) > SECTION_MAX:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(entry)
    blocks.append(section("\n".join(chunk)))
    return text, blocks[:50]


def doctor_blocks(report: Any) -> tuple[str, list[Block]]:
    skill = report.skill.name
    problems = [f for f in report.findings if not f.ok]
    text = (
        f"{skill}: all checks passed"
        if not problems
        else f"{skill}: {len(problems)} problem(s) found"
    )
    lines = [
        f"{':white_check_mark:' if f.ok else ':x:'} {f.check}: {f.detail}" for f in report.findings
    ]
    blocks: list[Block] = [section(f"*Doctor for {skill}*"), section("\n".join(lines))]
    if report.fixes:
        plan_lines = "\n".join(f"• {p.summary()}" for p in report.fixes)
        blocks.append(section(f"*Fix would make {len(report.fixes)} change(s):*\n{plan_lines}"))
        blocks.append(
            {
                "type": "actions",
                "block_id": "doctor",
                "elements": [
                    button("Fix", FIX_ALL, ",".join(p.id for p in report.fixes), "primary"),
                    button("Cancel", DISMISS, ",".join(p.id for p in report.fixes)),
                ],
            }
        )
    elif problems:
        blocks.append(context("These need a person: follow the advice above."))
    return text, blocks


def help_blocks(
    skills: Sequence[str],
    commands: str,
    *,
    operators: Sequence[str] = (),
    approvers: Sequence[str] = (),
    reaction: str = "white_check_mark",
    four_eyes: bool = True,
) -> tuple[str, list[Block]]:
    names = ", ".join(f"`{s}`" for s in skills)
    one = " (SKILL may be left out: only one is configured)" if len(skills) == 1 else ""
    text = "skillbot commands"
    promotion = (
        f"*Promotion:* when Alexa certification passes, an approver reacts with :{reaction}: "
        "on the certification message (or runs `/skill promote`): the candidate becomes live."
        + (" The person who started a certification cannot promote it." if four_eyes else "")
    )
    who = (
        f"Operators (plan and confirm changes): {mentions(operators)}. "
        f"Approvers (promote): {mentions(approvers)}."
    )
    return text, [
        section(commands),
        section(promotion),
        context(who),
        context(f"Skills: {names}{one}"),
    ]
