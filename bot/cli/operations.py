"""The rotation from a terminal or a CD pipeline: the same facade as Slack's listeners
(:class:`bot.service.rotation.RotationService`), so the same guards, lock, audit log and
announcements::

    skillbot status [SKILL]
    skillbot hotfix [SKILL] [VERSION] [--reason TEXT]      # shows the plan, changes nothing
    skillbot hotfix --yes                                  # plans and applies it
    skillbot apply PLAN_ID                                 # applies a plan shown earlier
    skillbot hotfix --request --wait 30m                   # an operator confirms in Slack

Each operation is one ``add_*`` function; a planned one is :func:`planned` plus, when it
plans differently, a ``propose`` default (see :func:`propose_operation`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot.cli.exit_codes import EXIT_OK, EXIT_REFUSED, SUMMARY, UsageError
from bot.cli.options import Subparsers, guarded, options
from bot.cli.reading import add_history, add_status
from bot.cli.render import Output, change_json, change_line, plan_json
from bot.cli.session import Session
from bot.cli.waiting import request_confirmation
from bot.domain.model import Change
from bot.service.rotation import PlanOffer

# --- doctor ----------------------------------------------------------------------------


def add_doctor(commands: Subparsers) -> None:
    doctor = commands.add_parser(
        "doctor",
        parents=[options()],
        help="check aliases, Alexa triggers, routing and roles; --yes applies the fixes",
        description="The checks of /skill doctor. Exits 1 while a problem remains, so a "
        "pipeline can run it before deploying; --yes applies each fix (one change each).",
    )
    doctor.add_argument("skill", nargs="?", metavar="SKILL")
    doctor.add_argument("--yes", action="store_true", help="apply the fixes offered")
    doctor.set_defaults(handler=guarded(run_doctor), operation="doctor")


def run_doctor(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    applied: list[Change] = []
    with Session(args, needs_actor=True, needs_slack=args.yes) as session:
        report = session.rotation.doctor(session.skill, actor=session.actor.identity)
        problems = [f for f in report.findings if not f.ok]
        out.say(
            f"Doctor for {report.skill.name}: "
            + (f"{len(problems)} problem(s)" if problems else "all checks passed")
        )
        out.lines(f"  {'ok ' if f.ok else 'BAD'} {f.check}: {f.detail}" for f in report.findings)
        if report.fixes and args.yes:
            for fix in report.fixes:
                change = session.rotation.apply(fix.id, actor=session.actor.identity)
                applied.append(change)
                out.say(f"Applied: {fix.summary()}")
        elif report.fixes:
            out.say(f"Fix would make {len(report.fixes)} change(s):")
            out.lines(f"  {fix.summary()}  (skillbot apply {fix.id})" for fix in report.fixes)
            out.say("Nothing changed. Run again with --yes to apply them all.")
    fixed = {(c.plan.fix, c.plan.alias) for c in applied}
    remaining = [f for f in problems if f.fix is None or (f.fix, f.alias) not in fixed]
    if remaining and not report.fixes:
        out.say("These need a person: follow the advice above.")
    findings = [
        {"check": f.check, "ok": f.ok, "detail": f.detail, "alias": f.alias, "fix": f.fix}
        for f in report.findings
    ]
    return out.finish(
        {
            **payload,
            "skill": report.skill.name,
            "outcome": "problems" if remaining else ("applied" if applied else "healthy"),
            "findings": findings,
            "fixes": [plan_json(p) for p in report.fixes],
            "applied": [change_json(c) for c in applied],
        },
        EXIT_REFUSED if remaining else EXIT_OK,
    )


# --- changes -----------------------------------------------------------------------------


def propose_operation(session: Session, args: argparse.Namespace) -> Any:
    """The plan of ``args.operation`` through the facade (a PlanOffer)."""
    actor = session.actor
    return session.rotation.propose(
        args.operation,
        session.skill,
        actor=actor.identity,
        reason=args.reason,
        version=session.version,
        run_url=actor.run_url,
    )


def planned(
    commands: Subparsers, name: str, *, help: str, description: str, takes_version: bool = True
) -> argparse.ArgumentParser:
    """The parser of an operation that plans, then applies (--yes) or asks (--request)."""
    parser = commands.add_parser(
        name,
        parents=[options(changing=True)],
        help=help,
        description=description
        + " Shows the plan and changes nothing unless --yes (apply it) or --request (post "
        "it to the skill's Slack channel for an operator to confirm).",
        epilog=SUMMARY,
    )
    parser.add_argument("skill", nargs="?", metavar="SKILL", help="may be left out with one skill")
    if takes_version:
        parser.add_argument("version", nargs="?", metavar="VERSION", help="e.g. 9 or v9")
    parser.set_defaults(
        handler=guarded(run_planned), operation=name, propose=propose_operation, submit=False
    )
    return parser


def add_hotfix(commands: Subparsers) -> None:
    planned(
        commands,
        "hotfix",
        help="move the live alias to VERSION, or to a version published from $LATEST",
        description="Re-point the live alias: no recertification. Refused for the pending "
        "candidate's code.",
    )


def add_certify(commands: Subparsers) -> None:
    certify = planned(
        commands,
        "certify",
        help="move the candidate alias and track the certification",
        description="Put VERSION (or a version published from $LATEST) on the candidate "
        "alias and record a pending certification; --reason is its note.",
    )
    certify.add_argument(
        "--submit",
        action="store_true",
        help="with --yes: also submit the skill to Alexa (needs the SMAPI settings)",
    )


def add_rollback(commands: Subparsers) -> None:
    planned(
        commands,
        "rollback",
        help="move the live alias back to its previous version (or VERSION)",
        description="Re-point the live alias to the version it had before (from the audit "
        "log), or to VERSION.",
    )


def add_cancel(commands: Subparsers) -> None:
    planned(
        commands,
        "cancel",
        help="stop tracking the pending certification",
        description="Cancel the pending certification; its reminders stop. No alias moves.",
        takes_version=False,
    )


def add_prune(commands: Subparsers) -> None:
    prune = planned(
        commands,
        "prune",
        help="delete old versions nothing refers to",
        description="Delete old published versions to free code storage. Never a version "
        "an alias points at or weights, the pending candidate's, $LATEST, or one of the "
        "--keep most recent.",
        takes_version=False,
    )
    prune.add_argument(
        "--keep", type=int, default=None, metavar="N", help="keep the N most recent (10)"
    )
    prune.set_defaults(propose=propose_prune)


def propose_prune(session: Session, args: argparse.Namespace) -> PlanOffer:
    """The prune plan, its versions and the space it frees as the plan's note."""
    if args.keep is not None and args.keep < 0:
        raise UsageError("--keep takes a number of versions, 0 or more.", hint="e.g. --keep 5")
    offer = session.rotation.propose_prune(
        session.skill, actor=session.actor.identity, keep=args.keep
    )
    regional = len(offer.regions) > 1
    lines = [
        f"{part.region + ': ' if regional else ''}deletes v{v.number} "
        f"({(v.code_size or 0) / 1e6:.1f} MB)"
        for part in offer.regions
        for v in part.versions
    ]
    lines += [f"{p.region} frees {p.freed / 1e6:.1f} MB" for p in offer.regions if regional]
    note = "\n".join(
        [*lines, f"frees {offer.freed / 1e6:.1f} MB; keeps the {offer.keep} most recent"]
    )
    return PlanOffer(offer.plan, note=note)


