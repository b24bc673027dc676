"""The rotation's vocabulary: skills, aliases, versions, plans, certifications.

Pure values, standard library only. Nothing here talks to AWS, a database or Slack.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain import actors
from bot.domain.freeze import FreezeWindow
from bot.domain.labels import LATEST as LATEST
from bot.domain.labels import duration_label as duration_label
from bot.domain.labels import version_label as version_label
from bot.domain.placements import Move as Move
from bot.domain.placements import Placement as Placement
from bot.domain.provenance import Provenance, commits
from bot.domain.text import escape as escape  # typed text made inert in Slack's mrkdwn
from bot.domain.words import Run, Words


@dataclass(frozen=True)
class Skill:
    """One Alexa skill, served by one Lambda function per AWS region it runs in (its
    placements, the one named by ``function`` in the skills file first), with two rotating
    aliases that move in lockstep everywhere.

    >>> s = Skill("trivia", (Placement("NA", "trivia-skill"),), "amzn1.ask.skill.x",
    ...           ("PROD1", "PROD2"), "PROD1", "C1")
    >>> s.other_alias("PROD1")
    'PROD2'
    """

    name: str
    placements: tuple[Placement, ...]
    alexa_skill_id: str
    aliases: tuple[str, str]
    initial_live_alias: str
    channel: str
    #: optional per-skill reminder schedule overriding the global one
    reminder_schedule: str | None = None
    #: SMAPI's ``sslCertificateType`` of the HTTPS endpoints (API Gateway variant)
    ssl_certificate_type: str | None = None
    #: when no change is made (the skills file's ``freeze``, in its ``timezone``)
    freeze: tuple[FreezeWindow, ...] = ()

    @property
    def behind_gateway(self) -> bool:
        """The API Gateway variant: Alexa calls an HTTPS endpoint per alias, not its ARN."""
        return any(p.endpoints for p in self.placements)

    def at(self, region: str | None) -> Placement:
        """The placement serving Alexa's ``region`` (None, or one without its own
        function: the one Alexa's default endpoint calls)."""
        return next((p for p in self.placements if p.region == region), self.placements[0])

    def other_alias(self, alias: str) -> str:
        first, second = self.aliases
        return second if alias == first else first


@dataclass(frozen=True)
class Version:
    """A published (immutable) Lambda version, or ``$LATEST``."""

    number: str
    code_sha256: str
    last_modified: str = ""
    description: str = ""
    #: bytes of the deployment package (what counts against the region's code storage)
    code_size: int = 0

    @property
    def label(self) -> str:
        return version_label(self.number)


@dataclass(frozen=True)
class LatestCode:
    """What ``$LATEST`` holds right now."""

    code_sha256: str
    last_modified: str
    state: str = "Active"
    last_update_status: str = "Successful"


@dataclass(frozen=True)
class AliasState:
    """An alias as AWS reports it. ``routing`` holds weighted extra versions, if any."""

    name: str
    version: str
    revision_id: str
    routing: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AlexaTrigger:
    """A resource-policy statement letting Alexa invoke an alias."""

    statement_id: str
    alias: str
    skill_id: str | None  # None: no skill-id verification (any skill may call)


@dataclass(frozen=True)
class Roles:
    """Which alias serves the live skill; the other one is the candidate slot.

    ``recorded`` is False when the role comes from the skills file because nothing
    was recorded on the function yet.
    """

    live_alias: str
    candidate_alias: str
    recorded: bool = True


class Operation(enum.StrEnum):
    HOTFIX = "hotfix"
    CERTIFY = "certify"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    CANCEL = "cancel"
    FIX = "fix"
    #: live alias keeps its version and sends a share of traffic to a new one
    CANARY = "canary"
    #: delete old versions nothing refers to
    PRUNE = "prune"


