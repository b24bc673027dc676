"""Saved plans: shown, then claimed once by the Confirm that applies them."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa

from bot.adapters.store.engine import Database
from bot.adapters.store.schema import plans
from bot.domain.model import FixKind, Move, Operation, Plan
from bot.domain.provenance import Provenance


def plan_to_json(plan: Plan) -> str:
    data = asdict(plan)
    data["created_at"] = plan.created_at.isoformat()
    return json.dumps(data)


def plan_from_json(text: str) -> Plan:
    data = json.loads(text)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["operation"] = Operation(data["operation"])
    data["fix"] = FixKind(data["fix"]) if data.get("fix") else None
    for key in ("provenance", "from_provenance"):
        data[key] = Provenance(**data[key]) if data.get(key) else None
    data["moves"] = tuple(
        Move(**{**move, "versions": tuple(move.get("versions") or ())}) for move in data["moves"]
    )
    return Plan(**data)


class PlanRecords:
    db: Database

    def save_plan(self, plan: Plan) -> None:
        self.db.write(
            plans.insert().values(
                id=plan.id,
                skill=plan.skill,
                status="pending",
                payload=plan_to_json(plan),
                created_at=plan.created_at,
            )
        )

    def get_plan(self, plan_id: str) -> Plan | None:
        row = self.db.first(sa.select(plans.c.payload).where(plans.c.id == plan_id))
        return plan_from_json(row.payload) if row else None

    def plan_status(self, plan_id: str) -> str | None:
        row = self.db.first(sa.select(plans.c.status).where(plans.c.id == plan_id))
        return row.status if row else None

    def claim_plan(self, plan_id: str) -> bool:
        """Atomically move a plan from pending (or interrupted) to applying; False if
        someone else did."""
        claimed = self.db.write(
            plans.update()
            .where(plans.c.id == plan_id, plans.c.status.in_(["pending", "interrupted"]))
            .values(status="applying")
        )
        return claimed == 1

    def plans_in_status(self, status: str) -> list[Plan]:
        rows = self.db.rows(sa.select(plans.c.payload).where(plans.c.status == status))
        return [plan_from_json(r.payload) for r in rows]

    def finish_plan(self, plan_id: str, outcome: str) -> None:
        self.db.write(plans.update().where(plans.c.id == plan_id).values(status=outcome))
