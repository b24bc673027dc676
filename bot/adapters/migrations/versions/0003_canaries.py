"""Canaries: one row per canary hotfix, the state its checks and its end are claimed on.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = "state IN ('starting', 'running', 'ending')"


def upgrade() -> None:
    op.create_table(
        "canaries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("old_version", sa.String(40), nullable=False),
        sa.Column("new_version", sa.String(40), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("seconds", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("confirmed_by", sa.String(100)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("next_check_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claim_until", sa.DateTime(timezone=True)),
        sa.Column("decision", sa.String(20)),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("audit_id", sa.String(32)),
        sa.Column("channel", sa.String(40)),
        sa.Column("message_ts", sa.String(40)),
        sa.Column("old_invocations", sa.Integer, nullable=False),
        sa.Column("old_errors", sa.Integer, nullable=False),
        sa.Column("new_invocations", sa.Integer, nullable=False),
        sa.Column("new_errors", sa.Integer, nullable=False),
        sa.Column("waiting", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ux_canary_one_active",
        "canaries",
        ["skill"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    op.create_index("ix_canaries_state_check", "canaries", ["state", "next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_canaries_state_check", "canaries")
    op.drop_index("ux_canary_one_active", "canaries")
    op.drop_table("canaries")
