"""Tokens, secrets and signing material never reach the logs, even at DEBUG."""

from __future__ import annotations

import logging

from bot.adapters.slack import kit
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.fake_smapi import FakeSmapi
from tests.support.fakes import SKILL_ID
from tests.support.messages import button_value
from tests.support.skills import CHANNEL
from tests.support.slack_world import SECRET, TOKEN, make_slack_world
from tests.support.users import APPROVER

FN = "trivia-skill"


def test_a_full_scenario_logs_no_secret(aws, tmp_path, caplog, monkeypatch):
    aws_secret = "AwsSecretKey-do-not-log-0123456789"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret)
    caplog.set_level(logging.DEBUG)
    client = create_skill_function(FN)
    with FakeSmapi() as smapi, FakeSlack() as fake:
        smapi.add_skill(SKILL_ID)
        settings = {k.lower(): v for k, v in smapi.env().items()}
        world = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}", settings)
        try:
            deploy(client, FN, "VERSION = 3\n")
            world.command("certify -- quiz")
            plan = world.final_response(lambda r: r.get("blocks") and "Plan" in r["text"])
            world.click(kit.CONFIRM_AND_SUBMIT, button_value(plan, kit.CONFIRM_AND_SUBMIT))
            world.final_response(lambda r: r["text"].startswith("Done"))
            [message] = fake.messages(CHANNEL)
            smapi.set_certification(SKILL_ID, "SUCCEEDED")
            world.services.runtime.alexa.poll(world.services.runtime.store.pending_certifications())
            world.react(APPROVER, message["ts"])
            fake.wait_for(lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]])
            world.command("status")
            world.final_response()
        finally:
            world.services.close()
        secrets = {
            "bot token": TOKEN,
            "signing secret": SECRET,
            "LWA client secret": smapi.client_secret,
            "LWA refresh token": smapi.refresh_token,
            "AWS secret key": aws_secret,
            **{f"access token {i}": t for i, t in enumerate(smapi.issued_tokens)},
        }
    assert smapi.issued_tokens, "the scenario used SMAPI"
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 20, "the scenario logged something at DEBUG"
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert leaked == []
