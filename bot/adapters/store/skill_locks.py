"""Skills locked by a person: a row while locked, shared by every replica. Locking and
unlocking are written with their audit event in one transaction, so the announcement the
change owes (the audit log is the outbox) is never lost."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import audit_events, skill_locks
from bot.domain.model import AuditEvent, SkillLock


class SkillLockRecords:
    db: Database

    def lock_of(self, skill: str) -> SkillLock | None:
        """Who locked ``skill``, when and why; None when it is not locked."""
        row = self.db.first(sa.select(skill_locks).where(skill_locks.c.skill == skill))
        return record(SkillLock, row) if row else None

    def add_lock(self, lock: SkillLock, event: AuditEvent) -> SkillLock:
        """Lock the skill and record ``event``; when someone locked it first (on any
        replica), nothing is written and their lock is returned."""
        try:
            with self.db.begin() as conn:
                conn.execute(skill_locks.insert().values(**asdict(lock)))
                conn.execute(audit_events.insert().values(**asdict(event)))
        except IntegrityError:
            held = self.lock_of(lock.skill)
            if held is None:
                raise
            return held
        return lock

    def remove_lock(self, skill: str, event: AuditEvent) -> SkillLock | None:
        """Unlock the skill and record ``event``; returns the lock removed (None, and
        nothing written: it was not locked, or another replica unlocked it first)."""
        with self.db.begin() as conn:
            row = conn.execute(sa.select(skill_locks).where(skill_locks.c.skill == skill)).first()
            if row is None:
                return None
            if not conn.execute(skill_locks.delete().where(skill_locks.c.skill == skill)).rowcount:
                return None
            conn.execute(audit_events.insert().values(**asdict(event)))
            return record(SkillLock, row)
