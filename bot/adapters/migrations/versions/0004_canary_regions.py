"""Canaries in several regions: each regional function's versions and figures.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for a canary on one function (every row written before this revision)
    op.add_column("canaries", sa.Column("regions", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("canaries") as batch:  # SQLite drops a column by copying
        batch.drop_column("regions")
