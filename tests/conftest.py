"""Fixtures shared by all test folders: stores on both backends, clocks, fakes, moto
over HTTP and the fake SMAPI."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from bot.adapters.store import SqlStore, open_store
from bot.devkit.fake_smapi import FakeSmapi
from bot.devkit.json_server import free_port
from tests.support import moto_arns
from tests.support.db import postgres_schema_url
from tests.support.fakes import SKILL_ID, FakeClock

moto_arns.install()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """The real SQL store, on a SQLite file and on PostgreSQL (skipped without a server)."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'skillbot.db'}")
        yield s
        s.close()
        return
    with postgres_schema_url() as url:
        s = open_store(url)
        yield s
        s.close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto_server over HTTP in this process, one for all its tests (stopping one takes
    half a second); its URL. Tests take it through :func:`moto_endpoint`."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch) -> Iterator[str]:
    """moto_server over HTTP, empty: the bot process reaches it through AWS_ENDPOINT_URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield moto_server
    finally:
        # moto's state lives in this process; the next test must find it empty
        reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset).close()


@pytest.fixture
def smapi() -> Iterator[FakeSmapi]:
    """The fake SMAPI and Login with Amazon over HTTP, knowing the skill ``SKILL_ID``."""
    with FakeSmapi() as fake:
        fake.add_skill(SKILL_ID)
        yield fake
