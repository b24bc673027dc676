"""The small interfaces the rotation service needs; adapters/ holds the real ones.

Tests use hand-made fakes of these (tests/support/fakes.py) that keep state.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.domain.model import (
    AlexaTrigger,
    AliasState,
    AuditEvent,
    Certification,
    CertificationState,
    LatestCode,
    Outcome,
    Plan,
    Version,
)

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


class Store(Protocol):
    """Certifications, plans, the audit log, processed Slack events and skill locks."""

    # audit
    def add_audit(self, event: AuditEvent) -> None: ...

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

    def certification_by_message(self, channel: str, ts: str) -> Certification | None: ...

    # Slack deliveries processed once across replicas
    def first_delivery(self, key: str, at: datetime) -> bool: ...

    # one operation per skill, across processes
    def skill_lock(self, skill: str, timeout: float) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


class Notifier(Protocol):
    """Posting to Slack: the only Slack calls the core needs (messages, threads, home)."""

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str: ...

    def update(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def publish_home(self, user: str, view: dict[str, Any]) -> None: ...