class FixKind(enum.StrEnum):
    CREATE_ALIAS = "create_alias"
    ADD_TRIGGER = "add_trigger"
    CLEAR_ROUTING = "clear_routing"
    RECORD_ROLES = "record_roles"
    ADD_GATEWAY_PERMISSION = "add_gateway_permission"


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Plan:
    """One change, computed and shown before anything moves; applied later, once: a header
    (what, who, why), one :class:`Move` per placement, each with its own guards, and an
    optional detail (a canary's weight and window, a fix)."""

    id: str
    skill: str
    operation: Operation
    alias: str | None
    requested_by: str
    reason: str
    created_at: datetime
    moves: tuple[Move, ...] = ()
    fix: FixKind | None = None
    certification_id: str | None = None
    noop: bool = False
    #: audit id of the newest promotion when the plan was made: a later one swapped roles
    last_promotion: str | None = None
    #: canary: the share of traffic (0..1) the new version gets, and for how many seconds
    canary_weight: float | None = None
    canary_seconds: int | None = None
    #: the pipeline run that asked for the plan (``requested_by`` is then the pipeline)
    run_url: str | None = None
    #: made with ``--override`` by an approver: the lock or freeze it goes past
    override: str | None = None
    #: where the code it puts behind the alias came from, and the code it replaces
    provenance: Provenance | None = None
    from_provenance: Provenance | None = None

    @property
    def commits(self) -> str | None:
        """``abc1234 → def5678`` when a commit of either side is known."""
        return commits(self.from_provenance, self.provenance)

    # the first move's fields, as the presenters name them
    @property
    def from_version(self) -> str | None:
        return self.moves[0].from_version if self.moves else None

    @property
    def to_version(self) -> str | None:
        return self.moves[0].to_version if self.moves else None

    @property
    def code_sha256(self) -> str | None:
        return self.moves[0].code_sha256 if self.moves else None

    @property
    def code_last_modified(self) -> str | None:
        return self.moves[0].code_last_modified if self.moves else None

    @property
    def regions(self) -> tuple[Move, ...]:
        """Every placement's move after the first (empty for a one-region skill)."""
        return self.moves[1:]

    @property
    def default_region(self) -> str:
        """The first placement's name when the plan moves several (display only)."""
        return self.moves[0].region if len(self.moves) > 1 else ""

    @property
    def region(self) -> str | None:
        """A fix: the region it changes (None: the first placement's, named by none)."""
        return (self.moves[0].region or None) if self.moves else None

    @property
    def prune_count(self) -> int:
        """How many versions a prune deletes, in every region."""
        return sum(len(m.versions) for m in self.moves)

    @property
    def publishes(self) -> bool:
        return (
            self.operation in (Operation.HOTFIX, Operation.CERTIFY, Operation.CANARY)
            and self.to_version is None
        )

    @property
    def run(self) -> Run:
        """The subcommand that plans this again, e.g. ``Run("hotfix", "trivia")``."""
        if self.operation is Operation.CANARY:
            return Run("hotfix", self.skill, f"--canary {(self.canary_weight or 0):.0%}")
        return Run(str(self.operation), self.skill)

    @property
    def to_label(self) -> str:
        return "a new version from $LATEST" if self.publishes else version_label(self.to_version)

    def summary(self) -> str:
        """One line a person reads, e.g. ``hotfix trivia: PROD1 v7 → new version``."""
        if self.operation is Operation.FIX:
            return f"fix {self.skill}: {describe_fix(self.fix, self.alias, self.region)}"
        if self.operation is Operation.CANCEL:
            return f"cancel the pending certification of {self.skill}"
        if self.operation is Operation.PROMOTE:
            return f"promote {self.skill}: {self.alias} becomes live"
        if self.operation is Operation.PRUNE:
            return f"prune {self.skill}: delete {self.prune_count} old version(s)"
        if self.operation is Operation.CANARY:
            return (
                f"canary {self.skill}: {self.alias} {version_label(self.from_version)} → "
                f"{self.to_label} for {(self.canary_weight or 0):.0%} of traffic, "
                f"{duration_label(self.canary_seconds or 0)}"
            )
        moves = f"{version_label(self.from_version)} → {self.to_label}"
        if self.regions:
            moves = ", ".join([f"{self.default_region} {moves}", *(r.line() for r in self.regions)])
        return f"{self.operation} {self.skill}: {self.alias} {moves}"

    def with_(self, **changes: object) -> Plan:
        return replace(self, **changes)  # type: ignore[arg-type]


def describe_fix(fix: FixKind | None, alias: str | None, region: str | None = None) -> str:
    """What a fix does, e.g. ``create alias PROD2`` (``… in EU`` for a regional function)."""
    where = f" in {region}" if region else ""
    return {
        FixKind.CREATE_ALIAS: f"create alias {alias}{where}",
        FixKind.ADD_TRIGGER: (
            f"add the Alexa Skills Kit trigger (skill-id verified) on {alias}{where}"
        ),
        FixKind.CLEAR_ROUTING: f"remove weighted routing from {alias}{where}",
        FixKind.RECORD_ROLES: f"record {alias} as live on the function{where} (tag)",
        FixKind.ADD_GATEWAY_PERMISSION: f"let its API Gateway endpoint invoke {alias}{where}",
        None: "nothing",
    }[fix]


class CertificationState(enum.StrEnum):
    PENDING = "pending"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Certification:
    """A skill version in Alexa certification, served by the candidate alias."""

    id: str
    skill: str
    alias: str
    version: str
    code_sha256: str
    requested_by: str
    note: str
    created_at: datetime
    state: CertificationState = CertificationState.PENDING
    ended_at: datetime | None = None
    ended_by: str | None = None
    # where the certification message lives in Slack (set once it is posted)
    channel: str | None = None
    message_ts: str | None = None
    #: who confirmed the plan, when not the person who asked for it (four eyes)
    confirmed_by: str | None = None

    @property
    def pending(self) -> bool:
        return self.state is CertificationState.PENDING


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    NOOP = "noop"
    REFUSED = "refused"
    FAILED = "failed"
    PLANNED = "planned"


@dataclass(frozen=True)
class AuditEvent:
    """One attempt, whatever its outcome; the audit log is a list of these."""

    id: str
    at: datetime
    skill: str
    operation: str
    outcome: Outcome
    actor: str
    reason: str = ""
    alias: str | None = None
    from_version: str | None = None
    to_version: str | None = None
    detail: str = ""
    plan_id: str | None = None


