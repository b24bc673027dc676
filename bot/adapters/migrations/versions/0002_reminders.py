"""Reminders: one row per pending certification, the schedule's source of truth.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column(
            "certification_id",
            sa.String(32),
            sa.ForeignKey("certifications.id"),
            primary_key=True,
        ),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claim_until", sa.DateTime(timezone=True)),
        sa.Column("send_at", sa.DateTime(timezone=True)),
        sa.Column("posting_since", sa.DateTime(timezone=True)),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.Column("sent_count", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
    )
    op.create_index("ix_reminders_next_due_at", "reminders", ["next_due_at"])
    op.create_index("ix_reminders_send_at", "reminders", ["send_at"])


def downgrade() -> None:
    op.drop_index("ix_reminders_send_at", "reminders")
    op.drop_index("ix_reminders_next_due_at", "reminders")
    op.drop_table("reminders")
