"""Flexprice payloads (`{"event_type", "<entity>": {...}}`) onto signals.

Payment success and failure come from `invoice.update.payment`, whose invoice carries the
customer; `payment.*` bodies name no customer, so they are ignored here.
"""

from __future__ import annotations

from collections.abc import Mapping

from spendgate.webhooks.delivery import VerifiedDelivery
from spendgate.webhooks.mapping._fields import (
    OrgResolver,
    decimal,
    details,
    obj,
    text,
    time_ms,
)
from spendgate.webhooks.signals import (
    BalanceAlert,
    Ignored,
    InvoiceFinalized,
    PaymentFailed,
    PaymentSucceeded,
    Signal,
)

_WALLET_ALERTS = {
    "wallet.credit_balance.dropped": "wallet_low",
    "wallet.ongoing_balance.dropped": "wallet_low",
    "feature.wallet_balance.alert": "wallet_low",
    "subscription.spend.threshold_reached": "spend_threshold_reached",
    "subscription.line_item_spend.threshold_reached": "spend_threshold_reached",
    "subscription.group_spend.threshold_reached": "spend_threshold_reached",
}


def map_flexprice(delivery: VerifiedDelivery, resolve: OrgResolver) -> tuple[Signal, ...]:
    event = delivery.event_type
    p = delivery.payload
    if event == "invoice.update.payment":
        return _invoice_payment(delivery, resolve)
    if event == "invoice.payment.overdue":
        invoice = obj(p, "invoice")
        return _failed(delivery, resolve, invoice, reason="overdue")
    if event == "invoice.update.finalized":
        return _finalized(delivery, resolve)
    if event in _WALLET_ALERTS:
        return _alert(delivery, resolve, _WALLET_ALERTS[event])
    if event.startswith("payment."):
        return (Ignored(event, "payment bodies name no customer; see invoice.update.payment"),)
    return (Ignored(event, "not an event Spendgate acts on"),)


def _invoice_payment(delivery: VerifiedDelivery, resolve: OrgResolver) -> tuple[Signal, ...]:
    invoice = obj(delivery.payload, "invoice")
    status = (text(invoice, "payment_status") or "").upper()
    if status == "SUCCEEDED":
        owner = _owner(delivery, resolve, invoice)
        if isinstance(owner, Ignored):
            return (owner,)
        org, customer, invoice_id = owner
        currency = text(invoice, "currency")
        return (PaymentSucceeded(
            org=org,
            customer_id=customer,
            payment_ref=f"invoice:{invoice_id}",
            amount=decimal(invoice.get("amount_paid")),
            currency=currency.upper() if currency else None,
            invoice_kind=(text(invoice, "invoice_type") or "").lower() or None,
            occurred_ms=time_ms(invoice.get("paid_at")) or delivery.received_ms,
            delivery_id=delivery.delivery_id,
        ),)
    if status == "FAILED":
        return _failed(delivery, resolve, invoice, reason="payment_failed")
    return (Ignored(delivery.event_type, f"invoice payment status {status or 'missing'}"),)


def _owner(delivery: VerifiedDelivery, resolve: OrgResolver,
           invoice: Mapping[str, object]) -> tuple[str, str, str] | Ignored:
    """(org, vendor customer, invoice id) of an invoice, or why it is ignored."""
    customer, invoice_id = text(invoice, "customer_id"), text(invoice, "id")
    if customer is None or invoice_id is None:
        return Ignored(delivery.event_type, "invoice without customer_id or id")
    org = resolve(customer)
    if org is None:
        return Ignored(delivery.event_type, f"unknown customer {customer}")
    return org, customer, invoice_id


def _failed(
    delivery: VerifiedDelivery, resolve: OrgResolver, invoice: Mapping[str, object], *, reason: str
) -> tuple[Signal, ...]:
    owner = _owner(delivery, resolve, invoice)
    if isinstance(owner, Ignored):
        return (owner,)
    org, customer, invoice_id = owner
    return (PaymentFailed(
        org=org,
        customer_id=customer,
        payment_ref=f"invoice:{invoice_id}",
        reason=reason,
        occurred_ms=delivery.received_ms,
        delivery_id=delivery.delivery_id,
    ),)


def _finalized(delivery: VerifiedDelivery, resolve: OrgResolver) -> tuple[Signal, ...]:
    invoice = obj(delivery.payload, "invoice")
    owner = _owner(delivery, resolve, invoice)
    if isinstance(owner, Ignored):
        return (owner,)
    org, customer, invoice_id = owner
    currency = text(invoice, "currency")
    return (InvoiceFinalized(
        org=org,
        customer_id=customer,
        invoice_ref=f"invoice:{invoice_id}",
        total=decimal(invoice.get("total")),
        currency=currency.upper() if currency else None,
        period_start_ms=time_ms(invoice.get("period_start")),
        period_end_ms=time_ms(invoice.get("period_end")),
        occurred_ms=time_ms(invoice.get("finalized_at")) or delivery.received_ms,
        delivery_id=delivery.delivery_id,
    ),)


def _alert(delivery: VerifiedDelivery, resolve: OrgResolver, kind: str) -> tuple[Signal, ...]:
    p = delivery.payload
    entity = obj(p, "wallet") or obj(p, "subscription") or obj(p, "feature")
    customer = text(entity, "customer_id")
    if customer is None:
        return (Ignored(delivery.event_type, "alert without a customer_id"),)
    org = resolve(customer)
    if org is None:
        return (Ignored(delivery.event_type, f"unknown customer {customer}"),)
    info = {
        "vendor_event": delivery.event_type,
        **details(entity, "id", "currency", "balance", "credit_balance", "wallet_status"),
        **{f"alert_{k}": v for k, v in details(
            obj(p, "alert"), "state", "alert_type", "current_balance", "credit_balance"
        ).items()},
    }
    return (BalanceAlert(org, customer, kind, info, delivery.received_ms, delivery.delivery_id),)
