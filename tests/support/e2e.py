"""The real process driven like Slack would, for end-to-end and crash tests."""

from __future__ import annotations

import json
from pathlib import Path

from bot.devkit.fake_slack import FakeSlack
from bot.devkit.process import BotProcess
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    post,
    reaction_added_event,
    sign,
    slash_command_body,
)
from tests.support.slack_world import CHANNEL, OPERATOR, SECRET, TOKEN, skills_config


def write_skills_file(path: Path) -> Path:
    config = skills_config()
    skill = config["skills"]["trivia"]
    lines = [
        f'announce_channel = "{config["announce_channel"]}"',
        f"operators = {json.dumps(config['operators'])}",
        f"approvers = {json.dumps(config['approvers'])}",
        'reminder_schedule = "24h"',
        "[skills.trivia]",
        *(f"{k} = {json.dumps(v)}" for k, v in skill.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Bot:
    def __init__(self, url: str, fake: FakeSlack, process: BotProcess) -> None:
        self.url, self.fake, self.process = url, fake, process
        self.mark = 0

    def send(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        self.mark = len(self.fake.responses())
        return post(f"{self.url}/slack/events", body, headers or sign(body, SECRET))

    def command(self, text: str, user: str = OPERATOR) -> dict:
        status, _ = self.send(
            slash_command_body(text, user_id=user, response_url=self.fake.response_url())
        )
        assert status == 200
        return self.final()

    def click(self, action_id: str, value: str, user: str = OPERATOR) -> dict:
        status, _ = self.send(
            block_action_body(action_id, value, user_id=user, response_url=self.fake.response_url())
        )
        assert status == 200
        return self.final()

    def react(self, user: str, ts: str) -> None:
        status, _ = self.send(
            event_body(reaction_added_event(user, "white_check_mark", CHANNEL, ts))
        )
        assert status == 200

    def final(self) -> dict:
        mark = self.mark

        def done(f: FakeSlack):
            finals = [r for r in f.responses()[mark:] if ":hourglass" not in r.get("text", "")]
            return finals[-1] if finals else None

        return self.fake.wait_for(done, timeout=20)


def bot_env(fake: FakeSlack, aws_endpoint: str, port: int, tmp_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'skillbot.db'}",
        "SKILLBOT_CONFIG": str(write_skills_file(tmp_path / "skillbot.toml")),
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }


def start_bot(env: dict[str, str], cwd: Path, *args: str) -> BotProcess:
    process = BotProcess(env, *args, cwd=cwd).start()
    process.wait_for_log("ready (HTTP")
    return process
