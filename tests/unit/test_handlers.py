"""Listener functions called directly with fake ack/respond, over the fake ports."""

from __future__ import annotations

import pytest

from bot.adapters.slack import kit
from handlers.actions import PlanButtons
from handlers.commands import SkillCommand
from handlers.events import ReactionPromotion
from tests.support.fakes import Recorder
from tests.support.users import APPROVER, OPERATOR, STRANGER
from tests.support.world import make_world, services_for


class Ctx:
    bot_user_id = "UBOT"


@pytest.fixture
def env():
    world = make_world()
    return world, services_for(world).cases, world.notifier


def run_command(services, text, user=OPERATOR):
    handler = SkillCommand(services)
    ack, respond = Recorder(), Recorder()
    command = {"text": text, "user_id": user, "channel_id": "C0TRIVIA"}
    handler.ack(ack, command)
    handler.run(command, respond)
    return ack, respond


def test_ack_is_immediate_and_the_work_replies_later(env):
    world, services, _ = env
    world.lam.calls.clear()
    handler = SkillCommand(services)
    ack = Recorder()
    handler.ack(ack, {"text": "hotfix trivia 2", "user_id": OPERATOR})
    assert "Working on `hotfix trivia`" in ack.last["text"]
    assert world.lam.calls == [], "the ack touches no AWS"


def test_plan_reply_replaces_the_working_message(env):
    _world, services, _ = env
    _, respond = run_command(services, "hotfix trivia 2 -- fix")
    reply = respond.last
    assert reply["replace_original"] is True and reply["response_type"] == "ephemeral"
    assert reply["text"] == "Plan: hotfix trivia: PROD1 v1 → v2"
    assert button_ids(reply["blocks"]) == [kit.CONFIRM, kit.CONFIRM_CANARY, kit.DISMISS]


def button_ids(message_blocks):
    return [
        e["action_id"] for b in message_blocks for e in b.get("elements", []) if "action_id" in e
    ]


def test_parse_errors_are_answered_in_the_ack(env):
    _, services, _ = env
    ack, respond = run_command(services, "hotfix trivia 2 3")
    assert ack.last["response_type"] == "ephemeral" and "not expected" in ack.last["text"]
    assert respond.calls == []


def test_confirm_applies_announces_and_replaces_the_plan(env):
    world, services, notifier = env
    _, respond = run_command(services, "rollback 2 -- slow")
    plan_id = respond.last["blocks"][1]["elements"][0]["value"]
    click, buttons = Recorder(), PlanButtons(services)
    buttons.confirm({"user": {"id": OPERATOR}, "actions": [{"value": plan_id}]}, click)
    assert [c["text"] for c in click.calls] == [
        "Done: trivia: rollback PROD1 v1 → v2 by <@U0ALICE> — slow"
    ], "a quick change shows no progress message, only its result"
    assert world.alias("PROD1") == "2"
    [announcement] = notifier.top_level("C0TRIVIA")
    assert announcement.text == "trivia: rollback PROD1 v1 → v2 by <@U0ALICE> — slow"


def test_second_confirm_says_nothing_and_does_nothing(env):
    _world, services, notifier = env
    _, respond = run_command(services, "rollback 2")
    plan_id = respond.last["blocks"][1]["elements"][0]["value"]
    buttons = PlanButtons(services)
    body = {"user": {"id": OPERATOR}, "actions": [{"value": plan_id}]}
    first, second = Recorder(), Recorder()
    buttons.confirm(body, first)
    buttons.confirm(body, second)
    assert second.calls == []
    assert len(notifier.top_level()) == 1


def test_non_approver_reaction_is_told_once_and_changes_nothing(env):
    world, services, notifier = env
    world.lam.deploy("trivia-skill", "code-3")
    plan = world.cases.planning.plan("certify", "trivia", actor=OPERATOR)
    world.services.runtime.announcer.change_applied(
        world.cases.applying.apply(plan.id, actor=OPERATOR)
    )
    [message] = notifier.top_level()
    reactions = ReactionPromotion(services)

    def react(user, event_id):
        event = {
            "user": user,
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": "C0TRIVIA", "ts": message.ts},
        }
        reactions.added({"event_id": event_id}, event, Ctx())

    react(STRANGER, "Ev1")
    react(STRANGER, "Ev2")
    # told once, privately: no public reply per person in the thread
    assert [(p.ts, p.text) for p in notifier.ephemeral] == [
        (
            STRANGER,
            "<@U0MALLORY>, only <@U0CAROL> may promote with :white_check_mark:; "
            "your reaction changed nothing.",
        )
    ]
    assert notifier.thread(message.ts) == []
    assert world.lam.read_live_alias("trivia-skill") is None
    react(APPROVER, "Ev3")
    assert world.lam.read_live_alias("trivia-skill") == "PROD2"
    assert notifier.updated[-1].ts == message.ts


def test_slow_work_shows_progress_first_and_the_result_replaces_it():
    from handlers.actions import DelayedProgress

    world = make_world()
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    respond = Recorder()
    progress = DelayedProgress(respond, delay=0.0)
    progress.start(plan)
    progress._timer.join(5)  # the work takes longer than the delay
    progress.finish()
    respond(text="Done", replace_original=True)
    assert [c["text"] for c in respond.calls] == [
        ":hourglass_flowing_sand: Applying: rollback trivia: PROD1 v1 → v2…",
        "Done",
    ]


def test_quick_work_shows_no_progress():
    from handlers.actions import DelayedProgress

    world = make_world()
    plan = world.cases.planning.plan("rollback", "trivia", actor=OPERATOR, version="2")
    respond = Recorder()
    progress = DelayedProgress(respond, delay=0.2)
    progress.start(plan)
    progress.finish()  # done before the delay
    progress._timer.join(5)
    assert respond.calls == []
