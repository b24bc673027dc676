"""What every rotation command shares: its options, and errors turned into exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.cli.exit_codes import exit_code
from bot.cli.render import Output
from bot.domain.errors import AppliedNotRecorded, SkillbotError
from bot.schedules import parse_duration

Handler = Callable[[argparse.Namespace, Output, dict[str, Any]], int]
Subparsers = Any  # argparse's private _SubParsersAction


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

    return run


def options(*, changing: bool = False) -> argparse.ArgumentParser:
    """Options every rotation command takes (and those of a command that changes AWS)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parent.add_argument(
        "--as",
        dest="as_",
        metavar="ACTOR",
        help="act as this Slack member id (else SKILLBOT_ACTOR, else the CD pipeline's identity)",
    )
    if changing:
        parent.add_argument("--reason", default="", help="why: shown in Slack and the audit log")
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
    found = parse_duration(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m or 2h")
    return found
