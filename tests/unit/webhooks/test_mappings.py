from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from spendgate.webhooks import (
    BalanceAlert,
    Ignored,
    InvoiceFinalized,
    PaymentFailed,
    PaymentSucceeded,
    Scheme,
    Signal,
    VerifiedDelivery,
    map_delivery,
)
from tests.unit.webhooks.vendors import LAGO_INVOICE_PAID, METRONOME_ALERT, NOW_MS

_ORGS = {"cus_acme": "acme"}


def ORGS(customer: str) -> str | None:
    return _ORGS.get(customer)


def delivered(event_type: str, payload: Mapping[str, object], ident: str = "d1"
              ) -> VerifiedDelivery:
    return VerifiedDelivery(ident, event_type, payload, NOW_MS, Scheme.STANDARD)


def fp(payload: Mapping[str, object]) -> tuple[Signal, ...]:
    return map_delivery("flexprice", delivered(str(payload["event_type"]), payload), ORGS)


def mn(payload: Mapping[str, object]) -> tuple[Signal, ...]:
    return map_delivery("metronome", delivered(str(payload["type"]), payload), ORGS)


def lg(payload: Mapping[str, object]) -> tuple[Signal, ...]:
    return map_delivery("lago", delivered(str(payload["webhook_type"]), payload), ORGS)


# Flexprice


def test_flexprice_invoice_paid_becomes_a_payment_succeeded_keyed_by_invoice() -> None:
    [signal] = fp({"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_1", "customer_id": "cus_acme", "payment_status": "SUCCEEDED",
        "invoice_type": "CREDIT", "currency": "usd", "amount_paid": "49.99",
        "paid_at": "2026-01-01T00:00:00Z"}})
    assert signal == PaymentSucceeded("acme", "cus_acme", "invoice:inv_1", Decimal("49.99"),
                                      "USD", "credit", NOW_MS, "d1")
    assert signal.key == "payment_succeeded:invoice:inv_1"


def test_flexprice_invoice_payment_failure_becomes_payment_failed() -> None:
    [signal] = fp({"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_1", "customer_id": "cus_acme", "payment_status": "FAILED"}})
    assert isinstance(signal, PaymentFailed)
    assert (signal.org, signal.payment_ref) == ("acme", "invoice:inv_1")


def test_flexprice_pending_payment_is_ignored() -> None:
    [signal] = fp({"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_1", "customer_id": "cus_acme", "payment_status": "PENDING"}})
    assert isinstance(signal, Ignored)


def test_flexprice_overdue_invoice_suspends() -> None:
    [signal] = fp({"event_type": "invoice.payment.overdue", "invoice": {
        "id": "inv_2", "customer_id": "cus_acme"}})
    assert isinstance(signal, PaymentFailed) and signal.reason == "overdue"


def test_flexprice_finalized_invoice_is_recorded_with_its_period() -> None:
    [signal] = fp({"event_type": "invoice.update.finalized", "invoice": {
        "id": "inv_3", "customer_id": "cus_acme", "currency": "eur", "total": "120.5",
        "period_start": "2025-12-01T00:00:00Z", "period_end": "2026-01-01T00:00:00Z",
        "finalized_at": "2026-01-01T00:00:00Z"}})
    assert isinstance(signal, InvoiceFinalized)
    assert (signal.total, signal.currency) == (Decimal("120.5"), "EUR")
    assert signal.period_end_ms == NOW_MS and signal.period_start_ms == NOW_MS - 31 * 86_400_000


def test_flexprice_wallet_balance_drop_becomes_a_balance_alert() -> None:
    [signal] = fp({"event_type": "wallet.ongoing_balance.dropped",
                   "wallet": {"id": "w1", "customer_id": "cus_acme", "balance": "3",
                              "credit_balance": "300", "currency": "usd"},
                   "alert": {"state": "in_alarm", "current_balance": "3",
                             "credit_balance": "300", "alert_type": "ongoing_balance"}})
    assert isinstance(signal, BalanceAlert)
    assert signal.kind == "wallet_low"
    assert signal.details["alert_state"] == "in_alarm"
    assert signal.details["credit_balance"] == "300"


def test_flexprice_payment_events_name_no_customer_and_are_ignored() -> None:
    [signal] = fp({"event_type": "payment.success", "payment": {"id": "pay_1",
                                                                  "destination_id": "inv_1"}})
    assert isinstance(signal, Ignored)


def test_an_unknown_customer_is_ignored_not_an_error() -> None:
    [signal] = fp({"event_type": "invoice.update.payment", "invoice": {
        "id": "inv_1", "customer_id": "cus_stranger", "payment_status": "SUCCEEDED"}})
    assert isinstance(signal, Ignored) and "cus_stranger" in signal.reason


def test_an_unknown_event_type_is_ignored() -> None:
    [signal] = fp({"event_type": "subscription.created", "subscription": {}})
    assert signal == Ignored("subscription.created", "not an event Spendgate acts on")


# Metronome


def test_metronome_alert_becomes_a_balance_alert() -> None:
    [signal] = mn(METRONOME_ALERT)
    assert isinstance(signal, BalanceAlert)
    assert signal.kind == "low_remaining_credit_balance_reached"
    assert signal.details["remaining_balance"] == "5000"
    assert signal.occurred_ms == NOW_MS - 60_000


