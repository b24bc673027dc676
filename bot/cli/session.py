"""What one run of a rotation command needs: the settings, the skills file, who acts, and
the use cases built over the bot's own database — no scheduler, no HTTP server::

    with Session(args, needs_actor=True, needs_slack=True) as session:
        offer = session.call(session.actor.identity)     # the subcommand's use case
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.cli.exit_codes import UsageError
from bot.commands import TABLE, parse
from bot.config import (
    ENV_HINT,
    START_HINT,
    Settings,
    all_problems,
    load_settings,
    load_skills_file,
    pipeline_run,
)
from bot.domain import actors
from bot.domain.commands import Command
from bot.domain.errors import ConfigError, SkillbotError

T = TypeVar("T")


@dataclass(frozen=True)
class Acting:
    """Who a command acts as, and where that came from (for the output)."""

    identity: str
    run_url: str | None
    source: str
    #: inside a pipeline: the person ``--as``/``SKILLBOT_ACTOR`` names, who asked it
    on_behalf_of: str | None = None

    @property
    def from_terminal(self) -> bool:
        return not actors.is_pipeline(self.identity)


def resolve_actor(explicit: str | None, settings: Settings) -> Acting | None:
    """Inside a CD pipeline, the pipeline (``--as``/``SKILLBOT_ACTOR`` name who asked);
    from a terminal, ``--as``, else ``SKILLBOT_ACTOR``, a Slack member id that can never
    claim a pipeline identity; else None.

    A pipeline's own identity carries the link to its run."""
    run = pipeline_run()
    named = next(
        (
            (i.strip(), s)
            for i, s in ((explicit, "--as"), (settings.skillbot_actor, "SKILLBOT_ACTOR"))
            if i
        ),
        None,
    )
    if named is not None:
        identity, source = named
        if run is not None and identity == run.identity:
            named = None  # naming the pipeline it runs in
        elif not actors.is_slack_user(identity):
            raise UsageError(
                f"{source} {identity!r} is not a Slack member id"
                + (
                    f": a terminal cannot act as the pipeline {identity}."
                    if actors.is_pipeline(identity)
                    else "."
                ),
                hint="Give your member id like U0ALICE (Slack: profile > ⋮ > Copy member ID); "
                "a pipeline acts as itself when the command runs inside it.",
            )
    if run is not None:
        started = f" (started by {run.started_by})" if run.started_by else ""
        behalf = named[0] if named else None
        return Acting(run.identity, run.run_url, f"the pipeline{started}", behalf)
    if named is not None:
        return Acting(named[0], None, named[1])
    return None


def require_existing_database(url: str) -> None:
    """The command line works on the bot's database (plans, locks, certifications, the
    audit log); a SQLite file that does not exist is a wrong DATABASE_URL, not a new
    installation to create behind the bot's back."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL.", hint=ENV_HINT) from None
    database = parsed.database
    in_a_file = parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
    if in_a_file and not Path(str(database)).exists():
        raise ConfigError(
            f"DATABASE_URL names {database}, which does not exist: the command line works "
            "on the bot's own database (its plans, locks, certifications and audit log).",
            hint="Point DATABASE_URL at the database the bot uses (PostgreSQL where the bot "
            "runs elsewhere), or run skillbot migrate first for a new installation.",
        )


class Session:
    """Settings, skills file, actor and use cases for one command; closes what it opened."""

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        needs_actor: bool = False,
        needs_slack: bool = False,
        needs_aws: bool = True,
    ) -> None:
        self.args = args
        self.needs_actor = needs_actor
        self.needs_slack = needs_slack
        #: False: the command reads only the database (boto3 still needs a region)
        self.needs_aws = needs_aws
        self.composed: Any = None

    def __enter__(self) -> Session:
        logging.basicConfig(level=logging.WARNING, format="skillbot: %(levelname)s %(message)s")
        self.settings = settings = load_settings()  # names every bad variable at once
        problems = self._problems(settings)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise all_problems([p.told for p in problems], START_HINT)
        from bot.bootstrap import build_services

        self.composed = build_services(settings, self.config)
        self.cases = self.composed.cases
        return self

    def _problems(self, settings: Settings) -> list[SkillbotError]:
        """Everything wrong with the configuration for this command, each with what to
        do, so that one run names them all (and sets what the command reads)."""
        from bot.bootstrap.real import aws_problems

        problems: list[SkillbotError] = []

        def check(step: Callable[..., T], *args: Any) -> T | None:
            try:
                return step(*args)
            except ConfigError as err:  # UsageError too
                problems.append(err)
                return None

        config = check(load_skills_file, settings.skillbot_config)
        check(require_existing_database, settings.database_url)
        before_actor = len(problems)
        self.acting = check(resolve_actor, getattr(self.args, "as_", None), settings)
        if self.needs_actor and self.acting is None and len(problems) == before_actor:
            problems.append(
                UsageError(
                    "Who is acting? No --as, no SKILLBOT_ACTOR, and no CD pipeline in the "
                    "environment.",
                    hint="Pass --as YOUR_SLACK_MEMBER_ID (an operator), or set SKILLBOT_ACTOR.",
                )
            )
        if self.needs_slack and not settings.slack_bot_token:
            problems.append(
                ConfigError(
                    "Missing environment variables: SLACK_BOT_TOKEN (what the command applies "
                    "or asks for is posted in the skill's Slack channel).",
                    hint="Set it in .env or the environment to the bot's token (the Slack "
                    "app's OAuth & Permissions page, Bot User OAuth Token, xoxb-…).",
                )
            )
        if config is not None:  # SKILL is one of the file's skills
            self.config = config
            command = check(self._command)
            if command is not None:
                self.command = command
        problems += aws_problems(settings, credentials=self.needs_aws)
        return problems

    def __exit__(self, *exc: object) -> None:
        if self.composed is not None:
            self.composed.close()

    def call(self, actor: str, run_url: str | None = None) -> Any:
        """The subcommand's use case, as :data:`bot.commands.TABLE` names it."""
        call = TABLE[self.command.name].call
        assert call is not None
        return call(self.cases, self.command, actor, run_url)

    @property
    def actor(self) -> Acting:
        assert self.acting is not None
        return self.acting

    def require_direct_apply(self) -> None:
        """With ``terminal_apply = false``, a change from a terminal (not a CD pipeline)
        is only ever a request an operator confirms in Slack."""
        if self.config.terminal_apply or not self.actor.from_terminal:
            return
        raise UsageError(
            "This installation applies changes from a terminal only after an operator "
            "confirms them in Slack (terminal_apply = false).",
            hint="Run the command with --request (and --wait 30m to wait for the outcome).",
        )

    def _command(self) -> Command:
        """The arguments as ``/skill`` reads them: SKILL may be left out when one skill is
        configured, VERSION is ``9`` or ``v9``, options are checked the same way."""
        args, spec = self.args, getattr(self.args, "spec", None)
        if spec is None:  # apply: a plan id, no subcommand of the table
            return Command(args.operation, None, None, "")
        words = [spec.name, getattr(args, "skill", None), getattr(args, "version", None)]
        for option in spec.options:
            value = getattr(args, f"option_{option.name}", None)
            if value:
                words.append(f"--{option.name}" + ("" if option.flag else f" {value}"))
        try:
            parsed = parse(
                " ".join(w for w in words if w), list(self.config.skills), prog="skillbot"
            )
        except SkillbotError as err:
            raise UsageError(err.said, hint=err.todo) from None
        return replace(parsed, reason=getattr(args, "reason", ""))
