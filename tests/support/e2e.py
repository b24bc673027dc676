"""The real process driven like Slack would, for end-to-end and crash tests."""

from __future__ import annotations

from bot.devkit.fake_slack import FakeSlack
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    post,
    reaction_added_event,
    sign,
    slash_command_body,
)
from tests.support.process import BotProcess
from tests.support.skills import CHANNEL
from tests.support.slack_world import SECRET
from tests.support.users import OPERATOR


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
