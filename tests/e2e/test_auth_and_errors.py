"""Authentication, roles, rate limits, request ids, and the error object on every failure."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from tests.e2e.harness import Harness, harness


def test_missing_or_wrong_keys_are_401(lite: Harness) -> None:
    no_key = lite.client.get("/v1/orgs")
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "unauthorized"
    for header in ("Bearer sk_live_" + "0" * 64, "Bearer nonsense", "Basic abc",
                   "Bearer " + lite.keys["acme-live-admin"][:-1] + "0"):
        r = lite.client.get("/v1/orgs", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert set(r.json()["error"]) == {"type", "code", "message", "param"}


def test_a_revoked_key_stops_working(tmp_path: Path) -> None:
    with harness(f"sqlite:///{tmp_path / 'r.db'}", config_cache_s=0.0) as api:
        assert api.call("GET", "/v1/orgs").status_code == 200
        key = api.runtime.directory.list_keys("acme")[0]
        admin = next(k for k in api.runtime.directory.list_keys("acme")
                     if k.env == "live" and k.role.value == "admin")
        api.runtime.directory.revoke_key(admin.key_id)
        assert api.call("GET", "/v1/orgs").status_code == 401
        assert key.key_id


def test_roles_decide_what_a_key_may_do(lite: Harness) -> None:
    lite.tree()
    read = lite.call("POST", "/v1/reservations", {"org": "acme-org",
                                                  "items": [{"ref": "a", "amount": "1"}]},
                     who="acme-live-read")
    assert (read.status_code, read.json()["error"]["type"]) == (403, "forbidden")
    service = lite.call("PUT", "/v1/orgs/acme-org", {"name": "x"}, who="acme-live-service")
    assert service.status_code == 403
    assert lite.call("PUT", "/v1/settings", {}, who="acme-live-service").status_code == 403
    assert lite.call("GET", "/v1/orgs/acme-org", who="acme-live-read").status_code == 200
    ok = lite.call("POST", "/v1/reservations", {"org": "acme-org",
                                                "items": [{"ref": "a", "amount": "1"}]},
                   who="acme-live-service")
    assert ok.status_code == 200
    assert lite.ok("GET", "/v1/orgs/acme-org")["name"] == "acme-org"


def test_a_key_over_its_rate_is_429_with_retry_after(tmp_path: Path) -> None:
    with harness(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit_per_s=1,
                 rate_limit_burst=3) as api:
        answers = [api.call("GET", "/v1/orgs") for _ in range(5)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]
        limited = answers[-1]
        assert limited.status_code == 429
        assert limited.json()["error"]["type"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        # Another key has its own bucket.
        assert api.call("GET", "/v1/orgs", who="acme-live-read").status_code == 200


def test_request_ids_are_echoed_or_generated(lite: Harness) -> None:
    mine = lite.client.get("/healthz", headers={"X-Request-Id": "trace-42"})
    assert mine.headers["X-Request-Id"] == "trace-42"
    generated = lite.client.get("/healthz")
    assert generated.headers["X-Request-Id"].startswith("req_")
    bad = lite.client.get("/healthz", headers={"X-Request-Id": "x" * 500})
    assert bad.headers["X-Request-Id"].startswith("req_")


def test_unknown_routes_and_methods_answer_the_error_object(lite: Harness) -> None:
    missing = lite.call("GET", "/v1/nothing-here")
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "not_found")
    wrong = lite.call("DELETE", "/v1/orgs")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["type"] == "invalid_request"


def test_an_unexpected_failure_is_a_500_without_a_stack_trace(tmp_path: Path) -> None:
    boom = APIRouter()

    @boom.get("/v1/boom")
    async def explode() -> None:
        raise RuntimeError("secret internals")

    with harness(f"sqlite:///{tmp_path / 'b.db'}", routers=[boom]) as api:
        r = api.call("GET", "/v1/boom")
        assert r.status_code == 500
        assert r.json()["error"]["type"] == "internal"
        assert "secret internals" not in r.text
        assert "Traceback" not in r.text
        assert r.headers["X-Request-Id"]


def test_ops_endpoints_answer_without_a_key(lite: Harness) -> None:
    assert lite.client.get("/healthz").json() == {"status": "ok"}
    assert lite.client.get("/readyz").json() == {"status": "ready"}
    lite.tree()
    lite.ok("POST", "/v1/reservations", {"org": "acme-org",
                                         "items": [{"ref": "a", "amount": "1"}]})
    lite.ok("POST", "/v1/reservations", {"org": "acme-org",
                                         "items": [{"ref": "a", "amount": "1000"}]})
    text = lite.client.get("/metrics").text
    assert 'spendgate_http_requests_total{method="POST",route="/v1/reservations",' \
           'status="200"} 2.0' in text
    assert 'spendgate_reservation_decisions_total{level="org",outcome="denied"} 1.0' in text
    assert "spendgate_holds_outstanding 1.0" in text
    assert "spendgate_http_request_duration_seconds_bucket" in text
    assert "spendgate_reservations_expired_total 0.0" in text


def test_the_openapi_document_is_3_1_and_documents_errors(lite: Harness) -> None:
    doc = lite.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/v1/reservations"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ReserveRequest")
    for status in ("400", "401", "403", "404", "409", "422", "429", "500"):
        assert op["responses"][status]["content"]["application/json"]["schema"][
            "$ref"].endswith("/ErrorResponse")
    assert "ErrorResponse" in doc["components"]["schemas"]
    assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    listing = doc["paths"]["/v1/orgs"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"limit", "starting_after"}
