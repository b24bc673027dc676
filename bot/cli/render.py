"""What the rotation commands print: plain text for people, or with ``--json`` one JSON
object on stdout for pipelines (progress and errors also go to stderr as text)::

    out = Output(json_mode=False)
    out.plan(plan)          # the plan, as a person checks it
    out.finish({"outcome": "planned", "plan": plan_json(plan)}, EXIT_OK)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from bot.domain import actors
from bot.domain.errors import SkillbotError
from bot.domain.model import AuditEvent, Change, Move, Plan, version_label
from bot.domain.provenance import compare_url
from bot.domain.regions import deployed_ago
from bot.domain.words import Words, as_words, render


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan's fields; ``to_version`` is null when a new version is to be published."""
    return {
        "id": plan.id,
        "skill": plan.skill,
        "operation": str(plan.operation) if plan.fix is None else f"fix:{plan.fix}",
        "summary": plan.summary(),
        "alias": plan.alias,
        "from_version": plan.from_version,
        "to_version": plan.to_version,
        "publishes": plan.publishes,
        "code_sha256": plan.code_sha256,
        "code_last_modified": plan.code_last_modified,
        "requested_by": plan.requested_by,
        "run_url": plan.run_url,
        "reason": plan.reason,
        "noop": plan.noop,
        "created_at": plan.created_at.isoformat(),
        # a skill in several regions: the default region's part is the fields above
        "default_region": plan.default_region,
        "regions": [region_json(m) for m in plan.regions],
        "commits": commits_json(plan),
    }


def commits_json(plan: Plan) -> dict[str, Any] | None:
    """Where the code on each side came from (None: no commit of either is known)."""
    old, new = plan.from_provenance, plan.provenance
    if old is None and new is None:
        return None
    return {
        "from": old.commit if old else None,
        "to": new.commit if new else None,
        "repo": (new.repo if new else None) or (old.repo if old else None),
        "compare_url": compare_url(old, new),
    }


def region_json(move: Move) -> dict[str, Any]:
    """One more region's part of a lockstep plan or change."""
    return {
        "region": move.region,
        "function": move.function,
        "from_version": move.from_version,
        "to_version": move.to_version,
        "code_sha256": move.code_sha256,
        "noop": move.noop,
    }


def change_json(change: Change) -> dict[str, Any]:
    cert = change.certification
    return {
        "summary": change_line(change),
        "alias": change.alias,
        "from_version": change.from_version,
        "to_version": change.to_version,
        "code_sha256": change.code_sha256,
        "live_alias": change.live_alias,
        "noop": change.noop,
        "announced": change.announced,
        "confirmed_by": change.confirmed_by,
        "audit_id": change.audit_id,
        "certification_id": cert.id if cert else None,
        "notes": [say(note) for note in change.notes],
        "regions": [region_json(m) for m in change.regions],
    }


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "operation": event.operation,
        "outcome": str(event.outcome),
        "actor": event.actor,
        "reason": event.reason,
        "alias": event.alias,
        "from_version": event.from_version,
        "to_version": event.to_version,
        "detail": event.detail,
        "plan_id": event.plan_id,
    }


def say(said: str | Words) -> str:
    """Words as a terminal shows them, with no Slack markup: ``skillbot`` commands, people
    by id, literals as they are typed, links as "label (url)", buttons by their label.

    >>> from bot.domain.words import Button, Code, Icon, Person, Run
    >>> say(("Run ", Run("hotfix", "trivia"), " again or ask ", Person("U0CAROL"), "."))
    'Run skillbot hotfix trivia again or ask U0CAROL.'
    >>> say((Icon("warning"), "Set ", Code("pipelines"), " or press ", Button("Abort"), "."))
    'Set pipelines or press "Abort".'
    """
    return render(
        as_words(said),
        command=lambda run: f"skillbot {run.line}",
        person=actors.plain,
        code=str,
        link=lambda link: f"{link.label} ({link.url})",
        button=lambda label: f'"{label}"',
        icon=lambda name: "",
        channel=str,
    )


def error_json(err: SkillbotError) -> dict[str, Any]:
    return {"kind": err.kind, "message": say(err.said), "hint": say(err.todo)}


def change_line(change: Change) -> str:
    """``hotfix trivia: PROD1 v1 → v3`` (no Slack markup)."""
    plan = change.plan
    if plan.fix is not None or change.alias is None:
        return plan.summary()
    old, new = version_label(change.from_version), version_label(change.to_version)
    return f"{plan.operation} {plan.skill}: {change.alias} {old} → {new}"


def event_line(event: AuditEvent) -> str:
    move = (
        f" {event.alias} {version_label(event.from_version)} → {version_label(event.to_version)}"
        if event.alias and event.to_version
        else ""
    )
    why = f" — {event.reason}" if event.reason else ""
    return (
        f"{event.at:%Y-%m-%d %H:%M} UTC  {event.outcome:<8} {event.operation}{move} "
        f"by {event.actor}{why}"
    )


class Output:
    """Collects what one command prints; text goes out as it comes, JSON at the end."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode

    def say(self, text: str = "") -> None:
        """A line of the human output (nothing with --json, whose object says it all)."""
        if not self.json_mode:
            print(text, flush=True)

    def tell(self, text: str) -> None:
        """A line people need either way: stdout as text, stderr beside the JSON."""
        print(text, file=sys.stderr if self.json_mode else sys.stdout, flush=True)

    def progress(self, text: str) -> None:
        """Progress of a long wait: on stderr, so stdout stays one JSON object."""
        print(text, file=sys.stderr, flush=True)

    def lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.say(line)

    def plan(self, plan: Plan, note: str | Words = "") -> None:
        rows = [("plan", plan.id)]
        if plan.alias and plan.fix is None and plan.to_version != plan.from_version:
            rows.append(
                ("alias", f"{plan.alias}: {version_label(plan.from_version)} → {plan.to_label}")
            )
        if plan.code_sha256:
            rows.append(("code", f"sha256 {plan.code_sha256}"))
        if plan.commits:
            url = compare_url(plan.from_provenance, plan.provenance)
            rows.append(("commits", f"{plan.commits}" + (f"  {url}" if url else "")))
        if plan.code_last_modified:
            ago = deployed_ago(plan.code_last_modified, plan.created_at).removeprefix("deployed ")
            rows.append(("deployed", f"{ago} ({plan.code_last_modified})"))
        for move in plan.regions:  # every other region's part of a lockstep plan
            code = f", code sha256 {move.code_sha256}" if move.code_sha256 else ""
            rows.append((f"region {move.region}", f"{plan.alias}: {move.line()}{code}"))
        rows.append(("asked by", actors.plain(plan.requested_by, plan.run_url)))
        if plan.reason:
            rows.append(("reason", plan.reason))
        if note:
            rows.append(("note", say(note)))
        self.say(("Nothing to do: " if plan.noop else "Plan: ") + plan.summary())
        self.lines(f"  {name:<14}{value}" for name, value in rows)

    def error(self, err: SkillbotError, payload: dict[str, Any], code: int) -> int:
        print(f"skillbot: {say(err.said)}", file=sys.stderr)
        if err.todo:
            print(say(err.todo), file=sys.stderr)
        return self.finish({**payload, "error": error_json(err)}, code)

    def finish(self, payload: dict[str, Any], code: int) -> int:
        """Print the JSON object (with --json) and return the exit code."""
        if self.json_mode:
            print(json.dumps({**payload, "exit_code": code}, indent=2, ensure_ascii=False))
        return code
