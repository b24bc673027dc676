"""Chaos: two replicas of the real bot (``python -m bot``, HTTP mode) on one PostgreSQL
database, moto_server behind a :class:`FreezingProxy` and the fake Slack, driven by a
seeded random sequence of operations sent to either replica (hotfix, certify, cancel,
promote by reaction, rollback, canary and Abort, double Confirms) while Slack refuses
posts and updates (``not_in_channel``, 503, 429), loses answers, AWS answers slowly, and
a replica is killed with ``kill -9`` (also between "AWS changed" and "the bot knew") and
started again.

Once every fault is healed and the bot owes nothing more, what Slack shows must match
the audit log and AWS (SPEC §3, §4): every applied change is announced exactly once
under its idempotency key, each certification has exactly one message, no key is on two
messages, and the aliases in AWS are what the record and the last announcement say.
Every invariant is judged, and the failure lists those that broke with their evidence,
the seed and the trace of what was done (a replay with the seed takes the same choices
as long as the bot's timing gives the same states)::

    SKILLBOT_CHAOS_SEED=7 SKILLBOT_CHAOS_STEPS=36 .venv/bin/python -m pytest \
        tests/e2e/test_chaos.py -n 0
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.adapters.slack import kit
from bot.adapters.store import open_store
from bot.adapters.store.schema import audit_events, canaries, certifications, outbox, plans
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    reaction_added_event,
    retry_headers,
    sign,
)
from tests.support import aws as aws_state
from tests.support.aws_proxy import FreezingProxy
from tests.support.db import postgres_schema_url
from tests.support.e2e import Bot
from tests.support.messages import button_value
from tests.support.process import SERVING_HTTP, BotProcess, bot_env, wait_until
from tests.support.skills import CHANNEL, skills_config, write_skills_file
from tests.support.slack_world import SECRET
from tests.support.users import APPROVER, OPERATOR, SECOND_OPERATOR

pytestmark = pytest.mark.postgres

SEED = int(os.environ.get("SKILLBOT_CHAOS_SEED", "20261208"))
STEPS = int(os.environ.get("SKILLBOT_CHAOS_STEPS", "36"))
FN = "trivia-skill"
#: once healed, how long the bot may take to deliver what it owes: a post refused by a
#: replica that died since is posted by the other after the outbox's 30 s grace
DRAIN = 45.0
#: what an operation waits for its outcome in the database
SETTLE = 15.0
ENDED = ("completed", "aborted")
#: an announcement's fallback text: the alias that is (or becomes) live and its version
LIVE_IN_TEXT = re.compile(r"(PROD\d) v\d+ → (?:(PROD\d) )?v(\d+)")


@dataclass
class Replica:
    name: str
    env: dict[str, str]
    tmp: Path
    fake: FakeSlack
    bot: Bot | None = None

    @property
    def alive(self) -> bool:
        return self.bot is not None and self.bot.process.alive()

    def start(self) -> Replica:
        log = self.tmp / f"{self.name}.log"
        process = BotProcess(self.env, cwd=self.tmp, log=log, name=self.name).start()
        self.bot = Bot(f"http://127.0.0.1:{self.env['PORT']}", self.fake, process)
        return self

    def ready(self) -> Replica:
        assert self.bot is not None
        self.bot.process.wait_for_log(SERVING_HTTP, 40)
        return self

    @property
    def b(self) -> Bot:
        assert self.bot is not None
        return self.bot


@dataclass
class Chaos:
    """The random driver: operations and faults, and a trace of what it did."""

    rng: random.Random
    replicas: list[Replica]
    fake: FakeSlack
    proxy: FreezingProxy
    client: Any
    db: sa.Engine
    trace: list[str] = field(default_factory=list)
    #: the steps whose answer never came (a command, a click, a start)
    stuck: list[str] = field(default_factory=list)
    code: int = 2  # $LATEST holds ``VERSION = code``
    t0: float = field(default_factory=time.monotonic)

    # -- reading -----------------------------------------------------------------------
    def note(self, line: str) -> None:
        self.trace.append(f"{time.monotonic() - self.t0:5.1f}s {line}")

    def said(self, reply: dict) -> str:
        return " ".join(str(reply.get("text", "")).split())[:120]

    def rows(self, query: Any) -> list[Any]:
        with self.db.connect() as conn:
            return list(conn.execute(query).mappings())

    def pending(self) -> Any:
        found = self.rows(sa.select(certifications).where(certifications.c.state == "pending"))
        return found[0] if found else None

    def active_canaries(self) -> list[Any]:
        return self.rows(sa.select(canaries).where(canaries.c.state.not_in(ENDED)))

    def last_seq(self) -> int:
        found = self.rows(sa.select(sa.func.max(audit_events.c.seq).label("seq")))
        return int(found[0]["seq"] or 0)

    def alive(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive]

    def dead(self) -> list[Replica]:
        return [r for r in self.replicas if not r.alive]

    def pick(self) -> Replica:
        return self.rng.choice(self.alive())

    def answer(self, *urls: str, timeout: float = 20.0) -> dict:
        """The final answer posted to one of ``urls`` (not the progress message). A plan
        confirmed again is ignored without an answer: the first click's is awaited."""

        def final(f: FakeSlack) -> dict | None:
            found = [
                r
                for r in f.responses()
                if r["_url"] in urls and ":hourglass" not in r.get("text", "")
            ]
            return found[-1] if found else None

        return self.fake.wait_for(final, timeout)

    # -- operations --------------------------------------------------------------------
    def new_code(self) -> None:
        self.code += 1
        deploy(self.client, FN, f"VERSION = {self.code}\n")

    def plan(self, via: Replica, text: str, user: str = OPERATOR) -> str | None:
        """The Confirm value of the plan ``text`` asks for; None when it is refused."""
        reply = via.b.command(text, user=user)
        try:
            return button_value(reply, kit.CONFIRM)
        except AssertionError:
            self.note(f"  {via.name}: {text!r} gives no plan: {self.said(reply)}")
            return None

    def confirm(self, via: Replica, value: str) -> None:
        user = self.rng.choice([OPERATOR, SECOND_OPERATOR])
        reply = via.b.click(kit.CONFIRM, value, user=user)
        self.note(f"  {via.name} confirm: {self.said(reply)}")

    def plan_and_confirm(self, text: str, *, new_code: bool = False) -> str | None:
        if new_code:
            self.new_code()
        via = self.pick()
        value = self.plan(via, text)
        if value is not None:
            self.confirm(self.pick(), value)  # either replica: the plan is in the database
        return value

    def hotfix(self) -> None:
        self.note("hotfix")
        self.plan_and_confirm(f"hotfix -- chaos fix {self.code + 1}", new_code=True)

    def certify(self) -> None:
        self.note("certify")
        self.plan_and_confirm(f"certify -- chaos model {self.code + 1}", new_code=True)

    def cancel(self) -> None:
        self.note("cancel")
        self.plan_and_confirm("cancel -- chaos: not this one")

    def rollback(self) -> None:
        self.note("rollback")
        self.plan_and_confirm("rollback -- chaos: back")

    def promote(self) -> None:
        """The approver's reaction on the certification message (sometimes delivered again
        by Slack to the other replica); ``/skill promote`` while it is not posted."""
        cert = self.pending()
        assert cert is not None
        since = self.last_seq()
        if cert["message_ts"] is None:
            self.note("promote by command (no certification message yet)")
            via = self.pick()
            reply = via.b.command("promote", user=APPROVER)
            self.note(f"  {via.name}: {self.said(reply)}")
        else:
            body = event_body(
                reaction_added_event(APPROVER, "white_check_mark", CHANNEL, cert["message_ts"])
            )
            first = self.pick()
            first.b.send(body)
            again = [r for r in self.alive() if r is not first and self.rng.random() < 0.5]
            for other in again:  # Slack's retry of the same event_id, to the other replica
                other.b.send(body, {**sign(body, SECRET), **retry_headers()})
            self.note(f"promote by reaction via {first.name}" + (" and its retry" * bool(again)))
        self.settle_promotion(cert["id"], since)

    def settle_promotion(self, cert_id: str, since: int) -> None:
        def settled() -> bool:
            state = self.rows(
                sa.select(certifications.c.state).where(certifications.c.id == cert_id)
            )
            tried = self.rows(
                sa.select(audit_events.c.outcome).where(
                    audit_events.c.seq > since, audit_events.c.operation == "promote"
                )
            )
            return state[0]["state"] != "pending" or bool(tried)

        try:
            wait_until(settled, SETTLE, interval=0.1)
        except AssertionError:
            self.note("  the promotion did not settle")

    def canary(self) -> None:
        """A 10 % canary, then its Abort button (from the canary's id in the database)."""
        self.note("canary")
        plan_id = self.plan_and_confirm(
            f"hotfix --canary 10% --for 10m -- chaos canary {self.code + 1}", new_code=True
        )
        if plan_id is None:
            return
        started = self.rows(sa.select(canaries).where(canaries.c.plan_id == plan_id))
        if not started:
            self.note("  no canary recorded")
            return
        self.abort(started[0]["id"])

    def abort(self, canary_id: str) -> None:
        via = self.pick()
        reply = via.b.click(kit.CANARY_ABORT, canary_id)
        self.note(f"  {via.name} abort: {self.said(reply)}")

        def ended() -> bool:
            row = self.rows(sa.select(canaries.c.state).where(canaries.c.id == canary_id))
            return row[0]["state"] in ENDED

        try:
            wait_until(ended, SETTLE, interval=0.1)
        except AssertionError:
            self.note("  the canary did not end")

    def double_confirm(self) -> None:
        """One plan confirmed on both replicas at once (a double click, two replicas)."""
        self.note("double confirm of a hotfix")
        self.new_code()
        value = self.plan(self.pick(), f"hotfix -- chaos double {self.code}")
        if value is None:
            return
        urls = {r.name: self.fake.response_url() for r in self.alive()}

        def click(replica: Replica) -> None:
            body = block_action_body(
                kit.CONFIRM, value, user_id=OPERATOR, response_url=urls[replica.name]
            )
            replica.b.send(body)

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(click, self.alive()))
        said = self.answer(*urls.values())  # the other click is ignored, unanswered
        first = next(name for name, url in urls.items() if url == said["_url"])
        self.note(f"  {first} confirm: {self.said(said)}")

    def frozen_confirm(self, value: str, victim: Replica, *, kill: bool) -> bool:
        """Confirm on ``victim`` with AWS holding the answer of its alias change; then kill
        it (kill -9 between "AWS changed" and "the bot knew"), or let another replica
        click the same plan meanwhile, then let AWS answer. False if AWS was never called."""
        self.proxy.freeze("PUT", "/aliases/")
        url = self.fake.response_url()
        victim.b.send(block_action_body(kit.CONFIRM, value, user_id=OPERATOR, response_url=url))
        reached = self.proxy.reached.wait(6)
        others = [r for r in self.alive() if r is not victim]
        if kill:
            victim.b.process.kill()
        elif reached and others:
            body = block_action_body(
                kit.CONFIRM, value, user_id=SECOND_OPERATOR, response_url=self.fake.response_url()
            )
            others[0].b.send(body)  # acknowledged: its work waits for the skill's lock
        self.proxy.disarm()
        if not kill:  # the other replica's click is ignored: it has no answer
            self.note(f"  {victim.name} confirm: {self.said(self.answer(url))}")
        return reached

    def kill(self) -> None:
        """kill -9 a replica: idle, or in the middle of a Confirm or a promotion."""
        victim = self.pick()
        how = self.rng.choice(["idle", "confirm", "confirm", "promotion"])
        cert = self.pending()
        if how == "promotion" and cert is not None and cert["message_ts"]:
            self.note(f"kill -9 {victim.name} once the promotion's tag is written")
            self.proxy.freeze("POST", "/tags/")
            body = event_body(
                reaction_added_event(APPROVER, "white_check_mark", CHANNEL, cert["message_ts"])
            )
            victim.b.send(body)
            reached = self.proxy.reached.wait(6)
            victim.b.process.kill()
            self.proxy.disarm()
            self.note(f"  {victim.name} killed ({'after' if reached else 'before'} the tag)")
            return
        if how != "idle":
            text = "certify" if cert is None and self.rng.random() < 0.5 else "hotfix"
            self.note(f"kill -9 {victim.name} once AWS moved the alias of a {text}")
            self.new_code()
            value = self.plan(self.pick(), f"{text} -- chaos crash {self.code}")
            if value is not None:
                reached = self.frozen_confirm(value, victim, kill=True)
                self.note(f"  {victim.name} killed ({'after' if reached else 'before'} AWS)")
                return
        self.note(f"kill -9 {victim.name} (idle)")
        victim.b.process.kill()

    def slow_aws(self) -> None:
        self.note("AWS holds a hotfix's alias change; the other replica confirms it too")
        self.new_code()
        value = self.plan(self.pick(), f"hotfix -- chaos slow {self.code}")
        if value is not None:
            self.frozen_confirm(value, self.pick(), kill=False)

    def restart(self) -> None:
        for replica in self.dead():
            self.note(f"restart {replica.name}")
            replica.start().ready()

    # -- Slack's faults ----------------------------------------------------------------
    def slack_fault(self) -> None:
        f = self.fake
        kind = self.rng.choice(
            ["refused", "503", "429", "lost", "lost-unknown", "update-refused", "update-lost"]
        )
        times = self.rng.randint(1, 2)
        self.note(f"slack fault: {kind} x{times}")
        if kind == "refused":
            error = self.rng.choice(["not_in_channel", "channel_not_found"])
            f.fail_next("chat.postMessage", status=200, error=error, times=times)
        elif kind == "503":
            f.fail_next("chat.postMessage", status=503, error="service_unavailable", times=times)
        elif kind == "429":
            f.fail_next("chat.postMessage", status=429, retry_after=self.rng.randint(1, 3))
        elif kind == "lost":
            f.fail_next("chat.postMessage", lose_answer=True, times=times)
        elif kind == "lost-unknown":  # nor can the history tell whether it was made
            f.fail_next("chat.postMessage", lose_answer=True)
            f.fail_next("conversations.history", status=503, error="service_unavailable")
        elif kind == "update-refused":
            f.fail_next("chat.update", status=200, error="not_in_channel", times=times)
        else:
            f.fail_next("chat.update", lose_answer=True)

    # -- the sequence ------------------------------------------------------------------
    def step(self) -> None:
        if self.rng.random() < 0.4:
            self.slack_fault()
        pending = self.pending() is not None
        both = len(self.alive()) == len(self.replicas)
        choices: list[tuple[float, Callable[[], None]]] = [
            (3.0, self.hotfix),
            (2.0 if not pending else 0.0, self.certify),
            (2.5 if pending else 0.0, self.promote),
            (1.0 if pending else 0.0, self.cancel),
            (1.5, self.rollback),
            (1.0, self.canary),
            (1.0 if both else 0.0, self.double_confirm),
            (1.0 if both else 0.0, self.slow_aws),
            (1.2 if both else 0.0, self.kill),
            (0.0 if both else 6.0, self.restart),  # down for one or two operations
        ]
        weights, ops = zip(*choices, strict=True)
        self.rng.choices(ops, weights)[0]()

    def heal(self) -> None:
        """Every fault taken back, both replicas running, no canary left running."""
        self.fake.heal()
        self.proxy.disarm()
        self.restart()
        for canary in self.active_canaries():
            if canary["state"] == "running":
                self.note(f"heal: abort canary {canary['id'][:8]}")
                self.abort(canary["id"])

    # -- what the bot still owes ---------------------------------------------------------
    def owed(self) -> list[str]:
        """What the bot still has to do or deliver, by the database. A message the channel
        shows under its key is delivered, even when the bot never learnt its ts (a lost
        answer it could not look up): the invariants judge that."""
        posted = {post_key(m) for m in self.fake.messages(CHANNEL)}
        owed = [
            f"outbox {r['kind']} {r['key']}"
            for r in self.rows(sa.select(outbox).where(outbox.c.state == "owed"))
            if r["kind"] in ("post", "update")
        ]
        for cert in self.rows(sa.select(certifications)):
            label = f"certification {cert['id'][:8]} ({cert['state']})"
            if cert["message_ts"] is None and f"certification:{cert['id']}" not in posted:
                owed.append(f"{label}: its message")
        for canary in self.rows(sa.select(canaries)):
            label = f"canary {canary['id'][:8]} ({canary['state']})"
            if canary["state"] not in ENDED:
                owed.append(f"{label}: its end")
            if canary["message_ts"] is None and f"canary:{canary['id']}" not in posted:
                owed.append(f"{label}: its message")
        owed += [
            f"plan {r['id'][:8]} {r['status']}"
            for r in self.rows(sa.select(plans).where(plans.c.status == "applying"))
        ]
        return owed


