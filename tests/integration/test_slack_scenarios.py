"""Signed requests into the real Bolt app, against moto and the fake Slack Web API."""

from __future__ import annotations

from bot.adapters.slack import kit
from bot.devkit.aws import deploy
from bot.devkit.slack_requests import retry_headers
from bot.domain.model import CertificationState
from tests.support import aws as aws_state
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import ack_body
from tests.support.users import APPROVER, OPERATOR, STRANGER

FN = "trivia-skill"


def aliases(world):
    return aws_state.aliases(world.lambda_client)


def plan_for(world, text, user=OPERATOR):
    response = world.command(text, user)
    assert response.status == 200
    return world.final_response(lambda r: r.get("blocks") and "Plan" in r.get("text", ""))


def test_help_and_bad_input_are_answered_in_the_ack_and_change_nothing(world):
    body = ack_body(world.command("help"))
    assert body["response_type"] == "ephemeral" and "/skill hotfix" in str(body["blocks"])
    body = ack_body(world.command("deploy trivia"))
    assert "`deploy` is not a /skill command" in body["text"] and "hotfix" in body["text"]
    body = ack_body(world.command("hotfix quiz"))
    assert "no skill called `quiz`" in body["text"] and "trivia" in body["text"]
    assert aliases(world) == ("1", "2")
    assert world.fake.calls_to("chat.postMessage") == []


def test_every_command_is_acked_before_any_aws_work(world):
    body = ack_body(world.command("status"))
    assert "Working on `status trivia`" in body["text"]
    status = world.final_response()
    assert "PROD1 (live) v1" in status["text"] and "PROD2 (candidate) v2" in status["text"]


def test_hotfix_plan_then_confirm_moves_live_and_announces(world):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    plan = plan_for(world, "Hotfix  trivia — “crash on launch”")
    assert "PROD1" in plan["text"] and "new version" in plan["text"]
    confirm = [
        e
        for b in plan["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == kit.CONFIRM
    ]
    assert confirm[0]["style"] == "primary"
    assert aliases(world) == ("1", "2"), "the plan alone changes nothing"

    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    result = world.final_response(lambda r: r["text"].startswith("Done"))
    assert "hotfix PROD1 v1 → v3" in result["text"] and result["replace_original"] is True
    assert aliases(world) == ("3", "2")
    [announcement] = world.fake.wait_for(lambda f: f.messages(CHANNEL))
    assert announcement["text"] == ("trivia: hotfix PROD1 v1 → v3 by <@U0ALICE> — crash on launch")
    assert "console.aws.amazon.com" in str(announcement["blocks"])


def test_a_double_click_applies_once(world):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    plan_id = button_value(plan_for(world, "hotfix"), kit.CONFIRM)
    world.click(kit.CONFIRM, plan_id)
    world.click(kit.CONFIRM, plan_id)
    world.final_response(lambda r: r["text"].startswith("Done"))
    world.fake.wait_for(lambda f: f.messages(CHANNEL))
    versions = world.lambda_client.list_versions_by_function(FunctionName=FN)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2", "3"]
    applied = [e for e in world.services.runtime.store.audit("trivia") if e.outcome == "applied"]
    assert len(applied) == 1
    assert len(world.fake.messages(CHANNEL)) == 1


def test_a_stale_plan_is_refused_with_the_reason(world):
    plan = plan_for(world, "rollback trivia 2 -- bad release")
    world.lambda_client.update_alias(FunctionName=FN, Name="PROD1", FunctionVersion="2")
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    result = world.final_response(lambda r: "Could not" in r["text"])
    assert "PROD1 moved from v1 to v2" in result["text"]
    assert world.fake.messages(CHANNEL) == []


def test_cancel_button_dismisses_the_plan(world):
    plan = plan_for(world, "rollback 2")
    world.click(kit.DISMISS, button_value(plan, kit.DISMISS))
    world.final_response(lambda r: r["text"].startswith("Cancelled by"))
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    assert aliases(world) == ("1", "2")


def test_strangers_are_refused_with_who_may(world):
    world.command("hotfix trivia 2", user=STRANGER)
    refusal = world.final_response()
    assert "Only operators may hotfix" in refusal["text"] and "<@U0ALICE>" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    world.command("promote", user=OPERATOR)
    assert (
        "Only approvers may promote"
        in world.final_response(lambda r: "approvers" in r["text"])["text"]
    )
    assert aliases(world) == ("1", "2")
    assert [
        e.actor for e in world.services.runtime.store.audit("trivia") if e.outcome == "refused"
    ] == [
        OPERATOR,
        STRANGER,
    ]


def certify(world):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    plan = plan_for(world, "certify trivia -- new quiz intent")
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    world.final_response(lambda r: r["text"].startswith("Done"))
    [message] = world.fake.wait_for(lambda f: f.messages(CHANNEL))
    return message


def test_certify_posts_exactly_one_certification_message(world):
    message = certify(world)
    assert message["text"] == ("trivia: certify PROD2 v2 → v3 by <@U0ALICE> — new quiz intent")
    assert ":white_check_mark:" in str(message["blocks"]) and "<@U0CAROL>" in str(message["blocks"])
    cert = world.services.runtime.store.pending_certification("trivia")
    assert (cert.channel, cert.message_ts) == (CHANNEL, message["ts"])
    assert aliases(world) == ("1", "3")
    assert len(world.fake.messages()) == 1


def test_only_an_approvers_reaction_promotes(world):
    message = certify(world)
    ts = message["ts"]
    world.react(STRANGER, ts)
    [told] = world.fake.wait_for(lambda f: f.ephemerals(STRANGER))  # privately, not in the thread
    assert "<@U0MALLORY>" in told["text"] and "<@U0CAROL>" in told["text"]
    world.react(STRANGER, ts)  # told once only
    world.react("UBOT", ts)  # the bot's own reaction is ignored
    world.react(APPROVER, ts, reaction="thumbsup")  # another emoji does nothing
    assert world.services.runtime.store.pending_certification("trivia") is not None

    world.react(APPROVER, ts, event_id="EvPROMOTE")
    world.react(APPROVER, ts, event_id="EvPROMOTE", headers=retry_headers())
    update = world.fake.wait_for(lambda f: f.updates(CHANNEL, ts))[-1]
    assert "promoted by <@U0CAROL>" in str(update["blocks"])
    announcement = world.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]]
    )
    assert announcement[0]["text"].startswith("trivia: promoted — live PROD1 v1 → PROD2 v3")
    replies = world.fake.wait_for(lambda f: f.thread_replies(CHANNEL, ts))
    # the stranger was told privately: the thread holds only the promotion
    assert [r["text"].count("promoted") for r in replies] == [1]
    tags = world.lambda_client.list_tags(
        Resource=world.lambda_client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    )
    assert tags["Tags"]["skillbot:live-alias"] == "PROD2"
    assert aliases(world) == ("1", "3")
    promotes = [e for e in world.services.runtime.store.audit("trivia") if e.operation == "promote"]
    assert [e.outcome for e in promotes].count("applied") == 1
    cert = world.services.runtime.store.certification_by_message(CHANNEL, ts)
    assert cert.state is CertificationState.PROMOTED


