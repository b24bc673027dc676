"""The ``canaries`` table: one row per canary hotfix, its state, figures and claims.

Every change is a conditional ``UPDATE … WHERE version = :seen`` that bumps the version,
so a check, a decision or the end is made by one writer only, in any number of
processes; a partial unique index keeps one canary per skill that is not over.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.adapters.store.engine import Database, bump, record
from bot.adapters.store.schema import audit_events, canaries
from bot.domain.canary import ACTIVE_STATES, Canary, CanaryRegion, CanaryState, Tally
from bot.domain.errors import Refused
from bot.domain.model import AuditEvent
from bot.domain.words import Run, words

_ACTIVE = [s.value for s in ACTIVE_STATES]
_ENDED = [CanaryState.COMPLETED.value, CanaryState.ABORTED.value]


def _canary(row: Any) -> Canary:
    return record(
        Canary,
        row,
        state=CanaryState(row.state),
        old=Tally(row.old_invocations, row.old_errors),
        new=Tally(row.new_invocations, row.new_errors),
        regions=_regions(row.regions),
    )


def _regions(text: str | None) -> tuple[CanaryRegion, ...]:
    if not text:
        return ()
    return tuple(
        CanaryRegion(
            r["region"],
            r["function"],
            r["old_version"],
            r["new_version"],
            Tally(*r.get("old", (0, 0))),
            Tally(*r.get("new", (0, 0))),
        )
        for r in json.loads(text)
    )


def _regions_text(regions: tuple[CanaryRegion, ...]) -> str | None:
    if not regions:
        return None
    return json.dumps(
        [
            {
                "region": r.region,
                "function": r.function,
                "old_version": r.old_version,
                "new_version": r.new_version,
                "old": [r.old.invocations, r.old.errors],
                "new": [r.new.invocations, r.new.errors],
            }
            for r in regions
        ]
    )


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Tallies become their four columns; states their text; regions JSON."""
    out = dict(values)
    if "regions" in out:
        out["regions"] = _regions_text(tuple(out["regions"]))
    for side in ("old", "new"):
        tally = out.pop(side, None)
        if tally is not None:
            out[f"{side}_invocations"] = tally.invocations
            out[f"{side}_errors"] = tally.errors
    if isinstance(out.get("state"), CanaryState):
        out["state"] = out["state"].value
    return out


class CanaryRecords:
    """The :class:`bot.ports.CanaryBook` on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, canary: Canary) -> None:
        """Record a canary; :class:`Refused` when the skill has one that is not over."""
        values = {f.name: getattr(canary, f.name) for f in fields(canary)}
        values = _columns(values)
        try:
            self.db.write(canaries.insert().values(**values))
        except IntegrityError:
            raise Refused(
                f"{canary.skill} already has a canary running.",
                hint=words(
                    Run("status", canary.skill), " shows it; end it before starting another."
                ),
            ) from None

    def _one(self, *where: Any) -> Canary | None:
        row = self.db.first(
            sa.select(canaries).where(*where).order_by(canaries.c.created_at.desc()).limit(1)
        )
        return _canary(row) if row else None

    def _many(self, *where: Any, limit: int | None = None) -> list[Canary]:
        q = sa.select(canaries).where(*where).order_by(canaries.c.created_at)
        if limit is not None:
            q = q.limit(limit)
        return [_canary(row) for row in self.db.rows(q)]

    def get(self, canary_id: str) -> Canary | None:
        return self._one(canaries.c.id == canary_id)

    def by_plan(self, plan_id: str) -> Canary | None:
        return self._one(canaries.c.plan_id == plan_id)

    def active(self, skill: str) -> Canary | None:
        return self._one(canaries.c.skill == skill, canaries.c.state.in_(_ACTIVE))

    def all_active(self) -> list[Canary]:
        return self._many(canaries.c.state.in_(_ACTIVE))

    def due(self, now: datetime, limit: int) -> list[Canary]:
        """Running canaries whose next check is due, and decided ones not yet ended,
        that no live claim holds."""
        c = canaries.c
        free = sa.or_(c.claim_until.is_(None), c.claim_until <= now)
        return self._many(
            free,
            sa.or_(
                sa.and_(c.state == CanaryState.RUNNING.value, c.next_check_at <= now),
                c.state == CanaryState.ENDING.value,
            ),
            limit=limit,
        )

    def change(self, canary_id: str, version: int, **values: Any) -> bool:
        """Apply ``values`` if the row still has ``version`` (and bump it)."""
        with self.db.begin() as conn:
            return _change(conn, canary_id, version, values)

    def finish(self, canary_id: str, version: int, event: AuditEvent, **values: Any) -> bool:
        """End the canary and record ``event`` in one transaction, or neither."""
        with self.db.begin() as conn:
            if not _change(conn, canary_id, version, {**values, "audit_id": event.id}):
                return False
            conn.execute(audit_events.insert().values(**asdict(event)))
            return True

    def forget(self, canary_id: str, version: int) -> bool:
        """Drop a canary that never started (its weights were never set)."""
        c = canaries.c
        return self.db.write(canaries.delete().where(c.id == canary_id, c.version == version)) == 1

    def without_message(self) -> list[Canary]:
        """Started canaries whose Slack message is not posted yet."""
        c = canaries.c
        return self._many(c.state != CanaryState.STARTING.value, c.message_ts.is_(None))

    def unannounced_ends(self, before: datetime) -> list[Canary]:
        """Canaries that ended before ``before`` whose end nobody claimed to announce."""
        c, a = canaries.c, audit_events.c
        q = (
            sa.select(canaries)
            .select_from(canaries.join(audit_events, a.id == c.audit_id))
            .where(c.state.in_(_ENDED), a.announced_at.is_(None), c.ended_at < before)
        )
        return [_canary(row) for row in self.db.rows(q)]


def _change(conn: sa.Connection, canary_id: str, version: int, values: dict[str, Any]) -> bool:
    return bump(conn, canaries.c.id, canary_id, version, **_columns(values))
