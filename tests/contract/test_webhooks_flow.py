"""Webhooks over a real store: signals in change the ledger once; alerts out are signed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from spendgate.domain.clock import SystemClock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import AddGrant, ItemRequest, PutLimit, Reserve, UpsertOrg
from spendgate.ledger.engine import Ledger
from spendgate.pricing import CreditValue
from spendgate.stores import open_store
from spendgate.stores.port import Store
from spendgate.stores.webhooks import EndpointRepository, SqlDeliveryLog, SqlInbox
from spendgate.webhooks.actions import SignalActions
from spendgate.webhooks.intake import WebhookSource, process_pending, receive
from spendgate.webhooks.outbound.deliverer import Deliverer
from spendgate.webhooks.outbound.log import Endpoint
from tests.unit.webhooks.vendors import SVIX_SECRET, body_of, svix_headers

S = Scope("acme-inc", "live")
CREDIT = 10**9


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def test_thresholds_fire_once_each_under_32_concurrent_reservers(store: Store) -> None:
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.add_grant(S, AddGrant("acme", 1000 * CREDIT))
        ledger.put_limit(S, PutLimit("budget", NodePath("acme"), "credits", 100 * CREDIT,
                                     "month", "hard",
                                     (Decimal("0.5"), Decimal("0.8"), Decimal("1"))))
        barrier = threading.Barrier(32)
        statuses: list[str] = []

        def reserver() -> None:
            barrier.wait()
            res = ledger.reserve(S, Reserve(NodePath("acme"), (
                ItemRequest("x", (Charge(4 * CREDIT),)),), 60_000))
            statuses.append(res.status.value)

        threads = [threading.Thread(target=reserver) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count("held") == 25
    fired = SqlDeliveryLog(store).events(S, "limit.threshold_reached")
    assert sorted(e.data["threshold"] for e in fired) == ["0.5", "0.8", "1"]  # type: ignore[type-var]


def _deliver(store: Store, ledger: Ledger, payload: dict[str, Any], msg_id: str) -> int:
    now = SystemClock().now_ms()
    body = body_of(payload)
    source = WebhookSource(S.tenant, S.env, "flexprice", "flexprice", secrets=(SVIX_SECRET,))
    inbox = SqlInbox(store)
    receive(source, svix_headers(body, msg_id=msg_id, at_ms=now), body, source_ip="127.0.0.1",
            now_ms=now, inbox=inbox)
    return process_pending(
        inbox, resolver=lambda _record: {"cus_acme": "acme"}.get,
        apply=SignalActions(ledger, SystemClock(), {S: CreditValue("USD", Decimal("0.01"))}),
        now_ms=now)


def _invoice(status: str) -> dict[str, Any]:
    return {"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_7", "customer_id": "cus_acme", "payment_status": status,
        "invoice_type": "CREDIT", "currency": "usd", "amount_paid": "12.50",
        "paid_at": "2026-11-23T00:00:00Z"}}


def test_payment_failure_suspends_and_a_later_success_grants_once_and_reinstates(
        store: Store) -> None:
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.add_grant(S, AddGrant("acme", 10 * CREDIT))
        assert _deliver(store, ledger, _invoice("FAILED"), "msg_fail") == 1
        res = ledger.reserve(S, Reserve(NodePath("acme"), (ItemRequest("x", (Charge(1),)),),
                                        1000))
        assert res.items[0].denied_by is not None
        assert res.items[0].denied_by.reason == "suspended"

        for msg in ("msg_ok_1", "msg_ok_2", "msg_ok_3"):  # the vendor sends it three times
            _deliver(store, ledger, _invoice("SUCCEEDED"), msg)
        assert _deliver(store, ledger, _invoice("SUCCEEDED"), "msg_ok_1") == 0, "a duplicate"
        grants = ledger.grants(S, "acme")
        assert sorted(g.amount for g in grants) == [10 * CREDIT, 1250 * CREDIT]
        assert ledger.get_node(S, NodePath("acme")).status == "active"
        res = ledger.reserve(S, Reserve(NodePath("acme"), (ItemRequest("x", (Charge(1),)),),
                                        1000))
        assert res.status == "held"
        assert ledger.verify() == []
    kinds = [e.type for e in SqlDeliveryLog(store).events(S)]
    assert kinds.count("org.suspended") == 1 and kinds.count("org.reinstated") == 1


def test_a_manual_suspension_is_not_lifted_by_a_payment(store: Store) -> None:
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme", status="suspended"))
        _deliver(store, ledger, _invoice("SUCCEEDED"), "msg_ok")
        assert ledger.get_node(S, NodePath("acme")).status == "suspended"


class _Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - one receiver per test

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        payload = Webhook(self.secret).verify(body.decode(), dict(self.headers))
        self.seen[self.headers["webhook-id"]] = payload
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_alerts_reach_a_subscribed_endpoint_signed_per_standard_webhooks(store: Store) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    _Receiver.secret, _Receiver.seen = secret, {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        EndpointRepository(store).put(S, Endpoint("ep1", S.tenant, S.env, url,
                                                  frozenset({"org.suspended"}), (secret,)), 0)
        with Ledger(store) as ledger:
            ledger.upsert_org(S, UpsertOrg("acme", status="suspended"))
        log = SqlDeliveryLog(store)
        assert log.fan_out_pending(SystemClock().now_ms()) == 1
        with httpx.Client() as client:
            assert Deliverer(log, client, SystemClock()).run_once().succeeded == 1
        [payload] = _Receiver.seen.values()
        assert payload["type"] == "org.suspended" and payload["data"]["org"] == "acme"
        [delivery] = EndpointRepository(store).deliveries(S, "ep1")
        assert delivery["status"] == "succeeded" and delivery["attempt_log"][0]["response_code"] \
            == 204
        assert json.dumps(payload)  # the body is plain JSON
    finally:
        server.shutdown()
