"""Initial schema: audit log, plans, certifications, Alexa reviews, processed Slack deliveries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("alias", sa.String(128)),
        sa.Column("from_version", sa.String(40)),
        sa.Column("to_version", sa.String(40)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("plan_id", sa.String(32)),
        sa.Column("announced_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_audit_skill_seq", "audit_events", ["skill", "seq"])
    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "certifications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.String(100)),
        sa.Column("channel", sa.String(40)),
        sa.Column("message_ts", sa.String(40)),
        sa.Column("promoting_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ux_cert_one_pending",
        "certifications",
        ["skill"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_cert_message", "certifications", ["channel", "message_ts"])
    op.create_table(
        "alexa_reviews",
        sa.Column("certification_id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(20)),
        sa.Column("estimated_completion", sa.DateTime(timezone=True)),
        sa.Column("detail", sa.Text),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("alexa_reviews")
    op.drop_index("ix_cert_message", "certifications")
    op.drop_index("ux_cert_one_pending", "certifications")
    op.drop_table("certifications")
    op.drop_table("plans")
    op.drop_index("ix_audit_skill_seq", "audit_events")
    op.drop_table("audit_events")
