"""SQLAlchemy storage: SQLite (a file, the embedded default) or PostgreSQL (several replicas).

- :mod:`~bot.adapters.store.schema`: every table (Alembic's one target);
- :mod:`~bot.adapters.store.engine`: engine, migrations, error translation and every
  SQLite/PostgreSQL difference;
- :mod:`~bot.adapters.store.locks`: one operation per skill across processes;
- one module per record kind: audit, plans, certifications, deliveries, skills locked by
  a person (the :class:`bot.ports.Store`), reminders, Alexa reviews and canaries (their
  own ports).

::

    store = open_store("sqlite:///skillbot.db")    # schema created or migrated
    with store.skill_lock("trivia", timeout=10):
        ...
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.adapters.store.audit import AuditRecords
from bot.adapters.store.canaries import CanaryRecords
from bot.adapters.store.certifications import CertificationRecords
from bot.adapters.store.deliveries import DeliveryRecords
from bot.adapters.store.engine import MIGRATIONS, Database, make_engine, migrate, open_database
from bot.adapters.store.health_reports import HealthReportRecords
from bot.adapters.store.locks import SkillLocks
from bot.adapters.store.outbox import OutboxRecords
from bot.adapters.store.plans import PlanRecords
from bot.adapters.store.reminders import ReminderBook
from bot.adapters.store.reviews import ReviewRecords
from bot.adapters.store.scheduled import ScheduledPromotionRecords
from bot.adapters.store.skill_locks import SkillLockRecords

__all__ = ["MIGRATIONS", "SqlStore", "make_engine", "migrate", "open_store"]


class SqlStore(
    OutboxRecords,
    HealthReportRecords,
    AuditRecords,
    PlanRecords,
    CertificationRecords,
    DeliveryRecords,
    SkillLockRecords,
    ScheduledPromotionRecords,
):
    """The :class:`bot.ports.Store` over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: hold the one-operation-per-skill lock; :class:`~bot.domain.errors.Busy` after
        #: ``timeout`` seconds
        self.skill_lock = SkillLocks(db).hold

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def healthy(self) -> bool:
        """False once the database can no longer be trusted (its file was deleted)."""
        return self.db.intact()

    def reminder_book(self) -> ReminderBook:
        return ReminderBook(self.db)

    def reviews(self) -> ReviewRecords:
        return ReviewRecords(self.db)

    def canary_book(self) -> CanaryRecords:
        return CanaryRecords(self.db)

    def close(self) -> None:
        self.db.close()


def open_store(url: str) -> SqlStore:
    """Open (and migrate) the database of ``url``."""
    return SqlStore(open_database(url))