def post_key(message: dict) -> str | None:
    metadata = message.get("metadata") or {}
    return (metadata.get("event_payload") or {}).get("key")


@dataclass
class Verdict:
    held: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.broken.append(f"BROKEN {name}:\n    " + "\n    ".join(problems))
        else:
            self.held.append(f"held   {name}")


def judge(chaos: Chaos) -> Verdict:
    """The invariants, each with the evidence of what breaks it."""
    v = Verdict()
    top = chaos.fake.messages(CHANNEL)
    keyed: dict[str, list[dict]] = defaultdict(list)
    for message in top:
        keyed[post_key(message) or ""].append(message)
    unkeyed = keyed.pop("", [])
    applied = chaos.rows(
        sa.select(audit_events)
        .where(audit_events.c.outcome == "applied")
        .order_by(audit_events.c.seq)
    )
    certs = chaos.rows(sa.select(certifications).order_by(certifications.c.created_at))
    ran = chaos.rows(sa.select(canaries).order_by(canaries.c.created_at))

    announced_ops = ("hotfix", "rollback", "promote")
    problems = []
    for e in (e for e in applied if e["operation"] in announced_ops):
        by_key = keyed.get(f"announce:{e['id']}", [])
        by_text = [m for m in unkeyed if m["text"] == e["detail"]]
        if len(by_key) + len(by_text) == 0:
            problems.append(f"never announced: {e['detail']} (audit {e['id']})")
        elif len(by_key) + len(by_text) > 1:
            problems.append(f"announced {len(by_key) + len(by_text)} times: {e['detail']}")
        elif by_text:
            problems.append(f"announced once but without its key announce:{e['id']}: {e['detail']}")
    v.check("every applied hotfix/rollback/promotion is announced once, with its key", problems)

    problems = [
        f"{key} on {len(ms)} messages: {[m['text'][:60] for m in ms]}"
        for key, ms in keyed.items()
        if len(ms) > 1
    ]
    texts: dict[str, int] = defaultdict(int)
    for message in top:
        texts[message["text"]] += 1
    problems += [f"{n} top-level messages say {t!r}" for t, n in texts.items() if n > 1]
    v.check("no key (nor text) is on two top-level messages", problems)

    problems, unknown = [], []
    for cert in certs:
        found = keyed.get(f"certification:{cert['id']}", [])
        label = f"certification {cert['id'][:8]} (v{cert['version']}, {cert['state']})"
        if len(found) != 1:
            problems.append(f"{label} has {len(found)} top-level messages")
        elif found[0]["ts"] != cert["message_ts"]:
            unknown.append(f"{label} records ts {cert['message_ts']}; posted {found[0]['ts']}")
    certify_events = [e for e in applied if e["operation"] == "certify"]
    if len(certify_events) != len(certs):
        problems.append(
            f"{len(certify_events)} applied certify events, {len(certs)} certifications"
        )
    v.check("every certification has exactly one top-level message (its key)", problems)

    problems = []
    for canary in ran:
        label = f"canary {canary['id'][:8]} ({canary['state']})"
        found = keyed.get(f"canary:{canary['id']}", [])
        if len(found) != 1:
            problems.append(f"{label}: {len(found)} messages")
        elif found[0]["ts"] != canary["message_ts"]:
            unknown.append(f"{label} records ts {canary['message_ts']}; posted {found[0]['ts']}")
        ends = len(keyed.get(f"canary-end:{canary['id']}", []))
        if ends != (1 if canary["state"] in ENDED else 0):
            problems.append(f"{label}: {ends} end announcements")
    v.check("every canary has one message and one end announcement (their keys)", problems)
    # a message whose ts the bot does not know is never updated, and a certification's
    # cannot be reacted to nor replied under
    v.check("the bot knows each certification and canary message it posted (its ts)", unknown)

    # the record replayed: each alias's version and which one is live
    versions, live = {"PROD1": "1", "PROD2": "2"}, "PROD1"
    moved: dict[str, int] = {}  # the seq of each alias's last recorded move
    problems = []
    last_live_change = None
    for e in applied:
        op, alias = e["operation"], e["alias"]
        if op in ("hotfix", "rollback", "certify", "canary-complete"):
            if versions.get(alias) != e["from_version"]:
                failed = [
                    f"{f['operation']} {f['outcome']}: {f['detail'][:120]}"
                    for f in chaos.rows(
                        sa.select(audit_events).where(
                            audit_events.c.seq > moved.get(alias, 0),
                            audit_events.c.outcome == "failed",
                        )
                    )
                ]
                problems.append(
                    f"{e['detail']}: the record had {alias} on v{versions.get(alias)}, so a "
                    f"move between was never recorded nor announced; failures since: {failed}"
                )
            versions[alias], moved[alias] = e["to_version"], e["seq"]
        if op == "promote":
            live = alias
        if op in ("hotfix", "rollback", "promote", "canary-complete"):
            last_live_change = e
    v.check("the record's moves of each alias follow on from each other", problems)

    in_aws = dict(zip(("PROD1", "PROD2"), aws_state.aliases(chaos.client), strict=True))
    tag = aws_state.live_tag(chaos.client) or "PROD1"
    weights = aws_state.routing(chaos.client, FN, tag)[1]
    problems = []
    if in_aws != versions or tag != live or weights:
        problems.append(
            f"AWS has {in_aws}, live {tag}, weights {weights}; "
            f"the record says {versions}, live {live}"
        )
    if last_live_change is not None:
        said = [
            m["text"]
            for m in top
            if post_key(m) == f"announce:{last_live_change['id']}"
            or m["text"] == last_live_change["detail"]
        ]
        match = LIVE_IN_TEXT.search(said[0]) if said else None
        if match is None:
            problems.append(f"the last change {last_live_change['detail']!r} is not announced")
        else:
            alias, version = match.group(2) or match.group(1), match.group(3)
            if (alias, version) != (tag, in_aws[tag]):
                problems.append(f"the last announcement says {alias} v{version}: {said[0]}")
    v.check("AWS's live alias is where the record and its last announcement say", problems)

    # not an invariant of the SPEC, but worth knowing: announcements out of the order
    order = {f"announce:{e['id']}": i for i, e in enumerate(applied)}
    order.update({e["detail"]: i for i, e in enumerate(applied)})
    seen = [order[k] for m in top if (k := post_key(m) or m["text"]) in order]
    late = sum(1 for a, b in itertools.pairwise(seen) if b < a)
    v.held.append(f"note   {late} announcement(s) posted after a later change's")
    return v


