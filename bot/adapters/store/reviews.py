"""What the database keeps of each certification's Alexa review (SMAPI)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.adapters.store.engine import Database, record
from bot.adapters.store.schema import alexa_reviews
from bot.domain.alexa import Review


class ReviewRecords:
    """The :class:`bot.ports.ReviewStore` over the ``alexa_reviews`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def review(self, cert_id: str) -> Review | None:
        row = self.db.first(
            sa.select(alexa_reviews).where(alexa_reviews.c.certification_id == cert_id)
        )
        return record(Review, row) if row else None

    def save_review(self, cert_id: str, skill: str, **values: datetime | str | None) -> None:
        """Set ``values`` on the certification's review, creating the row if needed."""
        with self.db.begin() as conn:
            updated = conn.execute(
                alexa_reviews.update()
                .where(alexa_reviews.c.certification_id == cert_id)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(
                    alexa_reviews.insert().values(certification_id=cert_id, skill=skill, **values)
                )
