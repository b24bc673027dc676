"""Property-based: any /skill text is answered; no interleaving of two operations loses
an update."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import SkillbotError
from bot.domain.model import Outcome
from handlers.commands import SkillCommand
from tests.support.fakes import FakeNotifier, Recorder
from tests.support.users import OPERATOR
from tests.support.world import make_world, services_for

WORDS = [
    "help",
    "status",
    "hotfix",
    "certify",
    "promote",
    "rollback",
    "cancel",
    "history",
    "doctor",
    "trivia",
    "TRIVIA",
    "quiz",
    "v2",
    "2",
    "99",
    "$LATEST",
    "--",
    "—",
    "–",
    "“why”",
    "'x'",
    "-- because",
    "\u00a0",
    "v",
    "-1",
    "1e3",
    "\n",
    "0",
]

texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, user=st.sampled_from([OPERATOR, "U0CAROL", "U0MALLORY"]))
def test_any_text_gets_one_clear_reply(text, user):
    world = make_world()
    command = SkillCommand(services_for(world, FakeNotifier()).cases)
    ack, respond = Recorder(), Recorder()
    body = {"text": text, "user_id": user}
    command.ack(ack, body)
    command.run(body, respond)
    assert len(ack.calls) == 1 and ack.calls[0]["text"]
    replies = [*ack.calls, *respond.calls]
    assert all("Something went wrong" not in (r["text"] or "") for r in replies), replies
    if ack.calls[0]["text"].startswith(":hourglass"):
        assert len(respond.calls) == 1 and respond.calls[0]["text"]


OPS = ["hotfix-latest", "hotfix-v2", "rollback-v1", "certify"]


def plan(world, op, actor):
    svc = world.cases.planning
    if op == "hotfix-latest":
        return svc.plan("hotfix", "trivia", actor=actor)
    if op == "hotfix-v2":
        return svc.plan("hotfix", "trivia", actor=actor, version="2")
    if op == "rollback-v1":
        return svc.plan("rollback", "trivia", actor=actor, version="1")
    return svc.plan("certify", "trivia", actor=actor)


orders = [
    order
    for order in itertools.permutations(["plan-a", "plan-b", "apply-a", "apply-b"])
    if order.index("plan-a") < order.index("apply-a")
    and order.index("plan-b") < order.index("apply-b")
]


@settings(max_examples=200, deadline=None)
@given(
    op_a=st.sampled_from(OPS),
    op_b=st.sampled_from(OPS),
    order=st.sampled_from(orders),
    deploy_between=st.booleans(),
)
def test_no_interleaving_of_two_operations_loses_an_update(op_a, op_b, order, deploy_between):
    world = make_world()
    world.lam.deploy("trivia-skill", "code-3")
    plans, results = {}, {}
    for step in order:
        kind, who = step.split("-")
        op = op_a if who == "a" else op_b
        try:
            if kind == "plan":
                plans[who] = plan(world, op, OPERATOR if who == "a" else "U0BOB")
                if deploy_between:
                    world.lam.deploy("trivia-skill", f"code-{len(plans) + 3}")
            elif who in plans:
                results[who] = world.cases.applying.apply(plans[who].id, actor=OPERATOR)
        except SkillbotError as err:
            results[who] = err
    # every applied move started from where the alias really was: a chain, no lost update
    for alias in ("PROD1", "PROD2"):
        moves = [
            e
            for e in reversed(world.store.audit("trivia", 100))
            if e.outcome is Outcome.APPLIED
            and e.alias == alias
            and e.operation in ("hotfix", "certify", "rollback")
        ]
        position = {"PROD1": "1", "PROD2": "2"}[alias]
        for move in moves:
            assert move.from_version == position, (order, moves)
            position = move.to_version
        assert world.alias(alias) == position
    # whatever was refused changed nothing: AWS holds exactly the applied moves
    assert len(world.store.pending_certifications()) <= 1
