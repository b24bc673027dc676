"""The real process in Socket Mode (SLACK_APP_TOKEN set, no public URL, no signing secret):
the same commands, buttons and reactions arrive over the socket and are acknowledged
within Slack's 3 seconds."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from bot.adapters.slack import kit
from bot.devkit.aws import create_skill_function, deploy
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    reaction_added_event,
    slash_command_body,
)
from tests.support.aws import alias_version
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.messages import button_value
from tests.support.process import BotProcess, bot_env
from tests.support.skills import CHANNEL
from tests.support.users import APPROVER

FN = "trivia-skill"


def newest(fake: FakeSlack, mark: int, needle: str) -> dict:
    return fake.wait_for(
        lambda f: next(
            (r for r in reversed(f.responses()[mark:]) if needle in r.get("text", "")), None
        ),
        timeout=20,
    )


def test_socket_mode_serves_commands_buttons_and_reactions(moto_endpoint, tmp_path):
    client = create_skill_function(FN, moto_endpoint)
    with FakeSlack() as fake, FakeSocketMode() as socket:
        fake.socket_mode_url = socket.url
        env = bot_env(tmp_path, fake.api_url, moto_endpoint, port=free_port())
        env["SLACK_APP_TOKEN"] = "xapp-1-A0APP-test"
        env.pop("SLACK_SIGNING_SECRET")
        with BotProcess(env, cwd=tmp_path) as bot:
            bot.wait_for_log("ready (Socket Mode)")
            socket.wait_connected()

            def command(text: str) -> dict:
                body = slash_command_body(text, response_url=fake.response_url())
                return socket.request("slash_commands", dict(parse_qsl(body)))

            ack = command("help")
            assert "/skill hotfix" in json.dumps(ack["payload"])

            deploy(client, FN, "VERSION = 3\n")
            mark = len(fake.responses())
            ack = command("certify -- over the socket")
            assert "Working on `certify trivia`" in ack["payload"]["text"]
            plan = newest(fake, mark, "Plan: certify")

            mark = len(fake.responses())
            click = block_action_body(
                kit.CONFIRM, button_value(plan, kit.CONFIRM), response_url=fake.response_url()
            )
            socket.request("interactive", json.loads(dict(parse_qsl(click))["payload"]))
            newest(fake, mark, "Done: trivia: certify PROD2 v2 → v3")
            assert alias_version(client, FN, "PROD2") == "3"
            [message] = fake.messages(CHANNEL)

            event = event_body(
                reaction_added_event(APPROVER, "white_check_mark", CHANNEL, message["ts"])
            )
            socket.request("events_api", json.loads(event))
            fake.wait_for(
                lambda f: [m for m in f.messages(CHANNEL) if "promoted" in m["text"]], timeout=20
            )
            arn = client.get_function_configuration(FunctionName=FN)["FunctionArn"]
            assert client.list_tags(Resource=arn)["Tags"]["skillbot:live-alias"] == "PROD2"
