"""Every table of skillbot's database: the one target Alembic compares with.

Migrations (``bot/adapters/migrations/versions``) create these; a test checks that the
migrated schema equals this metadata, so the two cannot drift.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(32), nullable=False, unique=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("alias", sa.String(128)),
    sa.Column("from_version", sa.String(40)),
    sa.Column("to_version", sa.String(40)),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("plan_id", sa.String(32)),
    # when the change's announcement was claimed for posting (the audit log is the outbox)
    sa.Column("announced_at", sa.DateTime(timezone=True)),
    sa.Index("ix_audit_skill_seq", "skill", "seq"),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

certifications = sa.Table(
    "certifications",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("alias", sa.String(128), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("code_sha256", sa.String(64), nullable=False),
    sa.Column("requested_by", sa.String(100), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ended_by", sa.String(100)),
    sa.Column("channel", sa.String(40)),
    sa.Column("message_ts", sa.String(40)),
    # who confirmed the plan that started it (four eyes: not its promoter either)
    sa.Column("confirmed_by", sa.String(100)),
    # the state the Slack message last showed: behind ``state``, its update is owed
    sa.Column("message_state", sa.String(20)),  # unused since 0010: the outbox keeps updates
    # set while a promotion is under way: a crash then leaves a trace for recovery
    sa.Column("promoting_at", sa.DateTime(timezone=True)),
    # at most one pending certification per skill, enforced by the database itself
    sa.Index(
        "ux_cert_one_pending",
        "skill",
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    sa.Index("ix_cert_message", "channel", "message_ts"),
)

# a skill locked by a person (/skill lock): one row while it is locked
skill_locks = sa.Table(
    "skill_locks",
    metadata,
    sa.Column("skill", sa.String(100), primary_key=True),
    sa.Column("locked_by", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
)

# approvers who said yes to a pending certification (approvals = N asks for N of them)
approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("certification_id", sa.String(32), primary_key=True),
    sa.Column("approver", sa.String(100), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# a promotion set for a time: one row per certification; ``state`` scheduled → running →
# done | refused | moot (the certification ended otherwise) | cancelled
scheduled_promotions = sa.Table(
    "scheduled_promotions",
    metadata,
    sa.Column("certification_id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("scheduled_by", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("override", sa.Boolean, nullable=False, default=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    # when a process claimed it to run (one that died is found by this)
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
    sa.Index("ix_scheduled_promotions_due", "state", "at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    # the message's idempotency key (also in its Slack metadata): one row, one message
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # post, update, ephemeral, home
    sa.Column("channel", sa.String(100), nullable=False, default=""),
    sa.Column("user", sa.String(100)),  # an ephemeral message's or a Home's reader
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("blocks", sa.Text),  # JSON
    # a file shared with the message (a chart): its name and bytes
    sa.Column("filename", sa.String(200)),
    sa.Column("content", sa.LargeBinary),
    # the message it answers in a thread, or updates: its key, or its ts when known
    sa.Column("parent", sa.String(200)),
    sa.Column("parent_ts", sa.String(40)),
    # what to record once Slack took it ("certification:ID", "canary:ID", "request:ID")
    sa.Column("on_posted", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # owed, sent, expired
    # bumped when an update or a Home is owed again (the newest replaces what is owed)
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    # the last attempt's answer was lost: look for the key before posting again
    sa.Column("unknown", sa.Boolean, nullable=False, default=False),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claim_until", sa.DateTime(timezone=True)),
    sa.Column("ts", sa.String(40)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Index("ix_outbox_due", "state", "due_at"),
)

health_reports = sa.Table(
    "health_reports",
    metadata,
    # "<audit id>:<delay seconds>": one report per change and delay
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("alias", sa.String(100), nullable=False),
    # the live alias before the change (another one after a promotion)
    sa.Column("before_alias", sa.String(100), nullable=False),
    sa.Column("from_version", sa.String(20)),
    sa.Column("to_version", sa.String(20), nullable=False),
    sa.Column("change_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delay_seconds", sa.Integer, nullable=False),
    # the outbox key of the message whose thread gets the chart
    sa.Column("thread", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # due, done
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claim_until", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.Text, nullable=False, default=""),
    sa.Index("ix_health_reports_due", "state", "due_at"),
)

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column(
        "certification_id", sa.String(32), sa.ForeignKey("certifications.id"), primary_key=True
    ),
    #: the schedule next_due_at was computed with (a changed skills file reschedules)
    sa.Column("schedule", sa.String(200), nullable=False),
    #: the slot this reminder is next due at (or a retry time after a failed post)
    sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
    #: bumped by every change: each conditional UPDATE checks the version it read
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    #: a claim (or a post in progress) holds the row until then
    sa.Column("claim_until", sa.DateTime(timezone=True)),
    #: when the latest claim is to be posted: the pacing of its channel
    sa.Column("send_at", sa.DateTime(timezone=True)),
    #: set just before calling Slack, cleared after: left set, the outcome is unknown
    sa.Column("posting_since", sa.DateTime(timezone=True)),
    sa.Column("last_sent_at", sa.DateTime(timezone=True)),
    sa.Column("sent_count", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Index("ix_reminders_next_due_at", "next_due_at"),
    sa.Index("ix_reminders_send_at", "send_at"),
)

alexa_reviews = sa.Table(
    "alexa_reviews",
    metadata,
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

canaries = sa.Table(
    "canaries",
    metadata,
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
    #: starting, running, ending (decided, the alias change follows), completed, aborted
    sa.Column("state", sa.String(20), nullable=False),
    #: bumped by every change: each conditional UPDATE checks the version it read
    sa.Column("version", sa.Integer, nullable=False),
    #: when the weights were set; the window runs from here
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("next_check_at", sa.DateTime(timezone=True)),
    #: a check (or the end) in progress holds the row until then
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claim_until", sa.DateTime(timezone=True)),
    #: "complete" or "abort", by whom and why, once decided
    sa.Column("decision", sa.String(20)),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("audit_id", sa.String(32)),
    sa.Column("channel", sa.String(40)),
    sa.Column("message_ts", sa.String(40)),
    #: the latest figures: invocations and errors of the old and the new version
    sa.Column("old_invocations", sa.Integer, nullable=False),
    sa.Column("old_errors", sa.Integer, nullable=False),
    sa.Column("new_invocations", sa.Integer, nullable=False),
    sa.Column("new_errors", sa.Integer, nullable=False),
    sa.Column("waiting", sa.Boolean, nullable=False),
    #: a skill in several regions: each function's versions and figures (JSON), else NULL
    sa.Column("regions", sa.Text),
    # at most one canary per skill that is not over, enforced by the database itself
    sa.Index(
        "ux_canary_one_active",
        "skill",
        unique=True,
        sqlite_where=sa.text("state IN ('starting', 'running', 'ending')"),
        postgresql_where=sa.text("state IN ('starting', 'running', 'ending')"),
    ),
    sa.Index("ix_canaries_state_check", "state", "next_check_at"),
)
