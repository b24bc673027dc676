"""Promotions set for a time (``/skill promote --at``): run once across replicas.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_promotions",
        sa.Column("certification_id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_scheduled_promotions_due", "scheduled_promotions", ["state", "at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_promotions_due", "scheduled_promotions")
    op.drop_table("scheduled_promotions")
