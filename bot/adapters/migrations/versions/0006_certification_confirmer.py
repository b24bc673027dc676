"""Who confirmed a certification's plan (four eyes keeps them from promoting it too), and
the state its Slack message last showed (an update Slack refused is made again).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for a certification recorded before this revision (its confirmer is not known)
    op.add_column("certifications", sa.Column("confirmed_by", sa.String(100)))
    op.add_column("certifications", sa.Column("message_state", sa.String(20)))
    # a message posted before this revision is taken to show its certification's state
    op.execute("UPDATE certifications SET message_state = state WHERE message_ts IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("certifications") as batch:  # SQLite drops a column by copying
        batch.drop_column("confirmed_by")
        batch.drop_column("message_state")
