"""Every port the services use: small interfaces whose real ones live in ``bot/adapters``.

Lambda, the store's records (certifications, plans, audit, deliveries, locks; reminders;
Alexa reviews), Slack (the notifier), SMAPI, API Gateway and the clock. Tests use hand-made fakes of
these (tests/support/fakes.py) that keep state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from bot.domain.alexa import (
    CertificationReview,
    ManifestBuild,
    PublicationStatus,
    Review,
    SkillEndpoints,
    StageManifest,
)
from bot.domain.canary import Canary, Figures
from bot.domain.endpoints import GatewayPermission, GatewayRoute
from bot.domain.health import VersionPoint
from bot.domain.model import (
    AlexaTrigger,
    AliasState,
    AuditEvent,
    Certification,
    CertificationState,
    HealthReportDue,
    LatestCode,
    Outcome,
    Plan,
    ScheduledPromotion,
    SkillLock,
    Version,
)
from bot.domain.news import HomeView, News

Clock = Callable[[], datetime]


class LambdaPort(Protocol):
    """What skillbot does with AWS Lambda; every method maps to one API call or a read."""

    def get_alias(self, function: str, alias: str) -> AliasState | None: ...

    def get_latest(self, function: str) -> LatestCode: ...

    def wait_until_updated(self, function: str) -> LatestCode: ...

    def get_version(self, function: str, version: str) -> Version | None: ...

    def list_versions(self, function: str) -> list[Version]: ...

    def publish_version(self, function: str, code_sha256: str, description: str) -> Version: ...

    def update_alias(
        self, function: str, alias: str, version: str, revision_id: str, *, clear_routing: bool
    ) -> AliasState: ...

    def create_alias(self, function: str, alias: str, version: str) -> AliasState: ...

    def alias_arn(self, function: str, alias: str) -> str: ...

    def alexa_triggers(self, function: str, alias: str) -> list[AlexaTrigger]: ...

    def add_alexa_trigger(self, function: str, alias: str, skill_id: str) -> AlexaTrigger: ...

    def alexa_trigger_id(self, alias: str) -> str: ...

    def read_live_alias(self, function: str) -> str | None: ...

    def write_live_alias(self, function: str, alias: str) -> None: ...

    # canaries and pruning
    def route(
        self,
        function: str,
        alias: str,
        version: str,
        weights: dict[str, float],
        revision_id: str,
    ) -> AliasState: ...

    def list_aliases(self, function: str) -> list[AliasState]: ...

    def delete_version(self, function: str, version: str) -> None: ...

    def code_storage(self, function: str | None = None) -> tuple[int, int]: ...


class Store(Protocol):
    """Certifications, plans, the audit log, processed Slack events and skill locks."""

    # audit
    def add_audit(
        self,
        event: AuditEvent,
        *,
        plan_status: str | None = None,
        owe: Sequence[OwedMessage] = (),
    ) -> None:
        """Record ``event`` (with ``plan_status``, finish its plan) and the messages it owes,
        in one transaction."""

    def audit(self, skill: str, limit: int = 20) -> list[AuditEvent]: ...

    def alias_moves(self, skill: str, alias: str, limit: int = 100) -> list[AuditEvent]: ...

    def last_event(self, skill: str, operation: str, outcome: Outcome) -> AuditEvent | None: ...

    def claim_announcement(self, event_id: str, at: datetime) -> bool: ...

    def unannounced(self, before: datetime, operations: list[str]) -> list[AuditEvent]: ...

    # plans
    def save_plan(self, plan: Plan) -> None: ...

    def get_plan(self, plan_id: str) -> Plan | None: ...

    def claim_plan(self, plan_id: str) -> bool: ...

    def finish_plan(self, plan_id: str, outcome: str) -> None: ...

    def plan_status(self, plan_id: str) -> str | None: ...

    def plans_in_status(self, status: str) -> list[Plan]: ...

    # certifications
    def add_certification(self, cert: Certification) -> None: ...

    def get_certification(self, cert_id: str) -> Certification | None: ...

    def pending_certification(self, skill: str) -> Certification | None: ...

    def pending_certifications(self) -> list[Certification]: ...

    def end_certification(
        self, cert_id: str, state: CertificationState, by: str, at: datetime
    ) -> bool: ...

    def set_certification_message(self, cert_id: str, channel: str, ts: str) -> None: ...

    def mark_promoting(self, cert_id: str, at: datetime | None) -> None: ...

    def promotions_under_way(self) -> list[Certification]: ...

    def certifications_without_message(
        self, created_before: datetime, created_after: datetime
    ) -> list[Certification]: ...

    def certification_by_message(self, channel: str, ts: str) -> Certification | None: ...

    def add_approval(self, cert_id: str, approver: str, at: datetime) -> bool: ...

    def remove_approval(self, cert_id: str, approver: str) -> bool: ...

    def approvals(self, cert_id: str) -> list[str]: ...

    # promotions set for a time
    def schedule_promotion(self, scheduled: ScheduledPromotion) -> None: ...

    def scheduled_promotion(self, cert_id: str) -> ScheduledPromotion | None: ...

    def due_promotions(self, now: datetime, stale: datetime) -> list[ScheduledPromotion]: ...

    def move_scheduled(
        self, cert_id: str, was: str, now: str, detail: str = "", at: datetime | None = None
    ) -> bool: ...

    # Slack deliveries processed once across replicas
    def first_delivery(self, key: str, at: datetime) -> bool: ...

    def prune_deliveries(self, older_than: datetime) -> int: ...

    # one operation per skill, across processes
    def skill_lock(self, skill: str, timeout: float) -> AbstractContextManager[None]: ...

    # skills locked by a person (every change refused until unlocked)
    def lock_of(self, skill: str) -> SkillLock | None: ...

    def add_lock(
        self, lock: SkillLock, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> SkillLock: ...

    def remove_lock(
        self, skill: str, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> SkillLock | None: ...

    def close(self) -> None: ...


class Presenter(Protocol):
    """How the news (:mod:`bot.domain.news`) reads in Slack: the services say what and when,
    the presenter how; what it renders is what the outbox keeps and sends."""

    def render(self, news: News) -> Rendered: ...

    def home(self, home: HomeView) -> Rendered: ...


@dataclass(frozen=True)
class Rendered:
    """A message as Slack is sent it: the fallback text and the blocks (JSON)."""

    text: str
    blocks: str | None = None


#: kinds of owed message: a post (top level or in a thread), an update of a posted
#: message, a reply only one person sees, a person's App Home, a file shared (a chart)
POST, UPDATE, EPHEMERAL, HOME, FILE = "post", "update", "ephemeral", "home", "file"


@dataclass(frozen=True)
class SharedFile:
    """A file a message shares (its text is the file's comment)."""

    filename: str
    content: bytes
    title: str = ""


@dataclass(frozen=True)
class OwedMessage:
    """A message the bot owes Slack, as it is sent: one row of the outbox.

    ``key`` is its idempotency key (a second message owed with it is the same message; an
    update or a Home owed again replaces what is still owed). ``parent`` names the message
    it answers in a thread or updates, by key (posted when that one is), or ``parent_ts``
    by its ts. ``on_posted`` says what the store records of the ts Slack gives it."""

    key: str
    kind: str
    channel: str = ""
    rendered: Rendered = Rendered("")
    user: str | None = None
    parent: str | None = None
    parent_ts: str | None = None
    on_posted: str | None = None
    #: how long it is worth posting (0: now or never)
    lasts: timedelta = timedelta(days=7)
    #: the file a FILE message shares
    file: SharedFile | None = None


@dataclass(frozen=True)
class OwedRow:
    """An outbox row as stored; ``parent_ts`` is resolved from the parent when it is posted."""

    message: OwedMessage
    state: str
    version: int
    attempts: int
    unknown: bool
    last_error: str
    due_at: datetime
    created_at: datetime
    ts: str | None = None


class OutboxStore(Protocol):
    """The outbox table: rows claimed by one deliverer at a time, across replicas."""

    def owe(self, messages: Sequence[OwedMessage], at: datetime) -> None: ...

    def owed(self, key: str) -> OwedRow | None: ...

    def due_owed(self, now: datetime, limit: int) -> list[str]: ...

    def claim_owed(self, key: str, owner: str, now: datetime, until: datetime) -> OwedRow | None:
        """The row, claimed for ``owner``; None when it is not due, not owed, claimed
        elsewhere, or waits for its parent."""

    def owed_sent(self, key: str, version: int, ts: str | None, at: datetime) -> None: ...

    def owed_failed(
        self, key: str, version: int, due_at: datetime, error: str, *, unknown: bool
    ) -> None: ...

    def expire_owed(self, now: datetime) -> list[OwedRow]: ...


class SlackSender(Protocol):
    """Slack's Web API calls for what the outbox sends (one attempt each; a post whose
    answer was lost raises :class:`~bot.domain.errors.Unavailable` with ``outcome_unknown``)."""

    def post(self, channel: str, message: Rendered, *, key: str, thread_ts: str | None) -> str: ...

    def find(self, channel: str, key: str, thread_ts: str | None) -> str | None:
        """The ts of the message carrying ``key`` among the channel's (or thread's) newest."""

    def update(self, channel: str, ts: str, message: Rendered) -> None: ...

    def tell(self, channel: str, user: str, message: Rendered) -> None: ...

    def publish_home(self, user: str, view: Rendered) -> None: ...

    def share_file(
        self, channel: str, file: SharedFile, *, comment: str, thread_ts: str | None
    ) -> str | None:
        """Upload and share ``file`` (files_upload_v2); the ts of the message sharing it."""

    def find_file(self, channel: str, filename: str, thread_ts: str | None) -> str | None:
        """The ts of the message that shared ``filename`` among the channel's (thread's)."""


# -- reminders --------------------------------------------------------------------------


class NewReminder(NamedTuple):
    """A row to add for a pending certification: its schedule and first slot (a named
    tuple: a first start over thousands of certifications makes a thousand per pass)."""

    certification_id: str
    schedule: str
    next_due_at: datetime


@dataclass(frozen=True)
class ReminderRow:
    """A reminder row as stored (for logs and tests)."""

    certification_id: str
    schedule: str
    next_due_at: datetime
    version: int
    claimed_by: str | None
    claim_until: datetime | None
    send_at: datetime | None
    posting_since: datetime | None
    last_sent_at: datetime | None
    sent_count: int
    failures: int


@dataclass(frozen=True)
class DueReminder:
    """A due reminder with what claiming it needs to know of its certification."""

    certification_id: str
    version: int
    next_due_at: datetime
    failures: int
    posting_since: datetime | None
    claimed_by: str | None
    skill: str
    pending: bool
    created_at: datetime
    channel: str | None
    message_ts: str | None


@dataclass(frozen=True)
class ReminderAnchor:
    """Where a certification's reminder slots count from."""

    certification_id: str
    version: int
    created_at: datetime
    last_sent_at: datetime | None


class ReminderClaims(Protocol):
    """The unit of work of one claiming pass: what it reads and claims is committed
    together when its ``with`` block ends (rolled back if the block raises), and
    replicas take it in turn, so the pacing it reads cannot go stale before it claims."""

    def recent_sends(self, since: datetime) -> dict[str, datetime]: ...

    def due(self, now: datetime, *, skip_channels: set[str], limit: int) -> list[DueReminder]: ...

    def claim(self, row: DueReminder, owner: str, send_at: datetime, until: datetime) -> bool: ...

    def skip_slot(self, row: DueReminder, next_due_at: datetime, schedule: str) -> bool: ...

    def forget(self, cert_id: str) -> None: ...


class ReminderBook(Protocol):
    """One reminder row per pending certification; every change is conditional on the
    row's ``version`` (and bumps it). Claims are made in :meth:`claiming`'s unit of work;
    every other method is a transaction of its own::

        with book.claiming() as claims:
            for row in claims.due(now, skip_channels=set(), limit=50):
                claims.claim(row, "host:1:ab12", send_at=now, until=later)
    """

    def pending_without_row(self, limit: int) -> list[tuple[str, str, datetime]]: ...

    def add(self, rows: Sequence[NewReminder]) -> None: ...

    def schedules_in_use(
        self, now: datetime, *, unlike: str, or_skills: Sequence[str] | None
    ) -> list[tuple[str, str, str]]: ...

    def anchors(self, cert_ids: Sequence[str]) -> list[ReminderAnchor]: ...

    def reschedule(
        self, cert_id: str, version: int, schedule: str, next_due_at: datetime
    ) -> bool: ...

    def row(self, cert_id: str) -> ReminderRow | None: ...

    def claiming(self) -> AbstractContextManager[ReminderClaims]: ...

    def forget(self, cert_id: str) -> None: ...

    def start(
        self,
        cert_id: str,
        version: int,
        *,
        next_due_at: datetime,
        schedule: str,
        now: datetime,
        until: datetime,
    ) -> bool: ...

    def finish(
        self,
        cert_id: str,
        version: int,
        *,
        sent_at: datetime | None,
        next_due_at: datetime | None = None,
        failed: bool = False,
    ) -> bool: ...

    def release(self, cert_id: str, version: int) -> bool: ...


# -- Alexa (SMAPI) ---------------------------------------------------------------------


class ReviewStore(Protocol):
    """What skillbot keeps of each certification's Alexa review."""

    def review(self, cert_id: str) -> Review | None: ...

    def save_review(self, cert_id: str, skill: str, **values: datetime | str | None) -> None: ...


class SmapiPort(Protocol):
    """The Alexa Skill Management API calls skillbot makes."""

    def submit_for_certification(self, skill_id: str, version_message: str) -> None: ...

    def most_recent_certification(self, skill_id: str) -> CertificationReview | None: ...

    def publish(self, skill_id: str) -> PublicationStatus: ...

    def withdraw(self, skill_id: str, reason: str, message: str | None = None) -> None: ...

    def live_endpoints(self, skill_id: str) -> SkillEndpoints: ...

    def stage_manifest(self, skill_id: str, stage: str) -> StageManifest: ...

    def update_manifest(
        self, skill_id: str, stage: str, manifest: dict[str, Any], etag: str | None
    ) -> None: ...

    def manifest_build(self, skill_id: str) -> ManifestBuild: ...


# -- API Gateway (the variant with an HTTPS endpoint per alias) ---------------------------


class GatewayPort(Protocol):
    """Reads of API Gateway (REST and HTTP APIs) and the permissions that let it invoke
    an alias; the one change is adding such a permission."""

    def route(self, url: str) -> GatewayRoute: ...

    def gateway_permissions(self, function: str, alias: str) -> list[GatewayPermission]: ...

    def add_gateway_permission(
        self, function: str, alias: str, source_arn: str
    ) -> GatewayPermission: ...

    def gateway_permission_id(self, alias: str) -> str: ...


# -- canaries --------------------------------------------------------------------------


class MetricsPort(Protocol):
    """CloudWatch's figures of a canary (one read per check) and of a release."""

    def version_points(
        self,
        function: str,
        alias: str,
        versions: Sequence[str],
        start: datetime,
        end: datetime,
        period: int,
    ) -> list[VersionPoint]:
        """Every period from ``start`` to ``end`` of each of ``versions``, oldest first."""

    def canary_figures(
        self,
        function: str,
        alias: str,
        old_version: str,
        new_version: str,
        start: datetime,
        end: datetime,
        period: int,
    ) -> Figures: ...


class CanaryBook(Protocol):
    """The canaries table. Every change is conditional on the row's ``version`` (and
    bumps it), so a canary is checked, decided and ended by one writer at a time."""

    def add(self, canary: Canary) -> None: ...

    def get(self, canary_id: str) -> Canary | None: ...

    def by_plan(self, plan_id: str) -> Canary | None: ...

    def active(self, skill: str) -> Canary | None: ...

    def all_active(self) -> list[Canary]: ...

    def due(self, now: datetime, limit: int) -> list[Canary]: ...

    def change(self, canary_id: str, version: int, **values: Any) -> bool: ...

    def finish(self, canary_id: str, version: int, event: AuditEvent, **values: Any) -> bool: ...

    def forget(self, canary_id: str, version: int) -> bool: ...

    def without_message(self) -> list[Canary]: ...

    def unannounced_ends(self, before: datetime) -> list[Canary]: ...


# -- health reports -----------------------------------------------------------------------


class HealthReportBook(Protocol):
    """The health_reports table: reports owed after alias changes, claimed once."""

    def schedule_reports(self, reports: Sequence[HealthReportDue]) -> None: ...

    def claim_reports(
        self, owner: str, now: datetime, until: datetime, *, limit: int
    ) -> list[HealthReportDue]: ...

    def finish_report(self, key: str, outcome: str) -> None: ...


class ChartPort(Protocol):
    """Draws a release's figures as a PNG (a plotting library, loaded at the first chart)."""

    def draw(
        self, points: Sequence[VersionPoint], *, title: str, change_at: datetime | None
    ) -> bytes: ...
