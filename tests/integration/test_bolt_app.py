"""The Bolt app starts quietly: Bolt finds SLACK_BOT_TOKEN in the environment itself and
warns that it goes unused beside the client, which carries that token already."""

from __future__ import annotations

import logging

from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from tests.support.slack_world import TOKEN, make_slack_world


def test_building_the_app_logs_no_warning_about_the_token(aws, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    client = create_skill_function("trivia-skill")
    with FakeSlack() as fake:
        world = make_slack_world(fake, client, f"sqlite:///{tmp_path / 'bot.db'}")
        try:
            bolt_records = [r for r in caplog.records if r.name.startswith("slack_bolt")]
            assert [r.getMessage() for r in bolt_records if r.levelno >= logging.WARNING] == []
            assert world.app.client.token == TOKEN, "the app still speaks with the bot token"
        finally:
            world.services.close()
