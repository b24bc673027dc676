"""What Alexa calls, through the real app (moto, the fake Slack, the fake SMAPI): the
development stage re-pointed before submitting, the publication guarded by the
certification stage, the live stage checked after; and without SMAPI, the endpoint named."""

from __future__ import annotations

import pytest

from bot.adapters.slack import kit
from bot.adapters.slack.kit import say
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from tests.support.fakes import SKILL_ID, Waits
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import make_slack_world
from tests.support.smapi import smapi_calls
from tests.support.users import APPROVER

FN = "trivia-skill"


@pytest.fixture
def waits():
    return Waits()


@pytest.fixture
def world(aws, tmp_path, smapi, waits):
    client = create_skill_function(FN)
    settings = {k.lower(): v for k, v in smapi.env().items()}
    with FakeSlack() as fake:
        w = make_slack_world(
            fake, client, f"sqlite:///{tmp_path / 'bot.db'}", settings, polling=waits.polling()
        )
        yield w
        w.services.close()


def arn_of(world, alias: str) -> str:
    arn = world.lambda_client.get_function_configuration(FunctionName=FN)["FunctionArn"]
    return f"{arn}:{alias}"


def certify(world, *, submit: bool = True):
    deploy(world.lambda_client, FN, "VERSION = 3\n")
    world.command("certify -- quiz intent")
    plan = world.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
    action = kit.CONFIRM_AND_SUBMIT if submit else kit.CONFIRM
    world.click(action, button_value(plan, action))
    result = world.final_response(lambda r: r["text"].startswith("Done"))
    [message] = world.fake.wait_for(lambda f: f.messages(CHANNEL))
    return plan, message, result


def thread(world, message) -> list[str]:
    return [r["text"] for r in world.fake.thread_replies(CHANNEL, message["ts"])]


def test_submit_points_every_development_endpoint_at_the_candidate_first(world, smapi):
    live, candidate = arn_of(world, "PROD1"), arn_of(world, "PROD2")
    smapi.set_stage_endpoint(SKILL_ID, "development", live, {"EU": live, "FE": live})
    before = smapi.manifest(SKILL_ID, "development")
    plan, message, result = certify(world)

    assert f"points the development stage (default and every region) at `{candidate}`" in str(
        plan["blocks"]
    )
    assert smapi_calls(smapi) == [
        "GET /stages/development/manifest",
        "PUT /stages/development/manifest",
        "GET /status?resource=manifest",
        "POST /submit",
    ]
    assert smapi.stage_uris(SKILL_ID, "certification") == {
        "default": candidate,
        "EU": candidate,
        "FE": candidate,
    }
    after = smapi.manifest(SKILL_ID, "development")
    for key in ("manifestVersion", "publishingInformation", "privacyAndCompliance"):
        assert after[key] == before[key]
    assert after["apis"]["custom"]["interfaces"] == before["apis"]["custom"]["interfaces"]
    assert "sslCertificateType" not in after["apis"]["custom"]["endpoint"]
    told = thread(world, message)
    assert any(
        f"Pointed the development stage at `{candidate}` (PROD2). Before, the default "
        "endpoint called "
        in t
        and "(PROD1, the live alias)" in t
        and "Submitted to Alexa" in t
        for t in told
    ), told
    assert "Submitted to Alexa" in result["text"]
    final = world.fake.updates(CHANNEL, message["ts"])[-1]
    assert f"Certification must call `{candidate}` (PROD2)" in str(final["blocks"])


def test_the_put_carries_the_etag_that_was_read_and_the_whole_manifest(world, smapi):
    smapi.set_stage_endpoint(SKILL_ID, "development", arn_of(world, "PROD1"))
    served = smapi.etag(SKILL_ID, "development")
    certify(world)
    [put] = [r for r in smapi.requests_to("/stages/development/manifest") if r.method == "PUT"]
    assert put.headers["if-match"] == served
    assert smapi.manifest_updates(SKILL_ID) == [
        {"manifest": smapi.manifest(SKILL_ID, "development")}
    ]


def test_a_development_stage_already_calling_the_candidate_is_not_written(world, smapi):
    smapi.set_stage_endpoint(SKILL_ID, "development", arn_of(world, "PROD2"))
    _, message, _ = certify(world)
    assert smapi_calls(smapi) == ["GET /stages/development/manifest", "POST /submit"]
    assert any("already calls" in t and "Submitted to Alexa" in t for t in thread(world, message))


def test_someone_elses_edit_meanwhile_is_read_again_and_retried_once(world, smapi):
    smapi.set_stage_endpoint(SKILL_ID, "development", arn_of(world, "PROD1"))
    smapi.edit_after_next_read(SKILL_ID, "development", times=1)
    certify(world)
    puts = [r for r in smapi.requests_to("/stages/development/manifest") if r.method == "PUT"]
    assert len(puts) == 2 and puts[0].headers["if-match"] != puts[1].headers["if-match"]
    assert smapi.stage_uris(SKILL_ID, "certification")["default"] == arn_of(world, "PROD2")


def test_edits_that_keep_coming_submit_nothing_and_the_thread_says_what_to_do(world, smapi):
    smapi.set_stage_endpoint(SKILL_ID, "development", arn_of(world, "PROD1"))
    smapi.edit_after_next_read(SKILL_ID, "development", times=2)
    _, message, result = certify(world)
    assert smapi.skill(SKILL_ID).submissions == []
    assert smapi.manifest(SKILL_ID, "certification") is None
    [told] = [t for t in thread(world, message) if "Not submitted" in t]
    assert "changed by someone else twice" in told
    assert f"set `{arn_of(world, 'PROD2')}`" in told and "submit there" in told
    assert "Not submitted" in result["text"]


