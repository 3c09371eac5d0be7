"""Sinks and webhooks over HTTP: configure, deliver, observe, receive, and alert out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from spendgate.bootstrap import optional_routers
from spendgate.sinks.stubs import FlexpriceStub
from spendgate.workers import SinkWorkers, WebhookWorkers
from tests.e2e.harness import Harness, harness
from tests.unit.webhooks.vendors import SVIX_SECRET, body_of, svix_headers


@pytest.fixture
def web(store_url: str) -> Iterator[Harness]:
    with harness(store_url, routers=optional_routers()) as h:
        yield h


@pytest.fixture
def stub() -> Iterator[tuple[FlexpriceStub, str]]:
    vendor = FlexpriceStub(api_key="fp-secret-key")
    with vendor.serve() as base_url:
        yield vendor, base_url


def _sink(base_url: str, **extra: object) -> dict[str, object]:
    return {"type": "flexprice", "api_key": "fp-secret-key", "base_url": base_url,
            "customer_ids": {"acme-org": "cus_acme"}, **extra}


def test_a_sink_is_configured_with_write_only_secrets_and_isolated(
        web: Harness, stub: tuple[FlexpriceStub, str]) -> None:
    created = web.call("PUT", "/v1/sinks/billing", _sink(stub[1], webhook_secret=SVIX_SECRET))
    assert created.status_code == 201
    assert "fp-secret-key" not in created.text and SVIX_SECRET not in created.text
    assert created.json()["api_key_set"] is True
    again = web.call("PUT", "/v1/sinks/billing", {"type": "flexprice", "base_url": stub[1]})
    assert again.status_code == 200 and again.json()["api_key_set"] is True, "secret kept"
    listed = web.ok("GET", "/v1/sinks")
    assert [s["name"] for s in listed["data"]] == ["billing"]
    bad = web.call("PUT", "/v1/sinks/x", {"type": "stripe", "api_key": "k"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "type"
    for who in ("rival-live-admin", "acme-test-admin"):
        missing = web.call("GET", "/v1/sinks/billing", who=who)
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found"
    assert web.call("PUT", "/v1/sinks/y", _sink(stub[1]), who="acme-live-read").status_code \
        == 403


def test_ingested_usage_reaches_the_vendor_and_the_status_says_so(
        web: Harness, stub: tuple[FlexpriceStub, str]) -> None:
    vendor, base_url = stub
    web.tree()
    web.ok("PUT", "/v1/sinks/billing", _sink(base_url))
    events = [{"id": f"evt-{i}", "org": "acme-org", "project": "studio", "amount": "0.25"}
              for i in range(40)]
    assert web.ok("POST", "/v1/usage", {"events": events}, status=202)["accepted"] == 40
    assert web.ok("GET", "/v1/sinks/billing/status")["lag_events"] == 40
    workers = SinkWorkers(web.runtime.store)
    try:
        workers.run_once()
    finally:
        workers.close()
    status = web.ok("GET", "/v1/sinks/billing/status")
    assert (status["lag_events"], status["delivered"], status["dead_lettered"]) == (0, 40, 0)
    accepted = vendor.accepted()
    assert set(accepted) == {f"evt-{i}" for i in range(40)}
    assert accepted["evt-0"]["external_customer_id"] == "cus_acme"
    assert Decimal(accepted["evt-0"]["properties"]["credits"]) == Decimal("0.25")

    replay = web.ok("POST", "/v1/sinks/billing/replay",
                    {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"})
    assert replay["queued"] == 40
    workers = SinkWorkers(web.runtime.store)
    try:
        workers.run_once()
    finally:
        workers.close()
    assert vendor.stored_rows() == 40, "a replay adds nothing at a vendor that has it"
    assert web.ok("POST", "/v1/sinks/billing/redrive")["redriven"] == 0


def _payment(status: str) -> bytes:
    return body_of({"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_9", "customer_id": "cus_acme", "payment_status": status,
        "invoice_type": "CREDIT", "currency": "usd", "amount_paid": "5.00",
        "paid_at": "2026-01-01T00:00:00Z"}})


def test_a_signed_payment_failure_suspends_the_org_and_bad_signatures_change_nothing(
        web: Harness, stub: tuple[FlexpriceStub, str]) -> None:
    web.tree()
    web.ok("PUT", "/v1/sinks/flexprice", _sink(stub[1], webhook_secret=SVIX_SECRET))
    body = _payment("FAILED")
    now = web.clock.now_ms()
    tampered = web.client.request("POST", "/v1/webhooks/flexprice", content=body + b" ",
                                  headers=svix_headers(body, at_ms=now))
    assert tampered.status_code == 400
    assert tampered.json()["error"]["code"] == "bad_signature"
    stale = web.client.request("POST", "/v1/webhooks/flexprice", content=body,
                               headers=svix_headers(body, at_ms=now - 3_600_000))
    assert stale.status_code == 400
    good = web.client.request("POST", "/v1/webhooks/flexprice", content=body,
                              headers=svix_headers(body, at_ms=now, msg_id="msg_1"))
    assert good.status_code == 200 and good.json()["duplicate"] is False
    dup = web.client.request("POST", "/v1/webhooks/flexprice", content=body,
                             headers=svix_headers(body, at_ms=now, msg_id="msg_1"))
    assert dup.status_code == 200 and dup.json()["duplicate"] is True
    unknown = web.client.request("POST", "/v1/webhooks/nope", content=body,
                                 headers=svix_headers(body, at_ms=now))
    assert unknown.status_code == 404

    WebhookWorkers(web.runtime.store, web.runtime.ledger, web.clock).run_once()
    assert web.ok("GET", "/v1/orgs/acme-org")["status"] == "suspended"
    res = web.ok("POST", "/v1/reservations", {"org": "acme-org", "project": "studio",
                                              "user": "ana", "items": [{"ref": "a",
                                                                        "amount": "1"}]})
    assert res["status"] == "denied"
    assert res["items"][0]["denied_by"]["reason"] == "suspended"


def test_endpoints_get_a_secret_once_and_list_their_deliveries(web: Harness) -> None:
    made = web.call("PUT", "/v1/webhook-endpoints/ops",
                    {"url": "http://127.0.0.1:9/hook", "events": ["org.suspended"]})
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    shown = web.ok("GET", "/v1/webhook-endpoints/ops")
    assert "secret" not in shown and secret not in json.dumps(shown)
    bad = web.call("PUT", "/v1/webhook-endpoints/ops", {"url": "ftp://x", "events": ["*"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "url"
    bad = web.call("PUT", "/v1/webhook-endpoints/ops",
                   {"url": "http://x", "events": ["nope.nope"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "events"

    web.tree()
    web.ok("PUT", "/v1/orgs/acme-org", {"status": "suspended"})
    workers = WebhookWorkers(web.runtime.store, web.runtime.ledger, web.clock)
    workers.run_once()  # the receiver is down: the attempt is logged and retried later
    workers.close()
    [delivery] = web.ok("GET", "/v1/webhook-endpoints/ops/deliveries")["data"]
    assert delivery["event_type"] == "org.suspended" and delivery["status"] == "pending"
    assert delivery["attempt_log"][0]["error"]
    assert web.call("GET", "/v1/webhook-endpoints/ops/deliveries",
                    who="rival-live-admin").status_code == 404


def test_a_meter_is_defined_and_read_over_http(web: Harness) -> None:
    web.tree()
    # Events given as amounts carry the meter "credits".
    web.ok("POST", "/v1/usage", {"events": [
        {"id": f"m{i}", "org": "acme-org", "project": "studio", "amount": "0.1"}
        for i in range(6)]}, status=202)
    made = web.call("PUT", "/v1/meters/spend-events", {"event_meter": "credits",
                                                       "aggregation": "count",
                                                       "group_by": ["project"]})
    assert made.status_code == 201
    got = web.ok("GET", "/v1/meters/spend-events/usage?org=acme-org&from=2020-01-01T00:00:00Z"
                        "&to=2030-01-01T00:00:00Z")
    assert got["data"] == [{"project": "studio", "value": "6", "events": 6}]
    assert web.call("GET", "/v1/meters/spend-events", who="rival-live-admin").status_code == 404
    bad = web.call("PUT", "/v1/meters/x", {"event_meter": "llm", "aggregation": "avg"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "aggregation"
