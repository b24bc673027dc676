"""Pure Block Kit of a skill's status (aliases, roles, regions, the pending certification)
and the App Home tab that lists every skill's::

    text, body = status_text(view), status_blocks(view, region="eu-west-1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import Block, age, console_url, context, section, short_sha
from bot.domain.actors import display
from bot.domain.model import version_label

# -- status, history, doctor, help ---------------------------------------------------


def status_blocks(
    view: Any, *, region: str | None = None, review: str | None = None
) -> list[Block]:
    """One skill's aliases with version, role, last change; the pending certification."""
    skill = view.skill
    roles = view.roles
    header = f"*{skill.name}* — `{skill.placements[0].function}`"
    if not roles.recorded:
        header += (
            f"\n_live role taken from the skills file ({roles.live_alias}); "
            f"record it with `/skill doctor {skill.name}`_"
        )
    blocks: list[Block] = [section(header)]
    fields = []
    for alias in view.aliases:
        if alias.state is None:
            body = "missing"
        else:
            body = version_label(alias.state.version)
            if alias.version:
                body += f" {short_sha(alias.version.code_sha256)}"
            if alias.state.routing:
                body += " (weighted routing!)"
        if getattr(alias, "endpoint", None):
            body += f"\nAlexa calls `{alias.endpoint}`"
        if alias.last_change:
            ev = alias.last_change
            body += f"\n{ev.operation} {age(ev.at, view.now)} ago by {display(ev.actor)}"
        link = (
            f"<{console_url(region, skill.placements[0].function, alias.name)}|{alias.name}>"
            if region
            else (alias.name)
        )
        fields.append(f"*{link}* ({alias.role})\n{body}")
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]})
    regions = getattr(view, "regions", ())
    if regions:
        lines = [f"{skill.placements[0].region}: {_alias_line(view.aliases)}"]
        lines += [f"{r.region} (`{r.function}`): {_alias_line(r.aliases)}" for r in regions]
        blocks.append(section("*Regions*\n" + "\n".join(lines)))
        if view.disagreement:
            blocks.append(
                section(
                    f":warning: *The regions disagree*: {view.disagreement}. Confirm the "
                    "plan that moved them again, or plan again: regions already there stay."
                )
            )
    if view.pending:
        cert = view.pending
        blocks.append(
            context(
                f"Pending certification: {version_label(cert.version)} on {cert.alias}, "
                f"for {age(cert.created_at, view.now)}, started by {display(cert.requested_by)}"
                + (f"; Alexa certification: {review}" if review else "")
            )
        )
        if not cert.message_ts:
            blocks.append(
                context(
                    ":warning: Its certification message is not posted yet (Slack refused it); "
                    "it is posted as soon as Slack accepts it. Until then use `/skill promote`."
                )
            )
    else:
        blocks.append(context("No certification pending."))
    if getattr(view, "canary_line", None):
        blocks.append(context(view.canary_line))
    return blocks


def _alias_line(aliases: Sequence[Any]) -> str:
    return ", ".join(
        f"{a.name} ({a.role}) {version_label(a.state.version) if a.state else 'missing'}"
        for a in aliases
    )


def status_text(view: Any) -> str:
    parts = [
        f"{a.name} ({a.role}) {version_label(a.state.version) if a.state else 'missing'}"
        for a in view.aliases
    ]
    pending = (
        f"; pending certification {version_label(view.pending.version)} on {view.pending.alias}"
        if view.pending
        else ""
    )
    regions = "".join(
        f"; {r.region} " + _alias_line(r.aliases) for r in getattr(view, "regions", ())
    )
    disagree = (
        f"; the regions disagree: {view.disagreement}"
        if getattr(view, "disagreement", None)
        else ""
    )
    return f"{view.skill.name}: " + ", ".join(parts) + regions + pending + disagree


def home_view(
    views: Sequence[Any],
    errors: Sequence[str] = (),
    *,
    region: str | None = None,
    review: Any = None,
) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Skills"}},
    ]
    for view in views:
        status = review(view.pending) if review and view.pending else None
        blocks.extend(status_blocks(view, region=region, review=status))
        blocks.append({"type": "divider"})
    for error in errors:
        blocks.append(section(f":warning: {error}"))
    blocks.append(context("Type `/skill help` for commands."))
    return {"type": "home", "blocks": blocks[:100]}
