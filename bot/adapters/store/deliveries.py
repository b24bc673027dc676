"""Keys seen once across replicas: Slack event ids, one-time notices, message claims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.adapters.store.engine import Database
from bot.adapters.store.schema import deliveries


class DeliveryRecords:
    db: Database

    def first_delivery(self, key: str, at: datetime) -> bool:
        """True the first time ``key`` is seen by any replica sharing this database."""
        try:
            self.db.write(deliveries.insert().values(key=key, at=at))
        except IntegrityError:
            return False
        return True

    def prune_deliveries(self, older_than: datetime) -> int:
        """Forget keys older than ``older_than`` (Slack stops retrying after minutes)."""
        return self.db.write(deliveries.delete().where(deliveries.c.at < older_than))
