from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Harness, harness


@pytest.fixture
def api(store_url: str) -> Iterator[Harness]:
    """The app in-process over SQLite and PostgreSQL."""
    with harness(store_url) as h:
        yield h


@pytest.fixture
def lite(sqlite_url: str) -> Iterator[Harness]:
    """The app in-process over SQLite only (for breadth tests that need no second backend)."""
    with harness(sqlite_url) as h:
        yield h
