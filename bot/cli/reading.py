"""``skillbot status`` and ``skillbot history``: what ``/skill status`` and ``/skill
history`` show, read through the facade, as text or one JSON object."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.exit_codes import EXIT_OK
from bot.cli.options import Subparsers, guarded, options
from bot.cli.render import Output, event_json, event_line
from bot.cli.session import Session
from bot.domain.model import version_label

# --- reading ---------------------------------------------------------------------------


def add_status(commands: Subparsers) -> None:
    status = commands.add_parser(
        "status",
        parents=[options()],
        help="aliases, versions, roles and the pending certification of a skill",
        description="What /skill status shows: each alias with its version and role, "
        "and the pending certification.",
    )
    status.add_argument("skill", nargs="?", metavar="SKILL")
    status.set_defaults(handler=guarded(show_status), operation="status")


def show_status(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    with Session(args) as session:
        view = session.rotation.status(session.skill)
        review = session.rotation.review_status(view)
    skill, roles = view.skill, view.roles
    out.say(f"{skill.name} — {skill.function}")
    if not roles.recorded:
        out.say(
            f"  live role from the skills file ({roles.live_alias}); `skillbot doctor` records it"
        )
    aliases = []
    for alias in view.aliases:
        state, version = alias.state, alias.version
        shown = "missing" if state is None else version_label(state.version)
        if version is not None:
            shown += f"  sha256 {version.code_sha256[:12]}…"
        if state is not None and state.routing:
            shown += f"  weighted routing {state.routing}"
        last = alias.last_change
        if last is not None:
            shown += f"  ({last.operation} {last.at:%Y-%m-%d %H:%M} UTC by {last.actor})"
        out.say(f"  {alias.name:<8}{alias.role:<11}{shown}")
        aliases.append(
            {
                "name": alias.name,
                "role": alias.role,
                "version": state.version if state else None,
                "code_sha256": version.code_sha256 if version else None,
                "routing": state.routing if state else {},
                "last_change": event_json(last) if last else None,
            }
        )
    cert = view.pending
    if cert is None:
        out.say("  no certification pending")
    else:
        out.say(
            f"  pending certification: {version_label(cert.version)} on {cert.alias} since "
            f"{cert.created_at:%Y-%m-%d %H:%M} UTC, started by {cert.requested_by}"
            + (f"; Alexa: {review}" if review else "")
        )
    pending = None
    if cert is not None:
        pending = {
            "id": cert.id,
            "alias": cert.alias,
            "version": cert.version,
            "requested_by": cert.requested_by,
            "created_at": cert.created_at.isoformat(),
            "alexa_review": review,
        }
    return out.finish(
        {
            **payload,
            "skill": skill.name,
            "function": skill.function,
            "live_alias": roles.live_alias,
            "candidate_alias": roles.candidate_alias,
            "roles_recorded": roles.recorded,
            "aliases": aliases,
            "pending_certification": pending,
        },
        EXIT_OK,
    )


def add_history(commands: Subparsers) -> None:
    history = commands.add_parser(
        "history",
        parents=[options()],
        help="the audit log of a skill, newest first",
        description="Every attempt on the skill (planned, applied, refused, failed), "
        "newest first, as /skill history shows it.",
    )
    history.add_argument("skill", nargs="?", metavar="SKILL")
    history.add_argument("--limit", type=int, default=20, help="how many entries (default 20)")
    history.set_defaults(handler=guarded(show_history), operation="history")


def show_history(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    with Session(args) as session:
        events = session.rotation.history(session.skill, max(1, args.limit))
        skill = session.skill
    out.say(f"History of {skill} (newest first)" if events else f"{skill}: nothing recorded yet")
    out.lines(f"  {event_line(event)}" for event in events)
    return out.finish(
        {**payload, "skill": skill, "events": [event_json(e) for e in events]}, EXIT_OK
    )