def test_metronome_resolved_alerts_are_ignored() -> None:
    [signal] = mn({"id": "x", "type": "alerts.spend_threshold_reached_resolved",
                   "properties": {"customer_id": "cus_acme"}})
    assert isinstance(signal, Ignored)


def test_metronome_paid_payment_gate_lifts_suspension_without_a_grant_unless_amounted() -> None:
    [signal] = mn({"id": "x", "type": "payment_gate.payment_status", "properties": {
        "customer_id": "cus_acme", "invoice_id": "inv_9", "payment_status": "paid"}})
    assert isinstance(signal, PaymentSucceeded)
    assert signal.amount is None and signal.payment_ref == "payment_gate:inv_9"


def test_metronome_failed_payment_gate_suspends() -> None:
    [signal] = mn({"id": "x", "type": "payment_gate.payment_status", "properties": {
        "customer_id": "cus_acme", "invoice_id": "inv_9", "payment_status": "failed",
        "error_message": "card_declined"}})
    assert isinstance(signal, PaymentFailed) and signal.reason == "card_declined"


def test_metronome_finalized_invoice_is_recorded() -> None:
    [signal] = mn({"id": "x", "type": "invoice.finalized", "properties": {
        "customer_id": "cus_acme", "invoice_id": "inv_7"}})
    assert isinstance(signal, InvoiceFinalized) and signal.invoice_ref == "invoice:inv_7"


def test_metronome_system_events_are_ignored() -> None:
    [signal] = mn({"id": "x", "type": "contract.create"})
    assert isinstance(signal, Ignored)


# Lago


def test_lago_invoice_paid_grants_the_total_in_major_units() -> None:
    [signal] = lg(LAGO_INVOICE_PAID)
    assert isinstance(signal, PaymentSucceeded)
    assert (signal.amount, signal.currency, signal.invoice_kind) == (Decimal("120.50"), "EUR",
                                                                     "credit")
    assert signal.payment_ref == "invoice:inv-uuid-1"


def test_lago_amounts_respect_zero_decimal_currencies() -> None:
    payload = {**LAGO_INVOICE_PAID, "invoice": {**LAGO_INVOICE_PAID["invoice"],  # type: ignore[dict-item]
                                                "currency": "JPY", "total_amount_cents": 1200}}
    [signal] = lg(payload)
    assert isinstance(signal, PaymentSucceeded) and signal.amount == Decimal("1200")


def test_lago_payment_succeeded_only_lifts_suspension() -> None:
    [signal] = lg({"webhook_type": "payment.succeeded", "object_type": "payment", "payment": {
        "lago_id": "pay-1", "external_customer_id": "cus_acme", "amount_cents": 1099,
        "amount_currency": "USD", "payment_status": "succeeded"}})
    assert isinstance(signal, PaymentSucceeded) and signal.amount is None


def test_lago_invoice_payment_failure_suspends_with_the_provider_message() -> None:
    [signal] = lg({"webhook_type": "invoice.payment_failure",
                   "object_type": "payment_provider_invoice_payment_error",
                   "payment_provider_invoice_payment_error": {
                       "lago_invoice_id": "inv-2", "external_customer_id": "cus_acme",
                       "provider_error": {"message": "Your card was declined."}}})
    assert isinstance(signal, PaymentFailed)
    assert (signal.payment_ref, signal.reason) == ("invoice:inv-2", "Your card was declined.")


def test_lago_invoice_created_is_recorded_as_finalized() -> None:
    [signal] = lg({"webhook_type": "invoice.created", "object_type": "invoice", "invoice": {
        "lago_id": "inv-3", "status": "finalized", "currency": "USD",
        "total_amount_cents": 120, "from_date": "2025-12-01", "to_date": "2025-12-31",
        "customer": {"external_id": "cus_acme"}}})
    assert isinstance(signal, InvoiceFinalized) and signal.total == Decimal("1.20")


def test_lago_draft_invoices_are_ignored() -> None:
    [signal] = lg({"webhook_type": "invoice.created", "object_type": "invoice",
                   "invoice": {"lago_id": "inv-3", "status": "draft"}})
    assert isinstance(signal, Ignored)


def test_lago_depleted_wallet_becomes_a_balance_alert() -> None:
    [signal] = lg({"webhook_type": "wallet.depleted_ongoing_balance", "object_type": "wallet",
                   "wallet": {"lago_id": "w-1", "external_customer_id": "cus_acme",
                              "ongoing_balance_cents": 0, "credits_ongoing_balance": "0.0"}})
    assert isinstance(signal, BalanceAlert) and signal.kind == "wallet_depleted"


def test_lago_triggered_alert_becomes_a_balance_alert() -> None:
    [signal] = lg({"webhook_type": "alert.triggered", "object_type": "triggered_alert",
                   "triggered_alert": {"lago_alert_id": "a-1", "external_customer_id": "cus_acme",
                                       "alert_type": "current_usage_amount",
                                       "current_value": 1200, "previous_value": 900}})
    assert isinstance(signal, BalanceAlert) and signal.details["current_value"] == "1200"
