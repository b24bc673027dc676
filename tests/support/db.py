"""Stores for tests: SQLite always, PostgreSQL when ``SKILLBOT_TEST_POSTGRES_URL`` answers.

Each PostgreSQL test gets a schema of its own, dropped afterwards, so tests never see
each other's rows. ``.ci/run`` sets ``SKILLBOT_REQUIRE_POSTGRES=1`` so that a missing
server fails CI instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "SKILLBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def require_postgres() -> None:
    """Skip (or, in CI, fail) when no PostgreSQL server answers."""
    if postgres_available():
        return
    if os.environ.get("SKILLBOT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but {POSTGRES_URL} does not answer")
    pytest.skip(f"no PostgreSQL server answers at {POSTGRES_URL}")


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema; the schema is dropped after."""
    require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
