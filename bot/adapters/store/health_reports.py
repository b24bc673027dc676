"""Health reports owed after alias changes: due at their delay, claimed by one replica (a
claim that lapsed, its process gone, is taken over), done once::

    store.schedule_reports([HealthReportDue("e1:3600", "trivia", …)])
    for report in store.claim_reports("replica-1", now, now + lease, limit=10): ...
    store.finish_report(report.key, "posted")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.adapters.store.engine import Database, utc
from bot.adapters.store.schema import health_reports
from bot.domain.model import HealthReportDue

DUE, DONE = "due", "done"
_FIELDS = [f.name for f in fields(HealthReportDue)]


def _report(row: Any) -> HealthReportDue:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["change_at"], values["due_at"] = utc(row.change_at), utc(row.due_at)
    return HealthReportDue(**values)


class HealthReportRecords:
    db: Database

    def schedule_reports(self, reports: Sequence[HealthReportDue]) -> None:
        """Owe ``reports`` (one already owed under its key stays as it is)."""
        if not reports:
            return
        with self.db.begin() as conn:
            for report in reports:
                conn.execute(
                    self.db.insert_ignoring(health_reports, ["key"]).values(
                        **asdict(report), state=DUE, outcome=""
                    )
                )

    def claim_reports(
        self, owner: str, now: datetime, until: datetime, *, limit: int
    ) -> list[HealthReportDue]:
        """Due reports, each claimed for ``owner`` by one conditional update."""
        c = health_reports.c
        free = sa.or_(c.claim_until.is_(None), c.claim_until < now)
        keys = [
            r.key
            for r in self.db.rows(
                sa.select(c.key)
                .where(c.state == DUE, c.due_at <= now, free)
                .order_by(c.due_at)
                .limit(limit)
            )
        ]
        claimed = []
        for key in keys:
            won = self.db.write(
                health_reports.update()
                .where(c.key == key, c.state == DUE, free)
                .values(claimed_by=owner, claim_until=until)
            )
            if won:
                row = self.db.first(sa.select(health_reports).where(c.key == key))
                claimed.append(_report(row))
        return claimed

    def finish_report(self, key: str, outcome: str) -> None:
        self.db.write(
            health_reports.update()
            .where(health_reports.c.key == key)
            .values(state=DONE, outcome=outcome[:500], claimed_by=None, claim_until=None)
        )

    def reports_of(self, skill: str) -> list[tuple[HealthReportDue, str, str]]:
        """Every report of ``skill`` with its state and outcome, by due time (tests)."""
        q = (
            sa.select(health_reports)
            .where(health_reports.c.skill == skill)
            .order_by(health_reports.c.due_at)
        )
        return [(_report(r), r.state, r.outcome) for r in self.db.rows(q)]
