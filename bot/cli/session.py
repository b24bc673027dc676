"""What one run of a rotation command needs: the settings, the skills file, who acts, and
the services built over the bot's own database — no scheduler, no HTTP server::

    with Session(args, needs_actor=True, needs_slack=True) as session:
        session.rotation.propose("hotfix", session.skill, actor=session.actor.identity)
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cli.exit_codes import UsageError
from bot.config import ENV_HINT, Settings, load_settings, load_skills_file, pipeline_run
from bot.domain import actors
from bot.domain.commands import parse
from bot.domain.errors import ConfigError, SkillbotError


@dataclass(frozen=True)
class Acting:
    """Who a command acts as, and where that came from (for the output)."""

    identity: str
    run_url: str | None
    source: str

    @property
    def shown(self) -> str:
        return actors.plain(self.identity, self.run_url)


def resolve_actor(explicit: str | None, settings: Settings) -> Acting | None:
    """``--as``, else ``SKILLBOT_ACTOR``, else the CD pipeline this runs in, else None.

    A pipeline's own identity carries the link to its run."""
    run = pipeline_run()
    for identity, source in ((explicit, "--as"), (settings.skillbot_actor, "SKILLBOT_ACTOR")):
        if identity:
            identity = identity.strip()
            if not (actors.is_slack_user(identity) or actors.is_pipeline(identity)):
                raise UsageError(
                    f"{source} {identity!r} is neither a Slack user id nor a pipeline identity.",
                    hint="Give a member id like U0ALICE (Slack: profile > ⋮ > Copy member ID), "
                    "or github:ORG/REPO or codebuild:PROJECT.",
                )
            same_run = run is not None and run.identity == identity
            return Acting(identity, run.run_url if same_run and run else None, source)
    if run is not None:
        started = f" (started by {run.started_by})" if run.started_by else ""
        return Acting(run.identity, run.run_url, f"the pipeline{started}")
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
            "runs elsewhere), or run `skillbot migrate` first for a new installation.",
        )


class Session:
    """Settings, skills file, actor and services for one command; closes what it opened."""

    def __init__(
        self, args: argparse.Namespace, *, needs_actor: bool = False, needs_slack: bool = False
    ) -> None:
        self.args = args
        self.needs_actor = needs_actor
        self.needs_slack = needs_slack
        self.services: Any = None

    def __enter__(self) -> Session:
        logging.basicConfig(level=logging.WARNING, format="skillbot: %(levelname)s %(message)s")
        self.settings = settings = load_settings()
        self.config = load_skills_file(settings.skillbot_config)
        self.acting = resolve_actor(getattr(self.args, "as_", None), settings)
        if self.needs_actor and self.acting is None:
            raise UsageError(
                "Who is acting? No --as, no SKILLBOT_ACTOR, and no CD pipeline in the environment.",
                hint="Pass --as YOUR_SLACK_MEMBER_ID (an operator), or set SKILLBOT_ACTOR.",
            )
        if self.needs_slack and not settings.slack_bot_token:
            raise ConfigError(
                "Missing environment variables: SLACK_BOT_TOKEN (what the command applies or "
                "asks for is posted in the skill's Slack channel).",
                hint=ENV_HINT,
            )
        self.skill = self._skill()
        require_existing_database(settings.database_url)
        from bot.bootstrap import build_services

        self.services = build_services(settings, self.config)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.services is not None:
            self.services.close()

    @property
    def rotation(self) -> Any:
        return self.services.rotation

    @property
    def actor(self) -> Acting:
        assert self.acting is not None
        return self.acting

    def _skill(self) -> str | None:
        """SKILL and VERSION as ``/skill`` reads them: SKILL may be left out when one skill
        is configured, VERSION is ``9`` or ``v9``."""
        self.version: str | None = None
        command = getattr(self.args, "operation", None)
        if command is None or not hasattr(self.args, "skill"):
            return None
        words = [getattr(self.args, "skill", None), getattr(self.args, "version", None)]
        text = " ".join([command, *(w for w in words if w)])
        try:
            parsed = parse(text, list(self.config.skills), prog="skillbot")
        except SkillbotError as err:
            raise UsageError(err.message, hint=err.hint) from None
        self.version = parsed.version
        return parsed.skill
