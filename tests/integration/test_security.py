"""Signatures and the replay window on every kind of request; authorization on every
path that changes something (commands, buttons, reactions)."""

from __future__ import annotations

import time

import pytest
from slack_bolt.request import BoltRequest

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    reaction_added_event,
    sign,
    slash_command_body,
)
from bot.domain.model import Outcome
from tests.support.aws import alias_version
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import SECRET
from tests.support.users import APPROVER, OPERATOR, STRANGER

FN = "trivia-skill"


def state(world):
    client = world.lambda_client
    arn = client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    return (
        alias_version(client, FN, "PROD1"),
        alias_version(client, FN, "PROD2"),
        client.list_tags(Resource=arn)["Tags"].get("skillbot:live-alias"),
        [c.id for c in world.services.runtime.store.pending_certifications()],
    )


def bodies(world):
    url = world.fake.response_url()
    return {
        "command": slash_command_body("rollback 2", response_url=url),
        "button": block_action_body(kit.CONFIRM, "plan-id", response_url=url),
        "event": event_body(reaction_added_event(APPROVER, "white_check_mark", CHANNEL, "1.1")),
    }


@pytest.mark.parametrize("kind", ["command", "button", "event"])
@pytest.mark.parametrize("problem", ["unsigned", "wrong secret", "six minutes old", "tampered"])
def test_bad_signatures_get_401_and_change_nothing(world, kind, problem):
    body = bodies(world)[kind]
    before = state(world)
    headers = {
        "unsigned": {"Content-Type": sign(body, SECRET)["Content-Type"]},
        "wrong secret": sign(body, "another-secret"),
        "six minutes old": sign(body, SECRET, timestamp=int(time.time()) - 360),
        "tampered": sign(body, SECRET),
    }[problem]
    sent = body + ("&x=1" if problem == "tampered" and kind != "event" else "")
    if problem == "tampered" and kind == "event":
        sent = body.replace(APPROVER, "U0EVE")
    response = world.app.dispatch(BoltRequest(body=sent, headers=headers))
    assert response.status == 401
    assert state(world) == before
    assert world.fake.responses() == [] and world.fake.messages() == []


def test_a_correct_signature_within_the_window_is_accepted(world):
    body = bodies(world)["command"]
    headers = sign(body, SECRET, timestamp=int(time.time()) - 240)
    assert world.app.dispatch(BoltRequest(body=body, headers=headers)).status == 200


def refused(world, needle="Only"):
    return world.final_response(lambda r: needle in r["text"])


@pytest.mark.parametrize("text", ["hotfix 2", "certify", "rollback 2", "cancel", "promote"])
def test_strangers_commands_are_refused_and_audited(world, text):
    before = state(world)
    world.command(text, user=STRANGER)
    reply = refused(world)
    assert reply["response_type"] == "ephemeral"
    assert "<@U0ALICE>" in reply["text"] or "<@U0CAROL>" in reply["text"]
    assert state(world) == before
    audit = world.services.runtime.store.audit("trivia", 1)[0]
    assert (audit.actor, audit.outcome) == (STRANGER, Outcome.REFUSED)


@pytest.mark.parametrize("action", [kit.CONFIRM, kit.DISMISS, kit.FIX_ALL])
def test_strangers_buttons_are_refused(world, action):
    world.command("doctor" if action == kit.FIX_ALL else "rollback 2")
    message = world.final_response(lambda r: r.get("blocks"))
    before = state(world)
    world.click(action, button_value(message, action), user=STRANGER)
    reply = refused(world)
    assert "Only operators" in reply["text"]
    assert state(world) == before
    if action == kit.FIX_ALL:
        with pytest.raises(world.lambda_client.exceptions.ResourceNotFoundException):
            world.lambda_client.get_policy(FunctionName=FN, Qualifier="PROD1")
    else:
        # the plan is still there for its owner
        world.click(action, button_value(message, action), user=OPERATOR)
        world.final_response(lambda r: "Done" in r["text"] or "Cancelled" in r["text"])


def test_a_strangers_reaction_promotes_nothing_and_is_audited(world):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    world.command("certify")
    plan = world.final_response(lambda r: r.get("blocks"))
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    world.final_response(lambda r: r["text"].startswith("Done"))
    [message] = world.fake.messages(CHANNEL)
    before = state(world)
    world.react(OPERATOR, message["ts"])  # an operator is not an approver
    world.fake.wait_for(lambda f: f.ephemerals(OPERATOR))  # told privately who may
    assert state(world) == before
    audit = world.services.runtime.store.audit("trivia", 1)[0]
    assert (audit.operation, audit.actor, audit.outcome) == ("promote", OPERATOR, Outcome.REFUSED)
