"""The CLI: tenants, keys (only the key on stdout), verify, and clear messages.

In-process through Typer's runner (fast); the real-process path is covered by
test_server_process.py, which creates its key with the installed `spendgate` script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from spendgate.cli import app


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, database_url: str, check: bool = True) -> Ran:
    result = CliRunner().invoke(app, [*args, "--database-url", database_url])
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    if check:
        assert ran.returncode == 0, (args, ran)
    return ran


def test_keys_create_prints_only_the_key_and_it_authenticates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli("tenants", "create", "acme", database_url=url).returncode == 0
    made = cli("keys", "create", "--tenant", "acme", "--env", "test", "--role", "read",
               database_url=url)
    key = made.stdout.strip()
    assert made.stdout == f"{key}\n" and key.startswith("sk_test_")
    assert key not in made.stderr
    from spendgate.stores import open_store
    from spendgate.tenancy import Directory

    store = open_store(url)
    try:
        found = Directory(store).authenticate(key)
        assert (found.tenant, found.env, found.role.value) == ("acme", "test", "read")
        with store.read() as tx:
            assert key not in str(tx.all("SELECT * FROM api_keys"))
    finally:
        store.close()
    listed = cli("keys", "list", "--tenant", "acme", database_url=url).stdout
    assert "read" in listed and key not in listed


def test_mistakes_say_what_to_do_next_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    missing = cli("keys", "create", "--tenant", "ghost", database_url=url, check=False)
    assert missing.returncode == 2 and "no such tenant" in missing.stderr
    assert missing.stdout == ""
    cli("tenants", "create", "acme", database_url=url)
    twice = cli("tenants", "create", "acme", database_url=url, check=False)
    assert twice.returncode == 2 and "already exists" in twice.stderr
    role = cli("keys", "create", "--tenant", "acme", "--role", "owner", database_url=url,
               check=False)
    assert role.returncode == 2 and "role" in role.stderr


def test_verify_reports_a_consistent_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = cli("verify", database_url=url)
    assert result.returncode == 0
    assert "every balance matches" in result.stderr


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert "Applied" in cli("migrate", database_url=url).stderr
    assert "up to date" in cli("migrate", database_url=url).stderr


def test_reconcile_and_demo_are_mounted() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in ("serve", "migrate", "tenants", "keys", "verify", "demo", "reconcile"):
        assert command in top.stdout
    assert runner.invoke(app, ["reconcile", "--help"]).exit_code == 0
    assert runner.invoke(app, ["demo", "--help"]).exit_code == 0
