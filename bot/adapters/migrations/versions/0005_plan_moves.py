"""Plans as a header plus one move per placement (region), each with its own guards.

A plan saved before this revision kept the first region's move in its own fields and the
other regions' moves beside them; it did not record the first region's function, so it
cannot be applied after the upgrade. Its payload is rewritten to the new shape (for the
record) and a plan not yet applied becomes ``stale``: a Confirm then says it was already
handled and to run the command again.

Revision ID: 0005
Revises: 0004
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: the old payload's fields that became a move's
MOVE_FIELDS = ("from_version", "to_version", "code_sha256", "revision_id", "code_last_modified")
GONE = ("default_region", "regions", "region", "function", "versions", "regional_versions")
#: a plan in these states could still be applied (or finished by recovery)
OPEN = ("pending", "interrupted", "applying")


def new_shape(old: dict[str, Any]) -> dict[str, Any]:
    """The payload of an old plan in the new shape: the first move's function unknown ("")."""
    first = {key: old.get(key) for key in MOVE_FIELDS}
    first.update(
        region=old.get("region") or old.get("default_region") or "",
        function=old.get("function") or "",
        noop=bool(old.get("noop")),
        versions=list(old.get("versions") or ()),
    )
    others = [{**move, "versions": []} for move in old.get("regions") or ()] or [
        {
            "region": region,
            "function": "",
            "from_version": None,
            "to_version": None,
            "code_sha256": None,
            "revision_id": None,
            "code_last_modified": None,
            "noop": False,
            "versions": list(numbers),
        }
        for region, numbers in old.get("regional_versions") or ()
    ]
    data = {k: v for k, v in old.items() if k not in MOVE_FIELDS and k not in GONE}
    data["moves"] = [first, *others]
    return data


def upgrade() -> None:
    conn = op.get_bind()
    plans = sa.table("plans", sa.column("id"), sa.column("status"), sa.column("payload"))
    rows = conn.execute(sa.select(plans.c.id, plans.c.status, plans.c.payload)).all()
    for row in rows:
        old = json.loads(row.payload)
        if "moves" in old:
            continue
        status = "stale" if row.status in OPEN else row.status
        conn.execute(
            plans.update()
            .where(plans.c.id == row.id)
            .values(payload=json.dumps(new_shape(old)), status=status)
        )


def downgrade() -> None:
    # a plan of the new shape cannot be applied by the old code: retire the open ones
    plans = sa.table("plans", sa.column("status"))
    op.get_bind().execute(plans.update().where(plans.c.status.in_(OPEN)).values(status="stale"))