def test_smapi_unavailable_submits_nothing_and_says_how_to_submit_by_hand(world, smapi):
    smapi.fail_next("/stages/development/manifest", 503)
    _, message, _ = certify(world)
    assert smapi.skill(SKILL_ID).submissions == []
    [told] = [t for t in thread(world, message) if "Not submitted" in t]
    assert "HTTP 503" in told and "the certification is tracked" in told
    assert f"enter `{arn_of(world, 'PROD2')}`" in told and "/skill cancel trivia" in told


def test_a_failed_manifest_build_submits_nothing(world, smapi):
    smapi.set_manifest_build(SKILL_ID, "FAILED", errors=["The endpoint <is> not reachable."])
    _, message, _ = certify(world)
    assert smapi.skill(SKILL_ID).submissions == []
    [told] = [t for t in thread(world, message) if "Not submitted" in t]
    assert "could not build the development manifest" in told
    assert "The endpoint &lt;is&gt; not reachable." in told  # remote text made inert
    assert "/skill doctor trivia" in told


def test_a_slow_build_is_awaited_then_submitted(world, smapi, waits):
    smapi.set_manifest_build(SKILL_ID, "SUCCEEDED", in_progress_polls=3)
    certify(world)
    assert len(smapi.requests_to("/status")) == 4
    assert waits.slept == [0.5, 1.0, 2.0]
    assert len(smapi.skill(SKILL_ID).submissions) == 1


def test_a_build_that_never_finishes_times_out_and_submits_nothing(world, smapi, waits):
    smapi.set_manifest_build(SKILL_ID, "IN_PROGRESS")
    _, message, _ = certify(world)
    assert waits.now <= 30.0 and len(smapi.requests_to("/status")) > 3
    assert smapi.skill(SKILL_ID).submissions == []
    [told] = [t for t in thread(world, message) if "Not submitted" in t]
    assert "did not finish within 30 s" in told


def test_publication_is_refused_when_the_certification_stage_calls_the_live_alias(world, smapi):
    _, message, _ = certify(world)
    # someone pointed the version in certification back at the live alias
    smapi.set_stage_endpoint(SKILL_ID, "certification", arn_of(world, "PROD1"))
    smapi.set_certification(SKILL_ID, "SUCCEEDED", published_countries=["US"])
    world.react(APPROVER, message["ts"])
    [told] = world.fake.wait_for(
        lambda f: [t for t in thread(world, message) if "Could not promote" in t]
    )
    assert f"<@{APPROVER}>" in told
    assert f"the default endpoint calls `{arn_of(world, 'PROD1')}` (PROD1, the live alias)" in told
    assert "Nothing was published; the roles are unchanged" in told
    assert "/skill cancel trivia" in told and "Confirm and submit to Alexa" in told
    assert smapi.skill(SKILL_ID).publications == []
    assert world.services.runtime.store.pending_certification("trivia") is not None
    assert world.services.cases.reading.status("trivia").roles.live_alias == "PROD1"


def test_after_publishing_the_live_stage_is_checked_and_a_wrong_one_announced(world, smapi):
    _, message, _ = certify(world)
    smapi.set_certification(SKILL_ID, "SUCCEEDED", published_countries=["US"])
    smapi.set_live_endpoint(SKILL_ID, arn_of(world, "PROD1"))
    smapi.live_follows_publication = False  # the publication never reaches the live stage
    world.react(APPROVER, message["ts"])
    [promoted] = world.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]]
    )
    assert ":rotating_light: After publishing" in promoted["text"]
    assert f"calls `{arn_of(world, 'PROD1')}` (PROD1" in promoted["text"]
    world.fake.wait_for(lambda f: [t for t in thread(world, message) if ":rotating_light:" in t])
    assert len(smapi.skill(SKILL_ID).publications) == 1
    report = world.services.cases.planning.doctor("trivia", actor="U0ALICE")
    [drift] = [f for f in report.findings if f.check == "live Alexa endpoint"]
    assert not drift.ok and "PROD2 is recorded as live" in say(drift.detail)


def test_a_publication_that_reaches_the_live_stage_is_announced_without_alarm(world, smapi):
    _, message, _ = certify(world)
    smapi.set_certification(SKILL_ID, "SUCCEEDED", published_countries=["US"])
    world.react(APPROVER, message["ts"])
    [promoted] = world.fake.wait_for(
        lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]]
    )
    assert ":rotating_light:" not in str(promoted)
    assert smapi.stage_uris(SKILL_ID, "live") == {"default": arn_of(world, "PROD2")}
    report = world.services.cases.planning.doctor("trivia", actor="U0ALICE")
    assert [f.ok for f in report.findings if f.check == "live Alexa endpoint"] == [True]


def test_without_smapi_the_plan_the_message_and_status_name_the_endpoints(aws, tmp_path, smapi):
    client = create_skill_function(FN)
    with FakeSlack() as fake:
        w = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}")
        try:
            plan, message, _ = certify(w, submit=False)
            candidate, live = arn_of(w, "PROD2"), arn_of(w, "PROD1")
            assert f"for certification Alexa must call `{candidate}` (PROD2)" in str(plan["blocks"])
            assert "Build → Endpoint" in str(plan["blocks"])
            assert f"Endpoint for certification: `{candidate}` (PROD2)" in str(message["blocks"])
            w.command("status")
            status = w.final_response(lambda r: r.get("blocks"))
            assert f"Alexa calls `{live}`" in str(status["blocks"])
            assert f"Alexa calls `{candidate}`" in str(status["blocks"])
        finally:
            w.services.close()
    assert smapi.requests == []
