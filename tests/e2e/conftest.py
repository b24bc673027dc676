from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from bot.devkit.process import free_port


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
