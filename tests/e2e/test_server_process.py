"""The real thing: `spendgate serve` (uvicorn) in its own process, keys from the CLI, over HTTP,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.server import cli, serve


def test_a_journey_over_a_real_server_process(store_url: str, tmp_path: Path) -> None:
    cli("migrate", database_url=store_url)
    with serve(store_url, tmp_path / "serve.log") as server:
        assert "Created tenant default" in server.log.read_text()
        made = cli("keys", "create", "--tenant", "default", "--env", "live", "--role",
                   "admin", database_url=store_url)
        key = made.stdout.strip()
        assert key.startswith("sk_live_") and made.stdout == key + "\n"
        http = httpx.Client(base_url=server.url, timeout=10,
                            headers={"Authorization": f"Bearer {key}"})
        assert http.put("/v1/orgs/acme", json={"name": "Acme"}).status_code == 201
        assert http.put("/v1/orgs/acme/projects/studio", json={}).status_code == 201
        assert http.put("/v1/orgs/acme/projects/studio/users/ana", json={}).status_code == 201
        assert http.post("/v1/orgs/acme/grants", json={"amount": "10"}).status_code == 201
        body = {"org": "acme", "project": "studio", "user": "ana",
                "items": [{"ref": "shot-1", "amount": "2.5"}]}

        def reserve(_: int) -> httpx.Response:
            return http.post("/v1/reservations", json=body,
                             headers={"Idempotency-Key": "once", "X-Request-Id": "rq-1"})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(reserve, range(8)))
        assert len({a.text for a in answers}) == 1
        assert {a.headers["X-Request-Id"] for a in answers} == {"rq-1"}
        res = answers[0].json()
        assert res["status"] == "held" and res["items"][0]["amount"] == "2.500000000"
        committed = http.post(f"/v1/reservations/{res['id']}/commit",
                              json={"items": [{"ref": "shot-1", "amount": "2"}]})
        assert committed.json()["status"] == "committed"
        denied = http.post("/v1/reservations", json={**body, "items": [
            {"ref": "big", "amount": "9"}]}).json()
        assert denied["items"][0]["denied_by"]["reason"] == "insufficient_funds"
        balance = http.get("/v1/orgs/acme/balance").json()
        assert (balance["spent"], balance["held"], balance["available"]) == (
            "2.000000000", "0.000000000", "8.000000000")
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'route="/v1/reservations"' in metrics
        bad = http.post("/v1/orgs/acme/grants", json={"amount": "1e3"})
        assert (bad.status_code, bad.json()["error"]["param"]) == (422, "amount")
    lines = [json.loads(line) for line in server.log.read_text().splitlines()
             if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "spendgate.access"]
    assert any(line.get("request_id") == "rq-1" for line in access)
    assert all(key not in json.dumps(line) for line in lines)
    verified = cli("verify", database_url=store_url)
    assert verified.returncode == 0


def test_serve_refuses_an_unreachable_database_with_advice(tmp_path: Path) -> None:
    result = cli("serve", "--port", "1", database_url="mysql://nowhere", check=False)
    assert result.returncode == 2
    assert "sqlite:///" in result.stderr


def test_two_replicas_over_one_postgres_share_idempotency_and_state(
        pg_url: str, tmp_path: Path) -> None:
    cli("tenants", "create", "acme-co", database_url=pg_url)
    key = cli("keys", "create", "--tenant", "acme-co", "--env", "live", "--role", "admin",
              database_url=pg_url)
    with serve(pg_url, tmp_path / "a.log") as a, serve(pg_url, tmp_path / "b.log") as b:
        auth = {"Authorization": f"Bearer {key.stdout.strip()}"}
        ha = httpx.Client(base_url=a.url, headers=auth, timeout=10)
        hb = httpx.Client(base_url=b.url, headers=auth, timeout=10)
        assert ha.put("/v1/orgs/acme", json={}).status_code == 201
        assert hb.post("/v1/orgs/acme/grants", json={"amount": "10"}).status_code == 201
        body = {"org": "acme", "items": [{"ref": "a", "amount": "4"}]}

        def reserve(i: int) -> httpx.Response:
            return (ha if i % 2 else hb).post("/v1/reservations", json=body,
                                              headers={"Idempotency-Key": "both"})

        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(reserve, range(10)))
        assert {r.status_code for r in answers} == {200}
        assert len({r.text for r in answers}) == 1
        res = answers[0].json()
        assert ha.get("/v1/orgs/acme/balance").json()["held"] == "4.000000000"
        # Committed through the replica that may not have seen the reserve.
        committed = hb.post(f"/v1/reservations/{res['id']}/commit",
                            json={"items": [{"ref": "a", "amount": "3"}]})
        assert committed.json()["status"] == "committed"
        again = ha.post(f"/v1/reservations/{res['id']}/commit",
                        json={"items": [{"ref": "a", "amount": "3"}]})
        assert again.status_code == 409
        assert hb.get("/v1/orgs/acme/balance").json()["spent"] == "3.000000000"
