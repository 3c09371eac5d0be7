"""Metronome envelopes (`{"id", "type", "properties": {...}}`) onto signals."""

from __future__ import annotations

from spendgate.webhooks.delivery import VerifiedDelivery
from spendgate.webhooks.mapping._fields import OrgResolver, decimal, details, obj, text, time_ms
from spendgate.webhooks.signals import (
    BalanceAlert,
    Ignored,
    InvoiceFinalized,
    PaymentFailed,
    PaymentSucceeded,
    Signal,
)


def map_metronome(delivery: VerifiedDelivery, resolve: OrgResolver) -> tuple[Signal, ...]:
    event = delivery.event_type
    props = obj(delivery.payload, "properties")
    customer = text(props, "customer_id")
    known = event == "payment_gate.payment_status" or event == "invoice.finalized" or (
        event.startswith("alerts.") and not event.endswith("_resolved")
    )
    if not known:
        return (Ignored(event, "not an event Spendgate acts on"),)
    if customer is None:
        return (Ignored(event, "properties without customer_id"),)
    org = resolve(customer)
    if org is None:
        return (Ignored(event, f"unknown customer {customer}"),)
    when = time_ms(props.get("timestamp")) or delivery.received_ms

    if event == "payment_gate.payment_status":
        ref_id = text(props, "invoice_id", "workflow_id") or delivery.delivery_id
        status = (text(props, "payment_status") or "").lower()
        if status == "paid":
            currency = text(props, "currency")
            amount = decimal(props.get("amount"))
            return (PaymentSucceeded(
                org=org,
                customer_id=customer,
                payment_ref=f"payment_gate:{ref_id}",
                amount=amount if currency else None,
                currency=currency.upper() if currency and amount is not None else None,
                invoice_kind="payment_gate",
                occurred_ms=when,
                delivery_id=delivery.delivery_id,
            ),)
        if status == "failed":
            return (PaymentFailed(
                org=org,
                customer_id=customer,
                payment_ref=f"payment_gate:{ref_id}",
                reason=text(props, "error_message", "failure_reason") or "payment_failed",
                occurred_ms=when,
                delivery_id=delivery.delivery_id,
            ),)
        return (Ignored(event, f"payment status {status or 'missing'}"),)

    if event == "invoice.finalized":
        invoice_id = text(props, "invoice_id")
        if invoice_id is None:
            return (Ignored(event, "properties without invoice_id"),)
        currency = text(props, "currency")
        return (InvoiceFinalized(
            org=org,
            customer_id=customer,
            invoice_ref=f"invoice:{invoice_id}",
            total=decimal(props.get("total")),
            currency=currency.upper() if currency else None,
            period_start_ms=time_ms(props.get("start_timestamp")),
            period_end_ms=time_ms(props.get("end_timestamp")),
            occurred_ms=when,
            delivery_id=delivery.delivery_id,
        ),)

    kind = event.removeprefix("alerts.")
    info = {"vendor_event": event, **details(
        props, "alert_id", "alert_name", "threshold", "remaining_balance", "credit_type_id",
        "triggered_by", "timestamp",
    )}
    return (BalanceAlert(org, customer, kind, info, when, delivery.delivery_id),)
