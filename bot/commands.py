"""The one table of subcommands: ``/skill`` in Slack and ``skillbot`` in a terminal are
both derived from it (parsing, help, acks, dispatch and the command line's argparse).

A subcommand is one :class:`~bot.domain.commands.Subcommand`: its name, what ``help``
says, what "Could not …" says (``doing``), its arguments and options, who may run it, and
the use case it calls with ``(cases, command, actor, run_url)``::

    command = parse("hotfix trivia 9 -- crash", ["trivia"])
    result = TABLE[command.name].call(cases, command, "U0ALICE", None)   # a PlanOffer

A new subcommand is an entry here, its use case and its tests. The faces show what the
use case returns by its type (a plan offer, a change, a status, findings, or words), so
neither needs a line more; a new use-case class is also built once in ``compose()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.domain import commands
from bot.domain.commands import (
    CLI,
    SLACK,
    Command,
    Option,
    Subcommand,
    canary_seconds,
    canary_weight,
    count,
    report_seconds,
)
from bot.domain.errors import ConfigError
from bot.domain.words import Code, words

if TYPE_CHECKING:
    from bot.bootstrap.wiring import UseCases


def _propose(cases: UseCases, cmd: Command, actor: str, run_url: str | None) -> Any:
    """hotfix (``--canary``: a canary hotfix), certify, rollback and cancel."""
    assert cmd.skill is not None
    override = bool(cmd.option("override"))
    if cmd.option("canary") is not None:
        return cases.offers.propose_canary(
            cmd.skill, actor=actor, weight=cmd.option("canary"), seconds=cmd.option("for"),
            reason=cmd.reason, version=cmd.version, override=override,
        )  # fmt: skip
    return cases.offers.propose(
        cmd.name, cmd.skill, actor=actor, reason=cmd.reason, version=cmd.version,
        run_url=run_url, override=override, commit=cmd.option("commit"), repo=cmd.option("repo"),
    )  # fmt: skip


def _promote(cases: UseCases, cmd: Command, actor: str, run_url: str | None) -> Any:
    """promote, now or (``--at``) at a time."""
    override = bool(cmd.option("override"))
    if cmd.option("at"):
        return cases.promotion.schedule(
            cmd.skill, actor=actor, at=cmd.option("at"), reason=cmd.reason, override=override
        )
    return cases.promotion.promote(cmd.skill, actor=actor, reason=cmd.reason, override=override)


def _report(cases: UseCases, cmd: Command, actor: str, run_url: str | None) -> Any:
    """report: the chart of the live alias, drawn from CloudWatch's figures."""
    assert cmd.skill is not None
    if cases.health is None:
        raise ConfigError(
            "Reports need CloudWatch, which this installation does not read.",
            hint="Give the bot AWS credentials that may call cloudwatch:GetMetricData.",
        )
    return cases.health.report(cmd.skill, actor=actor, since=cmd.option("since"))


#: 0 keeps none but what an alias, a weight or the pending candidate refers to
KEEP = count(
    "keep",
    "a number of versions",
    words("Give how many of the most recent versions to keep, e.g. ", Code("--keep 10"), "."),
    0,
)
#: where new code came from (the command line: a pipeline knows its commit)
PROVENANCE = (
    Option("commit", "SHA", "the commit the code was built from (kept in the version's "
           "description)", faces=(CLI,)),
    Option("repo", "OWNER/NAME", "the commit's GitHub repository (a GitHub pipeline's own by "
           "default)", faces=(CLI,)),
)  # fmt: skip
#: an approver's change past a lock or a freeze window, with a reason
OVERRIDE = Option(
    "override", "", "approvers: apply past a lock or a freeze window (say why after --)",
    flag=True,
)  # fmt: skip
LIMIT = count("limit", "a number of entries", words("e.g. ", Code("--limit 50"), "."))
OPERATORS = "operators"

