"""Versioned schema migrations: numbered SQL files, applied once, in order, on every backend.

One set of files serves SQLite and PostgreSQL; the one difference between their dialects
that the schema needs (an auto-increment key) is translated here.
"""

from __future__ import annotations

from importlib import resources

from spendgate.stores.port import Store

_POSTGRES = {
    "INTEGER PRIMARY KEY AUTOINCREMENT": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}


def _scripts(dialect: str) -> list[tuple[str, str]]:
    folder = resources.files("spendgate.stores.schema")
    scripts = sorted((f.name[:-4], f.read_text()) for f in folder.iterdir()
                     if f.name.endswith(".sql"))
    if dialect == "postgres":
        for sqlite_text, pg_text in _POSTGRES.items():
            scripts = [(v, text.replace(sqlite_text, pg_text)) for v, text in scripts]
    return scripts


def _statements(script: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def migrate(store: Store, clock_ms: int = 0) -> list[str]:
    """Apply every migration the database lacks; returns the versions applied."""
    applied: list[str] = []
    with store.transaction() as tx:
        if store.dialect.name == "postgres":
            tx.execute("SELECT pg_advisory_xact_lock(7350101)")
        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                   "(version TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
        done = {r[0] for r in tx.all("SELECT version FROM schema_migrations")}
        for version, script in _scripts(store.dialect.name):
            if version in done:
                continue
            for statement in _statements(script):
                tx.execute(statement)
            tx.execute("INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)",
                       (version, clock_ms))
            applied.append(version)
    return applied


def pending(store: Store) -> list[str]:
    with store.read() as tx:
        try:
            done = {r[0] for r in tx.all("SELECT version FROM schema_migrations")}
        except Exception:
            done = set()
    return [v for v, _ in _scripts(store.dialect.name) if v not in done]
