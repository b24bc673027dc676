"""The end-to-end tests share the fixtures of tests/conftest.py (moto_endpoint among them)
and this one: the real bot process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.json_server import free_port
from tests.support.e2e import Bot
from tests.support.process import bot_env, start_bot


@pytest.fixture
def bot(moto_endpoint, tmp_path) -> Iterator[tuple[Bot, object]]:
    """The real process (``python -m bot``, HTTP) over moto_server and the fake Slack, with
    the skill's function (v1, v2; PROD1 → v1, PROD2 → v2); the bot and the boto3 client."""
    client = create_skill_function("trivia-skill", moto_endpoint)
    port = free_port()
    with FakeSlack() as fake:
        process = start_bot(
            bot_env(tmp_path, fake.api_url, moto_endpoint, port=port),
            cwd=tmp_path,
        )
        try:
            yield Bot(f"http://127.0.0.1:{port}", fake, process), client
        finally:
            process.kill()
