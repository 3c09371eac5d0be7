"""Real services for tests: PostgreSQL, Redis and NATS on loopback.

On a laptop without a service its tests skip with a loud reason; when SPENDGATE_REQUIRE_SERVICES=1
(set by .ci/run) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN_URL = os.environ.get("SPENDGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("SPENDGATE_TEST_NATS", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("SPENDGATE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("SPENDGATE_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def need(name: str, host: str, port: int) -> None:
    """Skip loudly (or fail in CI) when a service is not listening."""
    if _reachable(host, port):
        return
    message = f"!!! {name} is not reachable at {host}:{port}; its tests did NOT run !!!"
    if services_required():
        pytest.fail(message + " (mandatory: SPENDGATE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; yields a URL that uses it."""
    need("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"sg_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    try:
        yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
