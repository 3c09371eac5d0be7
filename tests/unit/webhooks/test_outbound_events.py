from __future__ import annotations

import json
from decimal import Decimal

import pytest

from spendgate.webhooks import BalanceAlert
from spendgate.webhooks.outbound import (
    CATALOGUE,
    Endpoint,
    OutboundEvent,
    fan_out,
    forwarded_alert,
    limit_threshold_reached,
    new_event,
    reservation_expired,
)
from tests.unit.webhooks.vendors import NOW_MS


def test_the_catalogue_is_exactly_the_issue_list() -> None:
    assert {
        "limit.threshold_reached", "limit.exceeded", "wallet.low_balance", "org.suspended",
        "org.reinstated", "reservation.expired", "sink.dead_lettered",
        "reconciliation.discrepancy",
    } == CATALOGUE


def test_a_body_is_type_timestamp_and_data_with_amounts_as_decimal_strings() -> None:
    event = limit_threshold_reached(
        limit_id="lim_1", org="acme", project="studio", user=None, meter="credits",
        threshold=Decimal("0.80"), limit_amount=100 * 10**9, used=80 * 10**9 + 1,
        window_start_ms=NOW_MS, now_ms=NOW_MS + 1000)
    body = json.loads(event.body())
    assert body == {
        "type": "limit.threshold_reached",
        "timestamp": "2026-01-01T00:00:01.000Z",
        "data": {"limit_id": "lim_1", "org": "acme", "project": "studio", "user": None,
                 "meter": "credits", "threshold": "0.8", "amount": "100.000000000",
                 "used": "80.000000001", "window_start": "2026-01-01T00:00:00.000Z"},
    }
    assert event.id.startswith("evt_")


def test_an_event_body_is_the_same_bytes_every_time() -> None:
    event = reservation_expired(reservation_id="res_1", org="acme", project=None, user=None,
                                amount=5, expired_ms=NOW_MS, now_ms=NOW_MS)
    assert event.body() == event.body()


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(ValueError):
        new_event("limit.almost", {}, now_ms=NOW_MS)


def test_fan_out_makes_one_delivery_per_subscribed_enabled_endpoint() -> None:
    event = reservation_expired(reservation_id="res_1", org="acme", project=None, user=None,
                                amount=5, expired_ms=NOW_MS, now_ms=NOW_MS)
    endpoints = [
        Endpoint("we_all", "t1", "live", "http://a", frozenset({"*"}), ("whsec_x",)),
        Endpoint("we_res", "t1", "live", "http://b", frozenset({"reservation.expired"}),
                 ("whsec_y",)),
        Endpoint("we_lim", "t1", "live", "http://c", frozenset({"limit.exceeded"}), ("whsec_z",)),
        Endpoint("we_off", "t1", "live", "http://d", frozenset({"*"}), ("whsec_w",),
                 enabled=False),
    ]
    deliveries = fan_out(event, endpoints, now_ms=NOW_MS)
    assert [d.id for d in deliveries] == [f"we_all:{event.id}", f"we_res:{event.id}"]
    assert {d.event_id for d in deliveries} == {event.id}
    assert all(d.next_attempt_ms == NOW_MS for d in deliveries)


def test_a_forwarded_vendor_alert_keeps_one_event_id_however_often_it_is_processed() -> None:
    alert = BalanceAlert("acme", "cus_acme", "wallet_low", {"balance": "3"}, NOW_MS, "msg_1")
    first = forwarded_alert(alert, sink="fp", now_ms=NOW_MS)
    again = forwarded_alert(alert, sink="fp", now_ms=NOW_MS + 5000)
    assert first.id == again.id and first.type == "wallet.low_balance"
    assert json.loads(first.body())["data"]["source"] == "sink:fp"


def test_an_event_survives_the_round_trip_through_an_outbox_row() -> None:
    event = reservation_expired(reservation_id="res_1", org="acme", project="p", user="u",
                                amount=5, expired_ms=NOW_MS, now_ms=NOW_MS + 7)
    again = OutboundEvent.from_body(event.id, event.body())
    assert again == event and again.body() == event.body()
