"""Promotions set for a time: one row per certification, claimed once when due."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import scheduled_promotions as table
from bot.domain.model import ScheduledPromotion

SCHEDULED = "scheduled"


class ScheduledPromotionRecords:
    db: Database

    def schedule_promotion(self, scheduled: ScheduledPromotion) -> None:
        """Set (or move) the certification's promotion to ``scheduled.at``."""
        values = {**asdict(scheduled), "state": SCHEDULED, "detail": ""}
        with self.db.begin() as conn:
            conn.execute(
                table.delete().where(table.c.certification_id == scheduled.certification_id)
            )
            conn.execute(table.insert().values(**values))

    def scheduled_promotion(self, cert_id: str) -> ScheduledPromotion | None:
        """The certification's promotion still to run (None: none is set)."""
        row = self.db.first(
            sa.select(table).where(table.c.certification_id == cert_id, table.c.state == SCHEDULED)
        )
        return record(ScheduledPromotion, row) if row else None

    def due_promotions(self, now: datetime, stale: datetime) -> list[ScheduledPromotion]:
        """Promotions whose time has come, and those claimed before ``stale`` whose
        process died before it finished them (set back to scheduled: promoting again is
        idempotent)."""
        with self.db.begin() as conn:
            conn.execute(
                table.update()
                .where(table.c.state == "running", table.c.claimed_at < stale)
                .values(state=SCHEDULED)
            )
            rows = conn.execute(
                sa.select(table)
                .where(table.c.state == SCHEDULED, table.c.at <= now)
                .order_by(table.c.at)
            ).all()
        return [record(ScheduledPromotion, row) for row in rows]

    def move_scheduled(
        self, cert_id: str, was: str, now: str, detail: str = "", at: datetime | None = None
    ) -> bool:
        """``was`` → ``now`` (scheduled → running at ``at`` → done, scheduled → cancelled,
        …); True for the one caller, on any replica, that moved it."""
        claimed = {"claimed_at": at} if at is not None else {}
        moved = self.db.write(
            table.update()
            .where(table.c.certification_id == cert_id, table.c.state == was)
            .values(state=now, detail=detail[:2000], **claimed)
        )
        return moved > 0
