"""Health reports owed after alias changes: one row per change and delay, claimed once.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_reports",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("alias", sa.String(100), nullable=False),
        sa.Column("before_alias", sa.String(100), nullable=False),
        sa.Column("from_version", sa.String(20)),
        sa.Column("to_version", sa.String(20), nullable=False),
        sa.Column("change_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delay_seconds", sa.Integer, nullable=False),
        sa.Column("thread", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claim_until", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_index("ix_health_reports_due", "health_reports", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_health_reports_due", "health_reports")
    op.drop_table("health_reports")