# fmt: off
_SUBCOMMANDS = (
    Subcommand("help", "this help", skill=False, faces=(SLACK,)),
    Subcommand(
        "status", "aliases, roles, pending certification", "read the status of {skill}",
        lambda cases, cmd, actor, url: cases.offers.status(cmd.skill),
        detail="What /skill status shows: each alias with its version and role, and the "
        "pending certification."),
    Subcommand(
        "hotfix", words("move the live alias (to VERSION, or to a version published from "
        "$LATEST); ", Code("--canary 10%"), " sends that share of live traffic first, ended by "
        "its error rate"),
        "plan a hotfix of {skill}", _propose, "plan", version=True, reason="REASON",
        who=OPERATORS, options=(
            Option("canary", "10%", "the new version's share of live traffic", canary_weight),
            Option("for", "10m", "sets how long a canary runs", canary_seconds, "canary"),
            OVERRIDE, *PROVENANCE),
        detail="Re-point the live alias: no recertification. Refused for the pending "
        "candidate's code."),
    Subcommand(
        "certify", "move the candidate alias and track the certification",
        "plan a certification of {skill}", _propose, "plan", version=True, reason="NOTE",
        who=OPERATORS, options=(
            Option("submit", "", "with --yes: also submit the skill to Alexa (needs the SMAPI "
                   "settings)", flag=True, faces=(CLI,)), OVERRIDE, *PROVENANCE),
        detail="Put VERSION (or a version published from $LATEST) on the candidate alias "
        "and record a pending certification; --reason is its note."),
    Subcommand(
        "promote", "certification passed: the candidate becomes live", "promote {skill}",
        _promote, "change", reason="REASON", who="approvers", faces=(SLACK,),
        options=(OVERRIDE, Option(
            "at", "TIME", "at TIME instead (2026-12-10 09:00, or 09:00 for the next one, in the "
            "skills file's timezone); --at cancel takes it back", moment=True))),
    Subcommand(
        "rollback", "live alias back to its previous version", "plan a rollback of {skill}",
        _propose, "plan", version=True, reason="REASON", who=OPERATORS, options=(OVERRIDE,),
        detail="Re-point the live alias to the version it had before (from the audit log), "
        "or to VERSION."),
    Subcommand(
        "cancel", "stop tracking the pending certification",
        "plan cancelling the certification of {skill}", _propose, "plan", reason="REASON",
        who=OPERATORS,
        detail="Cancel the pending certification; its reminders stop. No alias moves."),
    Subcommand(
        "history", "the audit log", "read the history of {skill}",
        lambda cases, cmd, actor, url: cases.reading.history(cmd.skill, cmd.option("limit") or 20),
        options=(Option("limit", "N", "how many entries (default 20)", LIMIT),),
        detail="Every attempt on the skill (planned, applied, refused, failed), newest "
        "first, as /skill history shows it."),
    Subcommand(
        "report", "post a chart of how the live alias does (invocations, errors, p99)",
        "report on {skill}",
        _report,
        options=(Option("since", "24h", "how far back (default 24h, at most 14d)",
                        report_seconds),),
        detail="The chart a health report shows after a change, on demand: the live "
        "alias's executed versions over the last --since, posted in the skill's channel."),
    Subcommand(
        "doctor", "check aliases, Alexa triggers, routing and roles; offers Fix", "check {skill}",
        lambda cases, cmd, actor, url: cases.planning.doctor(cmd.skill, actor=actor), "check",
        detail="The checks of /skill doctor. Exits 1 while a problem remains, so a pipeline "
        "can run it before deploying; --yes applies each fix (one change each)."),
    Subcommand(
        "lock", "refuse every change to the skill until it is unlocked (nothing in AWS)",
        "lock {skill}",
        lambda cases, cmd, actor, url: cases.locking.lock(
            cmd.skill, actor=actor, reason=cmd.reason),
        "change", reason="REASON", who="operators and approvers",
        detail="While a skill is locked (an incident is open, a launch is near), every plan "
        "or Confirm that would change it is refused, naming who locked it, when and why. "
        "Announced in the skill's channel."),
    Subcommand(
        "unlock", "allow changes to the skill again", "unlock {skill}",
        lambda cases, cmd, actor, url: cases.locking.unlock(cmd.skill, actor=actor),
        "change", who="operators and approvers",
        detail="End the lock of /skill lock; announced in the skill's channel."),
    Subcommand(
        "prune", "delete old versions nothing uses (keeps 10)", "run `prune {skill}`",
        lambda cases, cmd, actor, url: cases.pruning.plan_prune(
            cmd.skill, actor=actor, keep=cmd.option("keep")),
        "plan", who=OPERATORS,
        options=(Option("keep", "N", "keep the N most recent (10)", KEEP),),
        detail="Delete old published versions to free code storage. Never a version an "
        "alias points at or weights, the pending candidate's, $LATEST, or one of the --keep "
        "most recent."),
)
# fmt: on

TABLE: dict[str, Subcommand] = {s.name: s for s in _SUBCOMMANDS}
HELP = commands.help_lines(TABLE)


def parse(text: str, skills: Sequence[str], *, prog: str = "/skill") -> Command:
    """``/skill`` text (or the command line's words) against :data:`TABLE`.

    >>> parse("prune trivia --keep 3", ["trivia"]).option("keep")
    3
    """
    return commands.parse(text, skills, TABLE, prog=prog)


def doing(cmd: Command) -> str:
    """The verb phrase of a failed subcommand.

    >>> doing(Command("status", "trivia", None, ""))
    'read the status of trivia'
    """
    return TABLE[cmd.name].doing.format(skill=cmd.skill)
