"""The outbox: every message the bot owes Slack, one row each, claimed by one deliverer at
a time across replicas (see :mod:`bot.service.outbox`)::

    store.owe([OwedMessage("announce:42", POST, "C0TRIVIA", Rendered("trivia: …"))], now)
    row = store.claim_owed("announce:42", "replica-1", now, now + lease)
    store.owed_sent("announce:42", row.version, "1700000000.000100", now)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.adapters.store.engine import Database, utc
from bot.adapters.store.schema import canaries, certifications, outbox
from bot.ports import HOME, UPDATE, OwedMessage, OwedRow, Rendered, SharedFile

OWED, SENT, EXPIRED = "owed", "sent", "expired"
#: owed again with the same key: the newest content replaces what is still owed
REPLACED = (UPDATE, HOME)

_parent = outbox.alias("parent")


def _row(row: Any, parent_ts: str | None = None) -> OwedRow:
    message = OwedMessage(
        key=row.key,
        kind=row.kind,
        channel=row.channel,
        rendered=Rendered(row.text, row.blocks),
        user=row.user,
        parent=row.parent,
        parent_ts=row.parent_ts or parent_ts,
        on_posted=row.on_posted,
        file=SharedFile(row.filename, row.content or b"") if row.filename else None,
    )
    return OwedRow(
        message=message,
        state=row.state,
        version=row.version,
        attempts=row.attempts,
        unknown=row.unknown,
        last_error=row.last_error,
        due_at=utc(row.due_at),  # type: ignore[arg-type]
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        ts=row.ts,
    )


def _values(message: OwedMessage, at: datetime) -> dict[str, Any]:
    return {
        "key": message.key,
        "kind": message.kind,
        "channel": message.channel,
        "user": message.user,
        "text": message.rendered.text,
        "blocks": message.rendered.blocks,
        "parent": message.parent,
        "parent_ts": message.parent_ts,
        "on_posted": message.on_posted,
        "filename": message.file.filename if message.file else None,
        "content": message.file.content if message.file else None,
        "created_at": at,
        "due_at": at,
        "expires_at": at + message.lasts,
        "state": OWED,
        "version": 1,
        "attempts": 0,
        "unknown": False,
        "last_error": "",
    }


#: the parent a row waits for is posted (or it has none)
_parent_ready = sa.or_(
    outbox.c.parent.is_(None),
    outbox.c.parent_ts.is_not(None),
    sa.exists().where(_parent.c.key == outbox.c.parent, _parent.c.ts.is_not(None)),
)


class OutboxRecords:
    db: Database

    def owe(self, messages: Sequence[OwedMessage], at: datetime) -> None:
        """Owe ``messages``: a post already owed under its key stays as it is; an update
        or a Home owed again replaces the content still owed."""
        if messages:
            with self.db.begin() as conn:
                self.owe_in(conn, messages, at)

    def owe_in(self, conn: sa.Connection, messages: Sequence[OwedMessage], at: datetime) -> None:
        """:meth:`owe` in the caller's transaction (with the state change that owes them)."""
        for message in messages:
            inserted = conn.execute(
                self.db.insert_ignoring(outbox, ["key"]).values(**_values(message, at))
            ).rowcount
            if inserted or message.kind not in REPLACED:
                continue
            conn.execute(
                outbox.update()
                .where(
                    outbox.c.key == message.key,
                    # the same content owed again (or sent already) is no news
                    sa.or_(
                        outbox.c.text != message.rendered.text,
                        outbox.c.blocks.is_distinct_from(message.rendered.blocks),
                    ),
                )
                .values(
                    text=message.rendered.text,
                    blocks=message.rendered.blocks,
                    parent_ts=sa.func.coalesce(outbox.c.parent_ts, message.parent_ts),
                    state=OWED,
                    version=outbox.c.version + 1,
                    attempts=0,
                    due_at=at,
                    expires_at=at + message.lasts,
                    last_error="",
                )
            )

    def owed(self, key: str) -> OwedRow | None:
        q = (
            sa.select(outbox, _parent.c.ts.label("parent_posted_ts"))
            .select_from(outbox.outerjoin(_parent, _parent.c.key == outbox.c.parent))
            .where(outbox.c.key == key)
        )
        row = self.db.first(q)
        return None if row is None else _row(row, row.parent_posted_ts)

    def due_owed(self, now: datetime, limit: int) -> list[str]:
        """Keys of owed rows due now, free to claim, whose parent is posted; oldest first."""
        q = (
            sa.select(outbox.c.key)
            .where(
                outbox.c.state == OWED,
                outbox.c.due_at <= now,
                sa.or_(outbox.c.claim_until.is_(None), outbox.c.claim_until < now),
                _parent_ready,
            )
            .order_by(outbox.c.created_at, outbox.c.key)
            .limit(limit)
        )
        return [r.key for r in self.db.rows(q)]

    def claim_owed(self, key: str, owner: str, now: datetime, until: datetime) -> OwedRow | None:
        claimed = self.db.write(
            outbox.update()
            .where(
                outbox.c.key == key,
                outbox.c.state == OWED,
                outbox.c.due_at <= now,
                sa.or_(outbox.c.claim_until.is_(None), outbox.c.claim_until < now),
                _parent_ready,
            )
            .values(
                claimed_by=owner,
                claim_until=until,
                # a claim that lapsed was its owner's, who may have died mid-post: look first
                unknown=sa.case((outbox.c.claimed_by.is_not(None), True), else_=outbox.c.unknown),
            )
        )
        return self.owed(key) if claimed == 1 else None

    def owed_sent(self, key: str, version: int, ts: str | None, at: datetime) -> None:
        """Slack took the row's ``version``; one owed again meanwhile stays owed."""
        with self.db.begin() as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.key == key)).first()
            if row is None:
                return
            newer = row.version != version
            conn.execute(
                outbox.update()
                .where(outbox.c.key == key)
                .values(
                    state=OWED if newer else SENT,
                    sent_at=at,
                    ts=ts or row.ts,
                    unknown=False,
                    claimed_by=None,
                    claim_until=None,
                    last_error="",
                )
            )
            if ts and row.on_posted:
                _record_posted(conn, row.on_posted, row.channel, ts)

    def owed_failed(
        self, key: str, version: int, due_at: datetime, error: str, *, unknown: bool
    ) -> None:
        """Slack refused it (or its answer was lost): tried again at ``due_at``."""
        self.db.write(
            outbox.update()
            .where(outbox.c.key == key)
            .values(
                attempts=outbox.c.attempts + 1,
                due_at=due_at,
                last_error=error[:500],
                unknown=unknown,
                claimed_by=None,
                claim_until=None,
            )
        )

    def expire_owed(self, now: datetime) -> list[OwedRow]:
        """Rows no longer worth posting (a reply nobody waits for now, a week-old post)."""
        with self.db.begin() as conn:
            rows = list(
                conn.execute(
                    sa.select(outbox).where(
                        outbox.c.state == OWED,
                        outbox.c.expires_at < now,
                        sa.or_(outbox.c.claim_until.is_(None), outbox.c.claim_until < now),
                    )
                )
            )
            if rows:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.key.in_([r.key for r in rows]))
                    .values(state=EXPIRED)
                )
        return [_row(r) for r in rows]

    def prune_outbox(self, older_than: datetime) -> int:
        """Forget rows sent or given up before ``older_than`` (keys matter while a row is
        owed, and for the replies and updates that follow it: weeks, not forever)."""
        return self.db.write(
            outbox.delete().where(
                outbox.c.state.in_([SENT, EXPIRED]), outbox.c.created_at < older_than
            )
        )

    def owed_in(self, state: str = OWED) -> list[OwedRow]:
        """Every row in ``state``, oldest first (status, tests)."""
        q = sa.select(outbox).where(outbox.c.state == state).order_by(outbox.c.created_at)
        return [_row(r) for r in self.db.rows(q)]


def _record_posted(conn: sa.Connection, on_posted: str, channel: str, ts: str) -> None:
    """Where a message that others thread under or update lives, kept with its subject."""
    kind, _, subject = on_posted.partition(":")
    if kind == "certification":
        conn.execute(
            certifications.update()
            .where(certifications.c.id == subject, certifications.c.message_ts.is_(None))
            .values(channel=channel, message_ts=ts)
        )
    elif kind == "canary":
        conn.execute(
            canaries.update()
            .where(canaries.c.id == subject, canaries.c.message_ts.is_(None))
            .values(channel=channel, message_ts=ts)
        )
