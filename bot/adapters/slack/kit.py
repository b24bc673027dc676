"""Building blocks of every message: action ids, blocks cut to Slack's limits, and how
Slack shows words, people and ages::

    section("*trivia*"), context("no certification pending"), say(err.said)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.actors import display
from bot.domain.provenance import compare_url
from bot.domain.text import escape
from bot.domain.words import Words, render

#: a block as Slack's API takes it (``Block.to_dict()``)
Json = dict[str, Any]

# action ids: the one list handlers/__init__.py registers
CONFIRM = "plan_confirm"
CONFIRM_AND_SUBMIT = "plan_confirm_submit"
DISMISS = "plan_dismiss"
FIX_ALL = "doctor_fix_all"
CONFIRM_CANARY = "plan_confirm_canary"
CANARY_COMPLETE = "canary_complete"
CANARY_ABORT = "canary_abort"
ROLLBACK_OFFER = "health_rollback"

#: Slack's limits: a section's or a context element's text, a field, a message's blocks
TEXT_MAX, FIELD_MAX, MESSAGE_BLOCKS = 3000, 2000, 50


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, an ellipsis where it was cut.

    >>> cut("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def heading(text: str, typed: str | None = None) -> str:
    """The bot's own words in bold, then what a person typed (a reason, a note) on a
    quoted line of its own, escaped, so a ``*`` they typed never ends the bold early.

    >>> heading("trivia: hotfix PROD2 v5 → v6", "fix *bold* <!channel>")
    '*trivia: hotfix PROD2 v5 → v6*\\n>fix *bold* &lt;!channel&gt;'
    """
    if not typed or not typed.strip():
        return f"*{text}*"
    quoted = "\n".join(f">{line}" for line in escape(typed.strip()).splitlines())
    return f"*{text}*\n{quoted}"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, TEXT_MAX)))


def fields(texts: Sequence[str]) -> SectionBlock:
    """Side-by-side fields (at most ten, Slack's limit)."""
    return SectionBlock(
        fields=[MarkdownTextObject(text=cut(t, FIELD_MAX)) for t in texts[:10] or ["—"]]
    )


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=cut(t, TEXT_MAX)) for t in texts])


def buttons(block_id: str, *spec: tuple[str, str, str, str | None]) -> ActionsBlock:
    """Buttons from ``(label, action id, value, style)``."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(text=cut(label, 75), action_id=action, value=value, style=style)
            for label, action, value, style in spec
        ],
    )


def message(text: str, blocks: Sequence[Block]) -> tuple[str, list[Json]]:
    """A message as Slack takes it: the fallback text and the blocks (validated)."""
    return text, [block.to_dict() for block in blocks[:MESSAGE_BLOCKS]]


def say(said: Words | str) -> str:
    """Words as Slack shows them: ``/skill`` commands, mentions, typed text escaped,
    literals as code (``Code("a<b")``: ```a&lt;b```), links, buttons in bold, emoji."""
    if isinstance(said, str):
        return said
    return render(
        said,
        command=lambda run: f"`/skill {run.line}`",
        person=display,
        typed=escape,
        code=lambda text: f"`{escape(text)}`",
        link=lambda link: f"<{escape(link.url)}|{escape(link.label)}>",
        button=lambda label: f"*{label}*",
        icon=lambda name: f":{name}: ",
        channel=lambda channel: f"<#{channel}>",
    )


def mentions(users: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) or "nobody (configure approvers)"


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
    return f"{minutes}m" if minutes else f"{secs}s"


def since(moment: datetime) -> str:
    """A moment as Slack's date token, shown in each reader's own time zone, with UTC
    as the fallback for clients that cannot format it.

    >>> since(datetime(2026, 12, 7, 23, 28, tzinfo=UTC))
    '<!date^1796686080^{date_short_pretty} at {time}|2026-12-07 23:28 UTC>'
    """
    utc, shown = moment.astimezone(UTC), "{date_short_pretty} at {time}"
    return f"<!date^{int(utc.timestamp())}^{shown}|{utc:%Y-%m-%d %H:%M} UTC>"


def commit_link(plan: Any) -> str:
    """``abc1234 → def5678``, linked to GitHub's compare page when the repository is known."""
    url = compare_url(plan.from_provenance, plan.provenance)
    return f"<{url}|{plan.commits}>" if url else str(plan.commits)


def short_sha(code_sha256: str | None) -> str:
    return f"`{code_sha256[:12]}…`" if code_sha256 else "—"


def console_url(region: str, function: str, alias: str | None = None) -> str:
    base = f"https://{region}.console.aws.amazon.com/lambda/home?region={region}#/functions/"
    name = function.rsplit(":", 1)[-1] if function.startswith("arn:") else function
    return base + name + (f"/aliases/{alias}" if alias else "")