def run_planned(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    if args.wait is not None and not args.request:
        raise UsageError(
            "--wait only applies with --request.", hint="Add --request, or drop --wait."
        )
    with Session(args, needs_actor=True, needs_slack=args.yes or args.request) as session:
        if args.submit and session.services.alexa is None:
            raise UsageError(
                "--submit needs the Alexa Skill Management API, which is not configured.",
                hint="Set ALEXA_LWA_CLIENT_ID, ALEXA_LWA_CLIENT_SECRET and "
                "ALEXA_LWA_REFRESH_TOKEN (see .env.example), or submit in the developer console.",
            )
        actor = session.actor
        payload["actor"] = {
            "identity": actor.identity,
            "run_url": actor.run_url,
            "source": actor.source,
        }
        offer = args.propose(session, args)
        plan = offer.plan
        payload["plan"] = plan_json(plan)
        out.plan(plan, offer.note)
        if plan.noop:
            return out.finish({**payload, "outcome": "noop"}, EXIT_OK)
        if args.request:
            return request_confirmation(session, offer, args.wait, out, payload)
        if not args.yes:
            out.say(
                f"Nothing changed. Apply exactly this plan with `skillbot apply {plan.id}`, "
                "or run the command again with --yes."
            )
            return out.finish({**payload, "outcome": "planned"}, EXIT_OK)
        change = session.rotation.apply(plan.id, actor=actor.identity, submit=args.submit)
    return applied(out, payload, change)


def add_apply(commands: Subparsers) -> None:
    apply = commands.add_parser(
        "apply",
        parents=[options()],
        help="apply a plan shown earlier (refused if anything moved since)",
        description="Confirm a plan a rotation command printed, exactly as it was shown: "
        "refused (exit 1) if its alias moved or $LATEST changed since.",
        epilog=SUMMARY,
    )
    apply.add_argument("plan_id", metavar="PLAN_ID")
    apply.add_argument(
        "--submit", action="store_true", help="certify: also submit the skill to Alexa"
    )
    apply.set_defaults(handler=guarded(run_apply), operation="apply")


def run_apply(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    with Session(args, needs_actor=True, needs_slack=True) as session:
        change = session.rotation.apply(
            args.plan_id, actor=session.actor.identity, submit=args.submit
        )
    payload["plan"] = plan_json(change.plan)
    return applied(out, payload, change)


def applied(out: Output, payload: dict[str, Any], change: Change) -> int:
    if change.noop:
        mark = "Nothing to do: "
    else:
        mark = "Applied: " if change.announced else "Applied, not announced in Slack yet: "
    out.say(mark + change_line(change))
    out.lines(f"  {note}" for note in change.notes)
    outcome = "noop" if change.noop else "applied"
    return out.finish({**payload, "outcome": outcome, "result": change_json(change)}, EXIT_OK)


OPERATIONS: list[Callable[[Subparsers], None]] = [
    add_status,
    add_history,
    add_doctor,
    add_hotfix,
    add_certify,
    add_rollback,
    add_cancel,
    add_prune,
    add_apply,
]
