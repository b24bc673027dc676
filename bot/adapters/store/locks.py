"""One operation per skill at a time, across threads and processes.

PostgreSQL: a session advisory lock (released by the server if the process dies).
SQLite file: an ``flock`` on a file next to the database (released by the OS)::

    with locks.hold("trivia", timeout=10):
        ...
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from bot.adapters.store.engine import Database, lock_key
from bot.domain.errors import Busy


class SkillLocks:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, skill: str, timeout: float) -> Iterator[None]:
        """Hold the lock of ``skill``; :class:`Busy` after ``timeout`` seconds."""
        with self._thread_lock(skill, timeout):
            if self.db.dialect == "postgresql":
                with self._pg_advisory_lock(skill, timeout):
                    yield
            elif self.db.sqlite_path:
                with self._file_lock(self.db.sqlite_path, skill, timeout):
                    yield
            else:
                yield

    @contextmanager
    def _thread_lock(self, skill: str, timeout: float) -> Iterator[None]:
        with self._guard:
            lock = self._thread_locks.setdefault(skill, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise busy(skill)
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _pg_advisory_lock(self, skill: str, timeout: float) -> Iterator[None]:
        key = lock_key("skill:" + skill)
        deadline = time.monotonic() + timeout
        with self.db.connect() as conn:
            while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() > deadline:
                    raise busy(skill)
                time.sleep(0.05)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()

    @contextmanager
    def _file_lock(self, database: str, skill: str, timeout: float) -> Iterator[None]:
        digest = hashlib.blake2b(skill.encode(), digest_size=8).hexdigest()
        deadline = time.monotonic() + timeout
        fd = os.open(f"{database}.lock.{digest}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise busy(skill) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def busy(skill: str) -> Busy:
    return Busy(
        f"Another operation on {skill} is in progress.",
        hint="Wait for it to finish (its result is posted), then try again.",
    )