@dataclass(frozen=True)
class Change:
    """What an applied plan changed; the Slack layer announces it.

    For a promotion ``previous_live_alias`` is the alias that stopped being live and
    ``from_version`` its version; ``alias``/``to_version`` are the new live ones.
    """

    plan: Plan
    alias: str | None
    from_version: str | None
    to_version: str | None
    code_sha256: str | None
    live_alias: str
    previous_live_alias: str | None = None
    certification: Certification | None = None
    noop: bool = False
    #: the audit event recording it (set by the service)
    audit_id: str | None = None
    #: more to tell the person who made the change (e.g. what Alexa answered a submission)
    notes: tuple[str | Words, ...] = ()
    #: what everyone must know (e.g. the live skill calls another alias): announced loudly
    alerts: tuple[str | Words, ...] = ()
    #: who confirmed the plan, when not the person who asked for it
    confirmed_by: str | None = None
    #: False when Slack has not taken the announcement yet (the outbox keeps trying)
    announced: bool = True
    regions: tuple[Move, ...] = ()  # the other placements' moves as made

    def credit(self) -> str:
        """`` by <@A>``, or `` planned by <@A>, confirmed by <@B>`` when two people acted;
        a pipeline is named, with its run (:func:`bot.domain.actors.display`)."""
        planner = actors.display(self.plan.requested_by, self.plan.run_url)
        if self.confirmed_by and self.confirmed_by != self.plan.requested_by:
            return f" planned by {planner}, confirmed by {actors.display(self.confirmed_by)}"
        return f" by {planner}"

    def headline(self, *, reason: bool = True) -> str:
        """The announcement's fallback text: skill, alias, ``vOLD → vNEW``, who, why
        (``reason=False`` leaves the person's reason out, for a heading the bot formats).

        >>> # "trivia: hotfix PROD1 v7 → v9 by <@U1> — crash on launch"
        """
        p = self.plan
        who = self.credit()
        why = f" — {escape(p.reason)}" if p.reason and reason else ""
        old, new = version_label(self.from_version), version_label(self.to_version)
        if p.operation is Operation.PROMOTE:
            return (
                f"{p.skill}: promoted — live {self.previous_live_alias} {old} → "
                f"{self.alias} {new}{self._regions_after(old, new)}{who}{why}"
            )
        if p.operation is Operation.CANCEL:
            return f"{p.skill}: certification of {new} on {self.alias} cancelled{who}{why}"
        if p.operation is Operation.FIX:
            return f"{p.skill}: {describe_fix(p.fix, p.alias, p.region)}{who}"
        if p.operation is Operation.PRUNE:
            return f"{p.skill}: prune deleted {p.prune_count} old version(s){who}"
        if p.operation is Operation.CANARY:
            share, window = p.canary_weight or 0, duration_label(p.canary_seconds or 0)
            traffic = f"at {share:.0%} for {window}"
            moves = f"{old} → {new}{self._regions_after(old, new)}"
            return f"{p.skill}: canary {self.alias} {moves}{self._commits()} {traffic}{who}{why}"
        moves = f"{old} → {new}{self._regions_after(old, new)}"
        return f"{p.skill}: {p.operation} {self.alias} {moves}{self._commits()}{who}{why}"

    def _commits(self) -> str:
        """`` (commits abc1234 → def5678)`` when the plan knows where the code came from."""
        return f" (commits {self.plan.commits})" if self.plan.commits else ""

    def _regions_after(self, old: str, new: str) -> str:
        """`` (NA), EU v3 → v5, FE v2 → v4``: every other region's move, after the
        default region's (named in brackets)."""
        if not self.regions:
            return ""
        others = ", ".join(
            f"{r.region} {version_label(r.from_version)} → {version_label(r.to_version)}"
            for r in self.regions
        )
        return f" ({self.plan.default_region or 'default'}), {others}"


@dataclass(frozen=True)
class SkillLock:
    """A skill locked by a person (``/skill lock``): every change to it is refused until it
    is unlocked; nothing in AWS changes."""

    skill: str
    locked_by: str
    reason: str
    locked_at: datetime


@dataclass(frozen=True)
class ScheduledPromotion:
    """A promotion an approver set for a time (``/skill promote --at``): it runs then,
    once across replicas and restarts, as that approver."""

    certification_id: str
    skill: str
    at: datetime
    scheduled_by: str
    reason: str
    override: bool = False


@dataclass(frozen=True)
class HealthReportDue:
    """A chart owed in a change's thread ``delay`` after it: how the live alias does on
    ``to_version`` against ``from_version`` over as long before the change."""

    key: str
    skill: str
    alias: str
    #: the live alias before the change (after a promotion, the other one)
    before_alias: str
    from_version: str | None
    to_version: str
    change_at: datetime
    delay_seconds: int
    #: the outbox key of the message whose thread gets it, and its channel
    thread: str
    channel: str
    due_at: datetime
