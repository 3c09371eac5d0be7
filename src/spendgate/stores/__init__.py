"""Adapters of the Store port; `open_store` picks one from a database URL."""

from __future__ import annotations

from spendgate.errors import InvalidRequest
from spendgate.stores.migrations import migrate
from spendgate.stores.port import Store


def open_store(url: str, *, run_migrations: bool = True) -> Store:
    """sqlite:///path/file.db (the embedded default) or postgresql://..."""
    store: Store
    if url.startswith("sqlite:///"):
        from spendgate.stores.sqlite.store import SqliteStore

        store = SqliteStore(url[len("sqlite:///"):])
    elif url.startswith(("postgresql://", "postgres://")):
        from spendgate.stores.postgres.store import PostgresStore

        store = PostgresStore(url)
    else:
        raise InvalidRequest(
            f"unsupported database URL {url.split(':', 1)[0]}:...; use sqlite:///path.db "
            "or postgresql://user@host:5432/db", param="database_url")
    if run_migrations:
        migrate(store)
    return store


__all__ = ["Store", "migrate", "open_store"]
