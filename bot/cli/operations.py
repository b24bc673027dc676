"""The rotation from a terminal or a CD pipeline: one ``skillbot`` subcommand for each of
:data:`bot.commands.TABLE`, calling the same use cases as Slack's listeners, so the same
guards, lock, audit log and announcements::

    skillbot status [SKILL]
    skillbot hotfix [SKILL] [VERSION] [--reason TEXT]      # shows the plan, changes nothing
    skillbot hotfix --yes                                  # plans and applies it
    skillbot apply PLAN_ID                                 # applies a plan shown earlier
    skillbot hotfix --request --wait 30m                   # an operator confirms in Slack

How a subcommand runs follows its kind: ``read`` prints, ``check`` prints findings and
applies fixes with --yes, ``plan`` shows a plan, applies it (--yes) or asks (--request).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.cli.exit_codes import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    SUMMARY,
    UsageError,
    exit_code,
)
from bot.cli.reading import show_history, show_status
from bot.cli.render import Output, change_json, change_line, plan_json, say
from bot.cli.session import Session
from bot.cli.waiting import request_confirmation
from bot.commands import TABLE
from bot.domain.commands import CLI, Subcommand
from bot.domain.errors import AppliedNotRecorded, SkillbotError
from bot.domain.model import Change
from bot.domain.words import Run, words
from bot.schedules import parse_duration
from bot.service.offers import PlanOffer, StatusReport
from bot.service.planning import DoctorReport
from bot.service.prune import PruneOffer

Handler = Callable[[argparse.Namespace, Output, dict[str, Any]], int]
Subparsers = Any  # argparse's private _SubParsersAction

PLANNED = (
    " Shows the plan and changes nothing unless --yes (apply it) or --request (post it to "
    "the skill's Slack channel for an operator to confirm)."
)


def add_operations(commands: Subparsers) -> None:
    """A parser for every subcommand of the table the command line has, then ``apply``."""
    for spec in TABLE.values():
        if CLI in spec.faces:
            add_subcommand(commands, spec)
    apply = commands.add_parser(
        "apply",
        parents=[options("read")],
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


def add_subcommand(commands: Subparsers, spec: Subcommand) -> None:
    who = "" if spec.who == "anyone" else f" Who may: {spec.who}."
    parser = commands.add_parser(
        spec.name,
        parents=[options(spec.kind)],
        help=escaped(say(spec.help)),
        description=spec.detail + (PLANNED if spec.kind == "plan" else "") + who,
        epilog=SUMMARY if spec.kind == "plan" else None,
    )
    if spec.skill:
        parser.add_argument(
            "skill", nargs="?", metavar="SKILL", help="may be left out with one skill"
        )
    if spec.version:
        parser.add_argument("version", nargs="?", metavar="VERSION", help="e.g. 9 or v9")
    for option in spec.options_of(CLI):
        parser.add_argument(
            f"--{option.name}",
            dest=f"option_{option.name}",
            help=escaped(option.help),
            **({"action": "store_true"} if option.flag else {"metavar": option.metavar}),
        )
    parser.set_defaults(handler=guarded(RUNS[spec.kind]), operation=spec.name, spec=spec)


def escaped(text: str) -> str:
    """Help text as argparse takes it (it formats help with ``%``)."""
    return text.replace("%", "%%")


def options(kind: str) -> argparse.ArgumentParser:
    """Options every rotation command takes, and those of one that changes AWS."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parent.add_argument(
        "--as",
        dest="as_",
        metavar="ACTOR",
        help="act as this Slack member id (else SKILLBOT_ACTOR, else the CD pipeline's identity)",
    )
    if kind == "check":
        parent.add_argument("--yes", action="store_true", help="apply the fixes offered")
    if kind in ("plan", "change"):
        parent.add_argument("--reason", default="", help="why: shown in Slack and the audit log")
    if kind != "plan":
        return parent
    mode = parent.add_mutually_exclusive_group()
    mode.add_argument("--yes", action="store_true", help="apply the plan, not just show it")
    mode.add_argument(
        "--request",
        action="store_true",
        help="post the plan to the skill's Slack channel for an operator to confirm",
    )
    parent.add_argument(
        "--wait",
        type=duration,
        metavar="DURATION",
        help="with --request: wait this long (e.g. 30m) for the operator, and exit with "
        "the outcome (default: do not wait)",
    )
    return parent


def duration(text: str) -> timedelta:
    try:
        found = parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m or 2h")
    return found


