"""Skills locked by a person: a row while locked, shared by every replica. Locking and
unlocking are written with their audit event and the announcement they owe (a row of the
outbox) in one transaction, so it is never lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import skill_locks
from bot.domain.model import AuditEvent, SkillLock
from bot.ports import OwedMessage


class SkillLockRecords:
    db: Database

    def lock_of(self, skill: str) -> SkillLock | None:
        """Who locked ``skill``, when and why; None when it is not locked."""
        row = self.db.first(sa.select(skill_locks).where(skill_locks.c.skill == skill))
        return record(SkillLock, row) if row else None

    def add_lock(
        self, lock: SkillLock, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> SkillLock:
        """Lock the skill, record ``event`` and owe its announcement; when someone locked
        it first (on any replica), nothing is written and their lock is returned."""
        try:
            with self.db.begin() as conn:
                conn.execute(skill_locks.insert().values(**asdict(lock)))
                self.record_event(conn, event, owe)
        except IntegrityError:
            held = self.lock_of(lock.skill)
            if held is None:
                raise
            return held
        return lock

    def remove_lock(
        self, skill: str, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> SkillLock | None:
        """Unlock the skill, record ``event`` and owe its announcement; returns the lock
        removed (None, and nothing written: it was not locked, or another replica
        unlocked it first)."""
        with self.db.begin() as conn:
            row = conn.execute(sa.select(skill_locks).where(skill_locks.c.skill == skill)).first()
            if row is None:
                return None
            if not conn.execute(skill_locks.delete().where(skill_locks.c.skill == skill)).rowcount:
                return None
            self.record_event(conn, event, owe)
            return record(SkillLock, row)

    def record_event(
        self, conn: sa.Connection, event: AuditEvent, owe: Sequence[OwedMessage] = ()
    ) -> None: ...  # the audit log's (see bot.adapters.store.audit)
