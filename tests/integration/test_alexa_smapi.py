"""SMAPI features through the real app, against moto, the fake Slack and the fake SMAPI."""

from __future__ import annotations

import pytest

from bot.adapters.slack import kit
from bot.adapters.slack.kit import say
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.domain.alexa import withdraw_reason
from tests.support import aws as aws_state
from tests.support.aws import alias_version
from tests.support.fakes import SKILL_ID
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import make_slack_world
from tests.support.users import APPROVER

FN = "trivia-skill"


@pytest.fixture
def world(aws, tmp_path, smapi):
    client = create_skill_function(FN)
    settings = {k.lower(): v for k, v in smapi.env().items()}
    with FakeSlack() as fake:
        w = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}", settings)
        yield w
        w.services.close()


def live_tag(world):
    return aws_state.live_tag(world.lambda_client)


def certify_and_submit(world):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    world.command("certify -- quiz intent")
    plan = world.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
    world.click(kit.CONFIRM_AND_SUBMIT, button_value(plan, kit.CONFIRM_AND_SUBMIT))
    result = world.final_response(lambda r: r["text"].startswith("Done"))
    [message] = world.fake.wait_for(lambda f: f.messages(CHANNEL))
    return message, result


def test_certify_submits_with_manual_publishing_and_says_so_in_the_thread(world, smapi):
    message, result = certify_and_submit(world)
    assert "Submitted to Alexa" in result["text"]
    [submission] = smapi.skill(SKILL_ID).submissions
    assert submission == {"publicationMethod": "MANUAL_PUBLISHING", "versionMessage": "quiz intent"}
    replies = world.fake.thread_replies(CHANNEL, message["ts"])
    assert any("Submitted to Alexa" in r["text"] for r in replies)
    assert "submitted" in str(world.fake.updates(CHANNEL, message["ts"])[-1]["blocks"])


def test_passed_review_is_announced_and_the_reaction_publishes_then_swaps(world, smapi):
    message, _ = certify_and_submit(world)
    alexa = world.services.runtime.alexa
    pending = world.services.runtime.store.pending_certifications()
    assert alexa.poll(pending) == 1  # IN_PROGRESS recorded
    assert alexa.poll(pending) == 0  # nothing new
    smapi.set_certification(SKILL_ID, "SUCCEEDED", published_countries=[])
    assert alexa.poll(pending) == 1
    replies = world.fake.thread_replies(CHANNEL, message["ts"])
    passed = [r for r in replies if "certification passed" in r["text"]]
    assert len(passed) == 1 and "<@U0CAROL>" in passed[0]["text"]
    assert "passed" in str(world.fake.updates(CHANNEL, message["ts"])[-1]["blocks"])

    world.react(APPROVER, message["ts"])
    world.fake.wait_for(lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]])
    assert len(smapi.skill(SKILL_ID).publications) == 1
    assert live_tag(world) == "PROD2"


def test_a_failed_publish_swaps_nothing_and_the_thread_says_why(world, smapi):
    message, _ = certify_and_submit(world)
    # still IN_PROGRESS: SMAPI refuses to publish a skill that has not passed
    world.react(APPROVER, message["ts"])
    told = world.fake.wait_for(
        lambda f: [
            r for r in f.thread_replies(CHANNEL, message["ts"]) if "Could not promote" in r["text"]
        ]
    )
    assert "Publishing the skill on Alexa failed" in told[0]["text"]
    assert "no certified version" in told[0]["text"]
    assert live_tag(world) is None
    assert world.services.runtime.store.pending_certification("trivia") is not None
    assert smapi.skill(SKILL_ID).publications == []


def test_failed_review_is_announced_with_what_to_do(world, smapi):
    message, _ = certify_and_submit(world)
    smapi.set_certification(SKILL_ID, "FAILED")
    world.services.runtime.alexa.poll(world.services.runtime.store.pending_certifications())
    failed = [
        r
        for r in world.fake.thread_replies(CHANNEL, message["ts"])
        if "certification failed" in r["text"]
    ]
    assert len(failed) == 1 and "/skill cancel" in failed[0]["text"]


def test_cancel_withdraws_the_submission_with_smapis_reason(world, smapi):
    message, _ = certify_and_submit(world)
    world.command("cancel -- discovered issue: quiz crashes")
    plan = world.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
    assert "withdrawn too" in str(plan["blocks"])
    world.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
    world.fake.wait_for(
        lambda f: [
            r
            for r in f.thread_replies(CHANNEL, message["ts"])
            if "Withdrawn from Alexa" in r["text"]
        ]
    )
    assert smapi.skill(SKILL_ID).withdrawals == [
        {"reason": "DISCOVERED_ISSUE", "message": "quiz crashes"}
    ]


def test_doctor_reports_a_drifted_live_endpoint(world, smapi):
    arn = world.lambda_client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    smapi.set_live_endpoint(SKILL_ID, f"{arn}:PROD1", regional={"FE": f"{arn}:PROD2"})
    report = world.services.cases.planning.doctor("trivia", actor="U0ALICE")
    [drift] = [f for f in report.findings if f.check == "live Alexa endpoint"]
    assert not drift.ok and "region FE calls PROD2 (the candidate)" in say(drift.detail)
    # only FE moved (a publication moves every place): undo the edit, promoting is no fix
    assert "/skill promote" not in say(drift.detail)
    assert f"FE `{arn}:PROD1`" in say(drift.detail)
    smapi.set_live_endpoint(SKILL_ID, f"{arn}:PROD2", regional={"FE": f"{arn}:PROD2"})
    report = world.services.cases.planning.doctor("trivia", actor="U0ALICE")
    [drift] = [f for f in report.findings if f.check == "live Alexa endpoint"]
    assert not drift.ok and "/skill promote trivia" in say(drift.detail)
    smapi.set_live_endpoint(SKILL_ID, f"{arn}:PROD1")
    report = world.services.cases.planning.doctor("trivia", actor="U0ALICE")
    assert [f.ok for f in report.findings if f.check == "live Alexa endpoint"] == [True]


def test_status_view_shows_alexas_status(world, smapi):
    certify_and_submit(world)
    smapi.set_certification(SKILL_ID, "IN_PROGRESS")
    world.services.runtime.alexa.poll(world.services.runtime.store.pending_certifications())
    world.command("status")
    status = world.final_response(lambda r: r.get("blocks"))
    assert "Alexa certification: in review" in str(status["blocks"])


def test_without_credentials_nothing_calls_smapi(aws, tmp_path, smapi):
    client = create_skill_function(FN)
    with FakeSlack() as fake:
        w = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}")
        assert w.services.runtime.alexa is None
        deploy(client, FN, "VERSION = 3\n")
        w.command("certify")
        plan = w.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
        assert kit.CONFIRM_AND_SUBMIT not in str(plan["blocks"])
        w.click(kit.CONFIRM, button_value(plan, kit.CONFIRM))
        w.final_response(lambda r: r["text"].startswith("Done"))  # message ts recorded
        [message] = fake.messages(CHANNEL)
        w.react(APPROVER, message["ts"])
        fake.wait_for(lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]])
        assert alias_version(client, FN, "PROD2") == "3"
        w.services.close()
    assert smapi.requests == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MORE_FEATURES", ("MORE_FEATURES", None)),
        ("test skill — only a test", ("TEST_SKILL", "only a test")),
        ("", ("OTHER", "cancelled in skillbot")),
    ],
)
def test_withdraw_reasons(text, expected):
    assert withdraw_reason(text) == expected
