"""The audit log: every attempt and change, and the outbox of announcements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import audit_events, plans
from bot.domain.model import AuditEvent, Outcome
from bot.ports import OwedMessage

#: operations that move an alias (what rollback reads back)
ALIAS_MOVES = ["hotfix", "certify", "rollback", "canary-complete"]


def _event(row: Any) -> AuditEvent:
    return record(AuditEvent, row, outcome=Outcome(row.outcome))


class AuditRecords:
    db: Database

    def owe_in(
        self, conn: sa.Connection, messages: Sequence[OwedMessage], at: datetime
    ) -> None: ...  # the outbox's (see bot.adapters.store.outbox)

    def add_audit(
        self,
        event: AuditEvent,
        *,
        plan_status: str | None = None,
        owe: Sequence[OwedMessage] = (),
    ) -> None:
        """Record ``event``; with ``plan_status``, also finish its plan, and owe the
        messages that tell of it, in the same transaction: an applied plan never lacks its
        record, nor its announcement."""
        with self.db.begin() as conn:
            self.record_event(conn, event, owe)
            if plan_status is not None and event.plan_id is not None:
                conn.execute(
                    plans.update().where(plans.c.id == event.plan_id).values(status=plan_status)
                )

    def record_event(
        self, conn: sa.Connection, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> None:
        """Insert ``event`` in the caller's transaction, with the messages it owes."""
        values = asdict(event)
        if owe:
            values["announced_at"] = event.at  # owed with it: no sweep announces it
        conn.execute(audit_events.insert().values(**values))
        self.owe_in(conn, owe, event.at)

    def audit(self, skill: str, limit: int = 20) -> list[AuditEvent]:
        return self._events(audit_events.c.skill == skill, limit=limit)

    def alias_moves(self, skill: str, alias: str, limit: int = 100) -> list[AuditEvent]:
        """Applied changes of one alias, newest first."""
        return self._events(
            audit_events.c.skill == skill,
            audit_events.c.alias == alias,
            audit_events.c.outcome == Outcome.APPLIED.value,
            audit_events.c.operation.in_(ALIAS_MOVES),
            limit=limit,
        )

    def last_event(self, skill: str, operation: str, outcome: Outcome) -> AuditEvent | None:
        events = self._events(
            audit_events.c.skill == skill,
            audit_events.c.operation == operation,
            audit_events.c.outcome == outcome.value,
            limit=1,
        )
        return events[0] if events else None

    def claim_announcement(self, event_id: str, at: datetime) -> bool:
        """True for the one caller (any replica) that gets to announce this change."""
        claimed = self.db.write(
            audit_events.update()
            .where(audit_events.c.id == event_id, audit_events.c.announced_at.is_(None))
            .values(announced_at=at)
        )
        return claimed == 1

    def unannounced(self, before: datetime, operations: list[str]) -> list[AuditEvent]:
        """Applied changes recorded before ``before`` whose announcement was never claimed."""
        q = (
            sa.select(audit_events)
            .where(
                audit_events.c.outcome == Outcome.APPLIED.value,
                audit_events.c.announced_at.is_(None),
                audit_events.c.at < before,
                audit_events.c.operation.in_(operations),
            )
            .order_by(audit_events.c.seq)
        )
        return [_event(r) for r in self.db.rows(q)]

    def _events(self, *where: Any, limit: int) -> list[AuditEvent]:
        q = sa.select(audit_events).where(*where).order_by(audit_events.c.seq.desc()).limit(limit)
        return [_event(r) for r in self.db.rows(q)]
