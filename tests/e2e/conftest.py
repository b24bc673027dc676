from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from bot.devkit.aws import create_skill_function
from bot.devkit.fake_slack import FakeSlack
from bot.devkit.process import free_port
from tests.support.e2e import Bot, bot_env, start_bot


@pytest.fixture
def moto_endpoint(monkeypatch) -> Iterator[str]:
    """moto_server over HTTP: the bot process reaches it through AWS_ENDPOINT_URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        # moto's state lives in this process; the next server must start empty
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        server.stop()


@pytest.fixture
def bot(moto_endpoint, tmp_path) -> Iterator[tuple[Bot, object]]:
    """The real process (``python -m bot``, HTTP) over moto_server and the fake Slack, with
    the skill's function (v1, v2; PROD1 → v1, PROD2 → v2); the bot and the boto3 client."""
    client = create_skill_function("trivia-skill", moto_endpoint)
    port = free_port()
    with FakeSlack() as fake:
        process = start_bot(bot_env(fake, moto_endpoint, port, tmp_path), tmp_path)
        try:
            yield Bot(f"http://127.0.0.1:{port}", fake, process), client
        finally:
            process.kill()