def guarded(command: Handler) -> Callable[[argparse.Namespace], int]:
    """Run ``command``; a refusal or an unavailable service becomes its exit code, with
    what to do instead (and, with --json, the error in the one JSON object)."""

    def run(args: argparse.Namespace) -> int:
        out = Output(json_mode=args.json)
        payload: dict[str, Any] = {"command": args.operation}
        try:
            return command(args, out, payload)
        except SkillbotError as err:
            code = exit_code(err)
            outcome = {1: "refused", 2: "error", 3: "unavailable"}[code]
            if isinstance(err, AppliedNotRecorded):
                outcome = "applied_not_recorded"  # in AWS; recorded once the database answers
            return out.error(err, {**payload, "outcome": outcome}, code)
        except KeyboardInterrupt:
            plan_id = (payload.get("plan") or {}).get("id") or getattr(args, "plan_id", None)
            again = Run("apply", plan_id) if plan_id else "the plan's apply"
            told = words(
                "skillbot: interrupted. A plan being applied is left interrupted: ",
                again,
                " finishes it (what already moved is not moved again); ",
                Run("status"),
                " shows where the aliases are.",
            )
            print(say(told), file=sys.stderr)
            return out.finish({**payload, "outcome": "interrupted"}, EXIT_INTERRUPTED)

    return run


# --- the kinds -------------------------------------------------------------------------


def run_read(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    # the history is the audit log, in the database; the status reads the aliases in AWS
    with Session(args, needs_aws=args.operation != "history") as session:
        actor = session.acting.identity if session.acting else ""
        result = session.call(actor)
    if isinstance(result, StatusReport):
        return show_status(out, payload, result)
    return show_history(out, payload, session.command.skill or "", result)


def run_doctor(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    applied: list[Change] = []
    with Session(args, needs_actor=True, needs_slack=args.yes) as session:
        report: DoctorReport = session.call(session.actor.identity)
        problems = [f for f in report.findings if not f.ok]
        out.say(f"Doctor for {report.skill.name}: {report.outcome}")
        out.lines(
            f"  {'BAD' if not f.ok else 'ok ' if f.checked else '?  '} {f.check}: {say(f.detail)}"
            for f in report.findings
        )
        if report.fixes and args.yes:
            session.require_direct_apply()
            for fix in report.fixes:
                change = session.cases.applying.apply(fix.id, actor=session.actor.identity)
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
        {
            "check": f.check,
            "ok": f.ok,
            "checked": f.checked,
            "detail": say(f.detail),
            "alias": f.alias,
            "fix": f.fix,
        }
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


def offered(result: PlanOffer | PruneOffer) -> PlanOffer:
    """A prune plan as any plan is offered: its versions and the space it frees as the note."""
    if isinstance(result, PlanOffer):
        return result
    regional = len(result.regions) > 1
    lines = [
        f"{part.region + ': ' if regional else ''}deletes v{v.number} "
        f"({(v.code_size or 0) / 1e6:.1f} MB)"
        for part in result.regions
        for v in part.versions
    ]
    lines += [f"{p.region} frees {p.freed / 1e6:.1f} MB" for p in result.regions if regional]
    lines.append(f"frees {result.freed / 1e6:.1f} MB; keeps the {result.keep} most recent")
    return PlanOffer(result.plan, note="\n".join(lines))


def run_planned(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    if args.wait is not None and not args.request:
        raise UsageError(
            "--wait only applies with --request.", hint="Add --request, or drop --wait."
        )
    with Session(args, needs_actor=True, needs_slack=args.yes or args.request) as session:
        submit = bool(session.command.option("submit"))
        if submit and session.cases.offers.alexa is None:
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
            "on_behalf_of": actor.on_behalf_of,
        }
        offer = offered(session.call(actor.identity, actor.run_url))
        plan = offer.plan
        payload["plan"] = plan_json(plan)
        out.plan(plan, offer.note)
        if plan.noop:
            return out.finish({**payload, "outcome": "noop"}, EXIT_OK)
        if args.request:
            return request_confirmation(session, offer, args.wait, out, payload)
        if not args.yes:
            out.say(
                say(
                    words(
                        "Nothing changed. Apply exactly this plan with ",
                        Run("apply", plan.id),
                        ", or run the command again with --yes.",
                    )
                )
            )
            return out.finish({**payload, "outcome": "planned"}, EXIT_OK)
        session.require_direct_apply()
        change = session.cases.applying.apply(plan.id, actor=actor.identity, submit=submit)
    return applied(out, payload, change)


def run_apply(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    with Session(args, needs_actor=True, needs_slack=True) as session:
        session.require_direct_apply()
        change = session.cases.applying.apply(
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
    out.lines(f"  {say(note)}" for note in change.notes)
    outcome = "noop" if change.noop else "applied"
    return out.finish({**payload, "outcome": outcome, "result": change_json(change)}, EXIT_OK)


def run_change(args: argparse.Namespace, out: Output, payload: dict[str, Any]) -> int:
    with Session(args, needs_actor=True, needs_slack=True) as session:
        session.require_direct_apply()
        result = session.call(session.actor.identity)
    if isinstance(result, Change):
        return applied(out, payload, result)
    out.say(say(result))  # words: what a small use case answers
    return out.finish({**payload, "outcome": "done", "message": say(result)}, EXIT_OK)


RUNS: dict[str, Handler] = {
    "read": run_read,
    "check": run_doctor,
    "plan": run_planned,
    "change": run_change,
}
