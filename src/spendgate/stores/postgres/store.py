"""The production store: PostgreSQL through psycopg 3 and a connection pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from spendgate.errors import StoreUnavailable
from spendgate.stores.sql import POSTGRES, SqlSession

_RETRYABLE = (pg_errors.UniqueViolation, pg_errors.SerializationFailure,
              pg_errors.DeadlockDetected, pg_errors.LockNotAvailable)


class PostgresStore:
    dialect = POSTGRES

    def __init__(self, url: str, *, max_connections: int = 16) -> None:
        self.url = url
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"autocommit": True}, timeout=30)
        try:
            self._pool.open(wait=True, timeout=10)
        except Exception as exc:
            self._pool.close()
            raise StoreUnavailable(
                f"cannot reach PostgreSQL at {_redact(url)}: {exc}; is the server running?"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[SqlSession]:
        with self._pool.connection() as conn, conn.transaction():
            yield SqlSession(conn, POSTGRES)

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield SqlSession(conn, POSTGRES)

    def is_retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, _RETRYABLE)

    def ping(self) -> None:
        with self._pool.connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._pool.close()


def _redact(url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
