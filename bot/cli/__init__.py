"""The ``skillbot`` command: run the bot (``skillbot run [all|web|scheduler]``), migrate
its database, start the demo, and the rotation itself from a terminal or a CD pipeline:
one subcommand for each of :data:`bot.commands.TABLE` (:mod:`bot.cli.operations`), plus
``skillbot apply PLAN_ID``.

Exit codes (:mod:`bot.cli.exit_codes`): 0 done, 1 refused, 2 configuration or usage,
3 a service (AWS, Slack, the database) did not answer, 130 interrupted (Ctrl-C), 141 the
output was cut short (a closed pipe).

Every subcommand's parser sets ``handler`` (a function of the parsed arguments returning
the exit code); one that hands its arguments on untouched sets ``passthrough``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import NoReturn

from bot import __version__
from bot.cli.exit_codes import (
    EXIT_CLOSED_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    SUMMARY,
    UsageError,
)
from bot.cli.operations import add_operations
from bot.cli.render import Output, error_json
from bot.domain.errors import ConfigError, SkillbotError

ROLES = ("all", "web", "scheduler")
AWS_CHAIN = (
    "AWS_*",
    "the standard AWS SDK chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
    "a role, AWS_REGION, AWS_ENDPOINT_URL, ... (also read from ./.env)",
)


class JsonErrorsParser(argparse.ArgumentParser):
    """argparse's parser where ``--json`` was given: a usage error is also the one JSON
    object on stdout that a script reads."""

    def error(self, message: str) -> NoReturn:
        err = UsageError(message, hint=f"See {self.prog} --help.")
        payload = {"command": self.prog.partition(" ")[2] or None, "outcome": "error"}
        Output(json_mode=True).finish({**payload, "error": error_json(err)}, EXIT_USAGE)
        super().error(message)  # the usage and the message on stderr, exit 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the subcommand, return its exit
    code: ``main(["migrate"])`` migrates the database of ``DATABASE_URL``.

    Ctrl-C where the subcommand has no answer of its own ends with one line and 130;
    output cut short by a closed pipe (``skillbot doctor | head -1``) ends quietly with
    141, as a command stopped by SIGPIPE does."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            return run_command(argv)
        finally:
            sys.stdout.flush()  # a closed pipe is found here, not while Python exits
    except KeyboardInterrupt:
        print("skillbot: interrupted (Ctrl-C).", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # what is still buffered for stdout goes nowhere, rather than failing again at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_CLOSED_PIPE


def run_command(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run its subcommand: its exit code."""
    parser = build_parser(json_errors="--json" in argv)
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser.error("unrecognized arguments: " + " ".join(extra))
    args.extra = extra
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def build_parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    parser_class = JsonErrorsParser if json_errors else argparse.ArgumentParser
    parser = parser_class(
        prog="skillbot",
        description="Rotate two AWS Lambda aliases behind a live Alexa skill, from Slack, "
        "a terminal or a CD pipeline.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        title="commands",
        metavar="COMMAND",
        required=True,
        parser_class=parser_class,
    )
    run = commands.add_parser(
        "run",
        help="start the bot (Slack listener and/or reminder scheduler)",
        description="Start the bot, as python -m bot ROLE does. all: listener and "
        "scheduler in one process; web: the listener only (several replicas); scheduler: "
        "the scheduler only. Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.",
    )
    run.add_argument("role", nargs="?", default="all", choices=ROLES)
    run.set_defaults(handler=run_bot)
    migrate = commands.add_parser(
        "migrate",
        help="create or migrate the database schema of DATABASE_URL, then exit",
        description="Create the schema of DATABASE_URL or bring it to the newest revision "
        "(the bot also does this at start; run it first where several replicas start).",
    )
    migrate.set_defaults(handler=migrate_database)
    # its own options (--help included) belong to the demo
    demo = commands.add_parser(
        "demo",
        add_help=False,
        help="the bot against an embedded AWS and a local Slack-like playground",
    )
    demo.set_defaults(handler=run_demo, passthrough=True)
    add_operations(commands)
    return parser


