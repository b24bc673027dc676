"""The real Bolt app over moto (in-process) and the fake Slack, for scenario tests.

Requests are signed and dispatched into the app exactly as Slack would send them; what
the app does is read back from AWS (moto) and from the fake Slack's recorded calls::

    world.command("hotfix trivia -- crash")
    plan = world.last_response()
    world.click(CONFIRM, plan_id_of(plan))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse

from bot.adapters.slack.notifier import web_client
from bot.bootstrap import Composed, build_services
from bot.config import Settings, parse_skills
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.slack_requests import (
    block_action_body,
    event_body,
    reaction_added_event,
    signed_bolt_request,
    slash_command_body,
)
from handlers import build_app
from tests.support.fakes import FakeClock
from tests.support.skills import CHANNEL, skills_config
from tests.support.users import OPERATOR

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


def settings_for(fake: FakeSlack, database_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
        **extra,
    )


@dataclass
class SlackWorld:
    app: App
    services: Composed
    fake: FakeSlack
    lambda_client: Any
    clock: FakeClock
    #: responses before this index belong to earlier commands or clicks
    mark: int = 0

    # -- sending what Slack sends ------------------------------------------------
    def command(self, text: str, user: str = OPERATOR) -> BoltResponse:
        self.mark = len(self.fake.responses())
        body = slash_command_body(text, user_id=user, response_url=self.fake.response_url())
        return self.app.dispatch(signed_bolt_request(body, SECRET))

    def click(self, action_id: str, value: str, user: str = OPERATOR) -> BoltResponse:
        self.mark = len(self.fake.responses())
        body = block_action_body(
            action_id, value, user_id=user, response_url=self.fake.response_url()
        )
        return self.app.dispatch(signed_bolt_request(body, SECRET))

    def react(
        self,
        user: str,
        ts: str,
        reaction: str = "white_check_mark",
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> BoltResponse:
        event = reaction_added_event(user, reaction, CHANNEL, ts)
        body = event_body(event, event_id=event_id)
        return self.app.dispatch(signed_bolt_request(body, SECRET, headers))

    # -- reading what the app answered -------------------------------------------
    def final_response(self, predicate: Any = None, timeout: float = 10.0) -> dict[str, Any]:
        """The newest response_url post since the last command or click that is not a
        progress message (and matches ``predicate``)."""

        def done(f: FakeSlack) -> dict[str, Any] | None:
            finals = [
                r
                for r in f.responses()[self.mark :]
                if ":hourglass" not in r.get("text", "") and (predicate is None or predicate(r))
            ]
            return finals[-1] if finals else None

        return self.fake.wait_for(done, timeout)


def ack_body(response: BoltResponse) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


def make_slack_world(
    fake: FakeSlack,
    lambda_client: Any,
    database_url: str,
    settings_extra: dict[str, Any] | None = None,
    *,
    polling: Any = None,
    **config_overrides: Any,
) -> SlackWorld:
    clock = FakeClock()
    settings = settings_for(fake, database_url, **(settings_extra or {}))
    config = parse_skills(skills_config(**config_overrides))
    services = build_services(
        settings,
        config,
        lambda_client=lambda_client,
        slack_client=web_client(TOKEN, fake.api_url),
        clock=clock,
        polling=polling,
    )
    return SlackWorld(build_app(*services), services, fake, lambda_client, clock)
