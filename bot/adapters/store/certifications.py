"""Certifications: at most one pending per skill, its Slack message, promotion traces."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import approvals, certifications
from bot.domain.errors import Refused
from bot.domain.model import Certification, CertificationState
from bot.domain.words import Run, words

PENDING_STATE = CertificationState.PENDING
PENDING = PENDING_STATE.value


def _cert(row: Any) -> Certification:
    return record(Certification, row, state=CertificationState(row.state))


class CertificationRecords:
    db: Database

    def add_certification(self, cert: Certification) -> None:
        values = asdict(cert)
        values["state"] = cert.state.value
        try:
            with self.db.begin() as conn:
                conn.execute(certifications.insert().values(**values))
        except IntegrityError as err:  # the one-pending-per-skill index
            raise Refused(
                f"{cert.skill} already has a pending certification.",
                hint=words("Promote or cancel it first (", Run("status", cert.skill), ")."),
            ) from err

    def get_certification(self, cert_id: str) -> Certification | None:
        return self._one(certifications.c.id == cert_id)

    def pending_certification(self, skill: str) -> Certification | None:
        return self._one(certifications.c.skill == skill, certifications.c.state == PENDING)

    def pending_certifications(self) -> list[Certification]:
        return self._all(certifications.c.state == PENDING)

    def end_certification(
        self, cert_id: str, state: CertificationState, by: str, at: datetime
    ) -> bool:
        ended = self.db.write(
            certifications.update()
            .where(certifications.c.id == cert_id, certifications.c.state == PENDING)
            .values(state=state.value, ended_by=by, ended_at=at)
        )
        return ended == 1

    def mark_promoting(self, cert_id: str, at: datetime | None) -> None:
        self._update(cert_id, promoting_at=at)

    def promotions_under_way(self) -> list[Certification]:
        """Pending certifications whose promotion started and never finished."""
        return self._all(
            certifications.c.state == PENDING, certifications.c.promoting_at.is_not(None)
        )

    def certifications_without_message(
        self, created_before: datetime, created_after: datetime
    ) -> list[Certification]:
        """Certifications whose message was never posted, whatever their state: one
        cancelled or promoted meanwhile is owed its message too (showing how it ended)."""
        return self._all(
            certifications.c.message_ts.is_(None),
            certifications.c.created_at < created_before,
            certifications.c.created_at > created_after,
        )

    def set_certification_message(self, cert_id: str, channel: str, ts: str) -> None:
        """Where the certification message lives (the outbox records it once posted)."""
        self._update(cert_id, channel=channel, message_ts=ts)

    def certification_by_message(self, channel: str, ts: str) -> Certification | None:
        return self._one(certifications.c.channel == channel, certifications.c.message_ts == ts)

    def _update(self, cert_id: str, **values: Any) -> None:
        self.db.write(
            certifications.update().where(certifications.c.id == cert_id).values(**values)
        )

    def _one(self, *where: Any) -> Certification | None:
        q = sa.select(certifications).where(*where).order_by(certifications.c.created_at.desc())
        row = self.db.first(q)
        return _cert(row) if row else None

    def _all(self, *where: Any) -> list[Certification]:
        return [_cert(r) for r in self.db.rows(sa.select(certifications).where(*where))]

    # approvals (approvals = N): who said yes to a pending certification, first first
    def add_approval(self, cert_id: str, approver: str, at: datetime) -> bool:
        """Record ``approver``'s yes; False when they had said it already (any replica)."""
        try:
            self.db.write(
                approvals.insert().values(certification_id=cert_id, approver=approver, at=at)
            )
        except IntegrityError:
            return False
        return True

    def remove_approval(self, cert_id: str, approver: str) -> bool:
        """Take ``approver``'s yes back (their reaction was removed)."""
        gone = approvals.delete().where(
            approvals.c.certification_id == cert_id, approvals.c.approver == approver
        )
        return self.db.write(gone) > 0

    def approvals(self, cert_id: str) -> list[str]:
        """Who approved ``cert_id``, in the order they did."""
        rows = self.db.rows(
            sa.select(approvals.c.approver)
            .where(approvals.c.certification_id == cert_id)
            .order_by(approvals.c.at, approvals.c.approver)
        )
        return [row.approver for row in rows]