@pytest.fixture
def chaos(moto_endpoint: str, tmp_path: Path) -> Iterator[Chaos]:
    client = create_skill_function(FN, moto_endpoint)
    config = write_skills_file(tmp_path / "skillbot.toml", skills_config())
    with (
        postgres_schema_url() as url,
        FreezingProxy(moto_endpoint) as proxy,
        FakeSlack() as fake,
    ):
        open_store(url).close()  # migrated once here; the replicas find it done
        replicas = [
            Replica(
                name,
                bot_env(
                    tmp_path,
                    fake.api_url,
                    proxy.url,
                    port=free_port(),
                    config=config,
                    database_url=url,
                    token=f"xoxb-{name}",
                ),
                tmp_path,
                fake,
            )
            for name in ("replica-a", "replica-b")
        ]
        for replica in replicas:
            replica.start()
        engine = sa.create_engine(url)
        try:
            for replica in replicas:
                replica.ready()
            yield Chaos(random.Random(SEED), replicas, fake, proxy, client, engine)
        finally:
            engine.dispose()
            for replica in replicas:
                if replica.bot is not None:
                    replica.bot.process.kill()


def test_what_slack_shows_matches_the_audit_log_and_aws_after_chaos(chaos: Chaos) -> None:
    for _ in range(STEPS):
        try:
            chaos.step()
        except AssertionError as err:  # an answer that never came: judged below
            chaos.stuck.append(f"{chaos.trace[-1].strip()}: {str(err).splitlines()[0]}")
            chaos.note(f"  no answer: {str(err).splitlines()[0]}")
    chaos.note("heal")
    chaos.heal()
    try:
        wait_until(lambda: not chaos.owed(), DRAIN, interval=0.2)
        owed: list[str] = []
    except AssertionError:
        owed = chaos.owed()
    chaos.note(f"drained: {owed or 'nothing owed'}")
    verdict = judge(chaos)
    verdict.check("every command, click and start was answered in time", chaos.stuck)
    verdict.check("once healed, the bot owes nothing (within the deadline)", owed)
    report = "\n".join(
        [
            f"chaos seed {SEED} ({STEPS} steps; SKILLBOT_CHAOS_SEED={SEED} to replay), "
            f"{time.monotonic() - chaos.t0:.1f} s; logs in {chaos.replicas[0].tmp}",
            *verdict.held,
            *verdict.broken,
            "trace:",
            *chaos.trace,
        ]
    )
    print(report)
    assert not verdict.broken, report