def test_cancel_updates_the_certification_message_and_its_thread(world):
    message = certify(world)
    plan = plan_for(world, "cancel -- model rejected")
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    update = world.fake.wait_for(lambda f: f.updates(CHANNEL, message["ts"]))[-1]
    assert "cancelled by <@U0ALICE>" in str(update["blocks"])
    [reply] = world.fake.wait_for(lambda f: f.thread_replies(CHANNEL, message["ts"]))
    assert "cancelled" in reply["text"]
    assert world.services.runtime.store.pending_certification("trivia") is None


def test_doctor_then_fix_adds_the_alexa_triggers(world):
    world.command("doctor")
    report = world.final_response(lambda r: r.get("blocks"))
    assert "problem" in report["text"]
    world.click(kit.FIX_ALL, button_value(report, kit.FIX_ALL))
    done = world.final_response(lambda r: r["text"].count("Done") >= 2)
    assert "Alexa Skills Kit trigger" in done["text"]
    for alias in ("PROD1", "PROD2"):
        policy = world.lambda_client.get_policy(FunctionName=FN, Qualifier=alias)["Policy"]
        assert f"trivia-skill:{alias}" in policy and "alexa-appkit.amazon.com" in policy


def test_app_home_shows_every_skill(world):
    body = '{"type":"app_home_opened","user":"U0DAVE","channel":"D1","tab":"home"}'
    import json

    from bot.devkit.slack_requests import event_body, signed_bolt_request

    world.app.dispatch(signed_bolt_request(event_body(json.loads(body)), "test-signing-secret"))
    [call] = world.fake.wait_for(lambda f: f.calls_to("views.publish"))
    assert call.params["user_id"] == "U0DAVE"
    assert "trivia" in str(call.params["view"]["blocks"])


def test_lock_in_slack_refuses_a_plan_and_unlock_allows_it_again(world):
    assert "Working on `lock trivia`" in ack_body(world.command("lock -- incident 42"))["text"]
    locked = world.final_response(lambda r: "locked" in r.get("text", ""))
    assert locked["text"].startswith("trivia is locked by <@U0ALICE> since ")
    assert "`/skill unlock trivia`" in locked["text"]
    [announced] = world.fake.messages(CHANNEL)
    assert announced["text"].startswith(":lock: trivia locked by <@U0ALICE>: incident 42")

    deploy(world.lambda_client, FN, "VERSION = 3\n")
    world.command("hotfix")
    refused = world.final_response(lambda r: "locked by" in r.get("text", ""))
    assert "Could not plan a hotfix of trivia" in refused["text"], refused
    assert aliases(world) == ("1", "2")

    world.command("unlock", APPROVER)
    world.final_response(lambda r: "unlocked" in r.get("text", ""))
    assert plan_for(world, "hotfix")["text"].startswith("Plan")
