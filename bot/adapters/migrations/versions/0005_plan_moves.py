"""Plans as a header plus one move per placement (AWS region), each with its own guards.

A plan saved before this revision kept the first region's move in its own fields and the
others beside them, without the first region's function, so it cannot be applied after
the upgrade: its payload is rewritten in the new shape (for the record), and one not yet
applied becomes ``stale`` — a Confirm then says it was handled and to run the command again.

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
MOVE = ("from_version", "to_version", "code_sha256", "revision_id", "code_last_modified")
GONE = (*MOVE, "default_region", "regions", "region", "function", "versions", "regional_versions")
#: a plan in these states could still be applied (or finished by recovery)
OPEN = ("pending", "interrupted", "applying")
plans = sa.table("plans", sa.column("id"), sa.column("status"), sa.column("payload"))


def new_shape(old: dict[str, Any]) -> dict[str, Any]:
    """An old plan's payload as moves; the first move's function is not known ("")."""
    empty = dict.fromkeys(MOVE) | {"noop": False, "versions": []}
    first = empty | {key: old.get(key) for key in MOVE}
    first |= {
        "region": old.get("region") or old.get("default_region") or "",
        "function": old.get("function") or "",
        "noop": bool(old.get("noop")),
        "versions": list(old.get("versions") or ()),
    }
    others = [empty | move | {"versions": []} for move in old.get("regions") or ()]
    others += [
        empty | {"region": region, "function": "", "versions": list(numbers)}
        for region, numbers in old.get("regional_versions") or ()
    ]
    return {k: v for k, v in old.items() if k not in GONE} | {"moves": [first, *others]}


def upgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(plans.c.id, plans.c.status, plans.c.payload)).all():
        old = json.loads(row.payload)
        if "moves" not in old:
            conn.execute(
                plans.update()
                .where(plans.c.id == row.id)
                .values(
                    payload=json.dumps(new_shape(old)),
                    status="stale" if row.status in OPEN else row.status,
                )
            )


def downgrade() -> None:
    # the old code cannot apply a plan of the new shape: retire the open ones
    op.get_bind().execute(plans.update().where(plans.c.status.in_(OPEN)).values(status="stale"))
