from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import postgres_schema

_KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "CI",
         "SPENDGATE_REQUIRE_SERVICES", "SPENDGATE_TEST_PG", "SPENDGATE_TEST_NATS",
         "SPENDGATE_TEST_REDIS", "HYPOTHESIS_PROFILE"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts without stray SPENDGATE_* settings and in its own working directory."""
    for name in list(os.environ):
        if name.startswith("SPENDGATE_") and name not in _KEEP:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'spendgate.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One contract, every backend: PostgreSQL is mandatory in CI."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spendgate.db'}"
    else:
        with postgres_schema() as url:
            yield url
