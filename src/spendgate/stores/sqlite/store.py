"""The embedded default: one SQLite file in WAL mode, durable commits (synchronous=FULL).

Every process writes through its own single writer (the ledger's group committer), and
BEGIN IMMEDIATE serializes writers across processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spendgate.errors import StoreUnavailable
from spendgate.stores.sql import SQLITE, SqlSession


class SqliteStore:
    dialect = SQLITE

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self.synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=60,
                                       check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[SqlSession]:
        # Writers of this process queue on a lock instead of SQLite's busy handler, which
        # sleep-polls; writers in other processes still meet at BEGIN IMMEDIATE.
        conn = self._conn()
        with self._writer:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqlSession(conn, SQLITE)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield SqlSession(conn, SQLITE)
        finally:
            conn.execute("COMMIT")

    def is_retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def ping(self) -> None:
        with self.read() as tx:
            tx.one("SELECT 1")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
