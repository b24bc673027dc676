"""The SQL store on SQLite and PostgreSQL (the latter skips cleanly without a server)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot.adapters.store import MIGRATIONS, migrate, open_store
from bot.domain.errors import Busy, Refused
from bot.domain.model import (
    AuditEvent,
    Certification,
    CertificationState,
    Move,
    Operation,
    Outcome,
    Plan,
    new_id,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def plan(**kw) -> Plan:
    fields = dict(
        id=new_id(),
        skill="trivia",
        operation=Operation.HOTFIX,
        alias="PROD1",
        moves=(Move("NA", "trivia-skill", "1", None, "abc", "r", "x"),),
        requested_by="U1",
        reason="why",
        created_at=NOW,
    )
    fields.update(kw)
    return Plan(**fields)


def cert(**kw) -> Certification:
    fields = dict(
        id=new_id(),
        skill="trivia",
        alias="PROD2",
        version="3",
        code_sha256="abc",
        requested_by="U1",
        note="",
        created_at=NOW,
    )
    fields.update(kw)
    return Certification(**fields)


def test_a_plan_round_trips_and_is_claimed_once(store):
    p = plan()
    store.save_plan(p)
    assert store.get_plan(p.id) == p
    assert store.claim_plan(p.id) is True
    assert store.claim_plan(p.id) is False
    store.finish_plan(p.id, "applied")
    assert store.plan_status(p.id) == "applied"


def test_claims_race_across_threads_and_exactly_one_wins(store):
    p = plan()
    store.save_plan(p)
    wins = []
    barrier = threading.Barrier(8)

    def claim():
        barrier.wait()
        wins.append(store.claim_plan(p.id))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_one_pending_certification_per_skill_is_enforced_by_the_database(store):
    first = cert()
    store.add_certification(first)
    with pytest.raises(Refused, match="already has a pending certification"):
        store.add_certification(cert())
    store.add_certification(cert(skill="quiz"))
    assert store.end_certification(first.id, CertificationState.PROMOTED, "U2", NOW)
    assert not store.end_certification(first.id, CertificationState.CANCELLED, "U3", NOW)
    ended = store.get_certification(first.id)
    assert (ended.state, ended.ended_by, ended.ended_at) == (CertificationState.PROMOTED, "U2", NOW)
    store.add_certification(cert())  # a new one may start now
    assert {c.skill for c in store.pending_certifications()} == {"trivia", "quiz"}


def test_certification_is_found_by_its_slack_message(store):
    c = cert()
    store.add_certification(c)
    store.set_certification_message(c.id, "C0TRIVIA", "1700000000.000100")
    assert store.certification_by_message("C0TRIVIA", "1700000000.000100").id == c.id
    assert store.certification_by_message("C0TRIVIA", "1700000000.000200") is None


def test_audit_is_newest_first_and_alias_moves_are_filtered(store):
    for i, (op, outcome) in enumerate(
        [
            ("hotfix", Outcome.APPLIED),
            ("hotfix", Outcome.REFUSED),
            ("status", Outcome.APPLIED),
            ("rollback", Outcome.APPLIED),
        ]
    ):
        store.add_audit(
            AuditEvent(
                new_id(),
                NOW,
                "trivia",
                op,
                outcome,
                "U1",
                alias="PROD1",
                from_version=str(i),
                to_version=str(i + 1),
            )
        )
    assert [e.operation for e in store.audit("trivia")] == [
        "rollback",
        "status",
        "hotfix",
        "hotfix",
    ]
    assert [e.operation for e in store.alias_moves("trivia", "PROD1")] == ["rollback", "hotfix"]
    assert store.last_event("trivia", "hotfix", Outcome.APPLIED).from_version == "0"
    assert store.audit("quiz") == []


def test_a_delivery_is_processed_once_across_replicas(store):
    other = open_store(store.engine.url.render_as_string(hide_password=False))
    assert store.first_delivery("event:Ev1", NOW) is True
    assert other.first_delivery("event:Ev1", NOW) is False
    assert other.first_delivery("event:Ev2", NOW) is True
    other.close()


def test_the_skill_lock_excludes_another_replica(store):
    other = open_store(store.engine.url.render_as_string(hide_password=False))
    with store.skill_lock("trivia", timeout=1):
        with (
            pytest.raises(Busy, match="Another operation on trivia"),
            other.skill_lock("trivia", timeout=0.2),
        ):
            pass
        with other.skill_lock("quiz", timeout=0.2):
            pass  # other skills are independent
    with other.skill_lock("trivia", timeout=0.2):
        pass  # released
    other.close()


def test_migrating_twice_is_harmless(store):
    migrate(store.engine)
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head


def test_old_deliveries_are_forgotten(store):
    store.first_delivery("event:old", NOW - timedelta(days=8))
    store.first_delivery("event:new", NOW)
    assert store.prune_deliveries(NOW - timedelta(days=7)) == 1
    assert store.first_delivery("event:old", NOW) is True
    assert store.first_delivery("event:new", NOW) is False


def test_plans_saved_before_moves_are_converted_and_retired(tmp_path):
    """Revision 0005: a plan of the old shape (one region's move in its own fields) is
    rewritten as moves; one not yet applied can no longer be confirmed (stale)."""
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    old = dict(
        skill="trivia",
        operation="hotfix",
        alias="PROD1",
        from_version="1",
        to_version=None,
        code_sha256="abc",
        code_last_modified="x",
        revision_id="r",
        requested_by="U1",
        reason="why",
        created_at=NOW.isoformat(),
        default_region="NA",
        regions=[
            dict(
                region="EU",
                function="arn:aws:lambda:eu-west-1:1:function:t",
                from_version="3",
                to_version=None,
                code_sha256="abc",
                revision_id="e",
                code_last_modified="y",
                noop=False,
            )
        ],
        versions=[],
        regional_versions=[],
    )
    with engine.begin() as conn:
        for plan_id, status in (("p-pending", "pending"), ("p-applied", "applied")):
            conn.execute(
                sa.text(
                    "INSERT INTO plans (id, skill, status, payload, created_at) "
                    "VALUES (:id, 'trivia', :status, :payload, :at)"
                ),
                {
                    "id": plan_id,
                    "status": status,
                    "payload": json.dumps({**old, "id": plan_id}),
                    "at": NOW,
                },
            )
    engine.dispose()
    store = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        pending = store.get_plan("p-pending")
        assert pending is not None and pending.summary() == (
            "hotfix trivia: PROD1 NA v1 → a new version from $LATEST, EU v3 → a new version"
        )
        assert [m.revision_id for m in pending.moves] == ["r", "e"]
        assert store.plan_status("p-pending") == "stale"
        assert store.claim_plan("p-pending") is False  # a Confirm says: run it again
        assert store.plan_status("p-applied") == "applied"
        assert store.get_plan("p-applied").moves[0].from_version == "1"
    finally:
        store.close()
