"""The client covers the API: every core operation in the app's OpenAPI document has a
typed method (through its Call), and the embedded gate answers it too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from spendgate.bootstrap import Runtime, build
from spendgate.client import EmbeddedGate
from spendgate.client import _calls as calls
from spendgate.config import Secret, Settings

# Operations outside the client's brief (sinks, webhooks, reconciliation, meters: reached with
# the generic `request()`) and operational endpoints.
NOT_COVERED = re.compile(r"^/(healthz|readyz|metrics)$|"
                         r"^/v1/(sinks|webhooks|webhook-endpoints|reconciliations|meters)")

CLIENT_CALLS = [
    calls.put_org("o"), calls.get_node("o"), calls.list_orgs(),
    calls.put_project("o", "p"), calls.get_node("o", "p"), calls.list_projects("o"),
    calls.put_user("o", "p", "u"), calls.get_node("o", "p", "u"), calls.list_users("o", "p"),
    calls.add_grant("o", "1"), calls.list_grants("o"), calls.balance("o"),
    calls.put_limit("l", org="o", amount="1", window="day"), calls.list_limits(),
    calls.status("o"), calls.status("o", "p"), calls.status("o", "p", "u"),
    calls.reserve("o", amount="1"), calls.commit("r", []), calls.release("r"),
    calls.get_reservation("r"),
    calls.create_rate_card_version("c", []), calls.get_rate_card("c"),
    calls.put_settings(), calls.get_settings(), calls.quote({"meter": "m", "n": 1}),
    calls.ingest_usage([]), calls.query_usage(),
]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    db = tmp_path_factory.mktemp("coverage") / "spendgate.db"
    runtime = build(Settings(database_url=Secret(f"sqlite:///{db}")))
    yield runtime
    runtime.close()


def operations(runtime: Runtime) -> list[tuple[str, str]]:
    found = []
    for template, ops in runtime.app.openapi()["paths"].items():
        if NOT_COVERED.search(template):
            continue
        for method in ops:
            if method in ("get", "put", "post", "delete", "patch"):
                found.append((method.upper(), template))
    return found


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def test_every_core_operation_has_a_typed_client_method(runtime: Runtime) -> None:
    ops = operations(runtime)
    assert len(ops) >= 25
    missing = [(m, t) for m, t in ops
               if not any(c.method == m and _pattern(t).match(c.path) for c in CLIENT_CALLS)]
    assert missing == []


def test_the_embedded_gate_answers_every_core_operation(runtime: Runtime,
                                                         tmp_path: Path) -> None:
    with EmbeddedGate.open(f"sqlite:///{tmp_path / 'e.db'}") as gate:
        routes = gate.api.routes
    missing = []
    for method, template in operations(runtime):
        concrete = re.sub(r"\{[^}]+\}", "x", template)
        if not any(m == method and p.match(concrete) for m, p in routes):
            missing.append((method, template))
    assert missing == []
