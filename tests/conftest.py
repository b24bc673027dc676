"""Fixtures shared by all test folders: stores on both backends, clocks, fakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.store import SqlStore, open_store
from tests.support.db import postgres_schema_url
from tests.support.fakes import FakeClock


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