# --- subcommands -----------------------------------------------------------------------


def run_bot(args: argparse.Namespace) -> int:
    from bot.serve import start

    return start(args.role)


def migrate_database(args: argparse.Namespace) -> int:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import OperationalError

    from bot.adapters.store import make_engine, migrate
    from bot.config import load_settings

    try:
        engine = make_engine(load_settings().database_url)
    except ConfigError as err:
        print(f"skillbot: {err.message}\n{err.hint}", file=sys.stderr)
        return EXIT_USAGE
    shown = engine.url.render_as_string(hide_password=True)
    try:
        migrate(engine)
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except OperationalError as err:
        print(
            f"skillbot: the database {shown} did not answer: {err.orig}\n"
            "Check DATABASE_URL and that the database is up; retrying is safe.",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    except SkillbotError as err:
        print(f"skillbot: {err.message}\n{err.hint}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        engine.dispose()
    print(f"migrated {shown} to schema revision {revision}")
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    try:
        demo = importlib.import_module("bot.demo")
    except ModuleNotFoundError as err:
        if err.name != "bot.demo":
            raise
        print(
            f"skillbot demo: this installation of skillbot {__version__} has no demo.\n"
            "Install a skillbot release that ships it (pip install --upgrade skillbot), or "
            "try the bot with skillbot run and a Slack workspace.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    code = demo.main(list(args.extra))
    return int(code or 0)


# --- the environment, as the Settings model reads it -------------------------------------


def environment_variables() -> list[str]:
    """Every variable :class:`bot.config.Settings` reads, in its field order.

    >>> "SLACK_BOT_TOKEN" in environment_variables()
    True
    """
    from bot.config import Settings

    prefix = str(Settings.model_config.get("env_prefix") or "")
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        names.append(alias.upper() if isinstance(alias, str) else (prefix + name).upper())
    return names


def required_variables() -> dict[str, str]:
    """The variables a start with an empty environment names as missing, with the
    condition Settings attaches to each (e.g. only in HTTP mode)."""
    from bot.config import Settings

    try:
        Settings.model_construct().require_slack()
    except ConfigError as err:
        missing = err.message.partition(":")[2]
    else:
        return {}
    known = set(environment_variables())
    return {
        m["name"]: m["when"] or ""
        for m in re.finditer(r"\b(?P<name>[A-Z][A-Z0-9_]+)\b(?: \((?P<when>[^)]*)\))?", missing)
        if m["name"] in known
    }


def environment_help() -> str:
    """The ``--help`` epilog: every variable, grouped as in ``.env.example``."""
    from bot.config import Settings

    required = required_variables()
    defaults = {
        env: field.default
        for env, field in zip(environment_variables(), Settings.model_fields.values(), strict=True)
    }
    width = max(len(name) for name in defaults) + 2
    lines = [
        "environment (read from the process and from ./.env; see .env.example):",
        "  required:",
    ]
    lines += [f"    {name:<{width}}{when}".rstrip() for name, when in required.items()]
    lines.append("  optional:")
    for name, default in defaults.items():
        if name not in required:
            shown = "" if default is None else f"default: {default}"
            lines.append(f"    {name:<{width}}{shown}".rstrip())
    aws = textwrap.wrap(AWS_CHAIN[1], width=max(88 - 4 - width, 30))
    lines.append(f"    {AWS_CHAIN[0]:<{width}}{aws[0]}")
    lines += [" " * (4 + width) + more for more in aws[1:]]
    lines += [
        "",
        "who acts (rotation commands): --as, else SKILLBOT_ACTOR, else the CD pipeline's",
        "identity (GitHub Actions: GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_ACTOR; AWS",
        "CodeBuild: CODEBUILD_BUILD_ARN); a pipeline applies only when listed in the skills",
        "file's pipelines (any may show a plan, or --request an operator's Confirm in Slack).",
        "",
        *textwrap.wrap(SUMMARY, width=88),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
