"""What ``skillbot status`` and ``skillbot history`` print: what ``/skill status`` and
``/skill history`` show, as text or one JSON object."""

from __future__ import annotations

from typing import Any

from bot.cli.exit_codes import EXIT_OK
from bot.cli.render import Output, event_json, event_line, say
from bot.domain.model import AuditEvent, version_label
from bot.domain.rotation import locked_by
from bot.service.offers import StatusReport


def show_status(out: Output, payload: dict[str, Any], report: StatusReport) -> int:
    view, review = report.view, report.review
    skill, roles = view.skill, view.roles
    out.say(f"{skill.name} — {skill.placements[0].function}")
    if not roles.recorded:
        out.say(
            f"  live role from the skills file ({roles.live_alias}); skillbot doctor records it"
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
    if view.lock is not None:
        out.say(
            f"  {say(locked_by(view.lock))}; every change is refused until "
            f"skillbot unlock {skill.name}"
        )
    if view.frozen is not None:
        window, ends = view.frozen
        out.say(
            f"  frozen until {ends:%a %Y-%m-%d %H:%M} {ends.tzname()} (the window {window}): "
            "every change is refused until then"
        )
    cert = view.pending
    if cert is None:
        out.say("  no certification pending")
    else:
        out.say(
            f"  pending certification: {version_label(cert.version)} on {cert.alias} since "
            f"{cert.created_at:%Y-%m-%d %H:%M} UTC, started by {cert.requested_by}"
            + (f", confirmed by {cert.confirmed_by}" if cert.confirmed_by else "")
            + (f"; Alexa: {review}" if review else "")
        )
    if cert is not None and view.certification_drift:
        out.say(
            f"  promoting would be refused: {view.certification_drift}, so it would put "
            f"uncertified code live; move {cert.alias} back to {version_label(cert.version)}, "
            f"or cancel (skillbot cancel {skill.name}) and certify again"
        )
    if view.scheduled is not None:
        out.say(f"  promotion scheduled for {view.scheduled[0]} by {view.scheduled[1]}")
    pending = None
    if cert is not None:
        pending = {
            "id": cert.id,
            "alias": cert.alias,
            "version": cert.version,
            "requested_by": cert.requested_by,
            "confirmed_by": cert.confirmed_by,
            "created_at": cert.created_at.isoformat(),
            "alexa_review": review,
            "promotion_refused_because": view.certification_drift,
            "promotion_scheduled": (
                {"at": view.scheduled[0], "by": view.scheduled[1]} if view.scheduled else None
            ),
        }
    return out.finish(
        {
            **payload,
            "skill": skill.name,
            "function": skill.placements[0].function,
            "live_alias": roles.live_alias,
            "candidate_alias": roles.candidate_alias,
            "roles_recorded": roles.recorded,
            "aliases": aliases,
            "pending_certification": pending,
            "frozen": (
                {"window": view.frozen[0], "until": view.frozen[1].isoformat()}
                if view.frozen
                else None
            ),
            "lock": (
                {
                    "locked_by": view.lock.locked_by,
                    "reason": view.lock.reason,
                    "locked_at": view.lock.locked_at.isoformat(),
                }
                if view.lock
                else None
            ),
        },
        EXIT_OK,
    )


def show_history(out: Output, payload: dict[str, Any], skill: str, events: list[AuditEvent]) -> int:
    out.say(f"History of {skill} (newest first)" if events else f"{skill}: nothing recorded yet")
    out.lines(f"  {event_line(event)}" for event in events)
    return out.finish(
        {**payload, "skill": skill, "events": [event_json(e) for e in events]}, EXIT_OK
    )
