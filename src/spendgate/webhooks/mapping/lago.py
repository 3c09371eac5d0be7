"""Lago envelopes (`{"webhook_type", "object_type", "<object_type>": {...}}`) onto signals.

Credit grants come from `invoice.payment_status_updated` (keyed by invoice); the
`payment.succeeded` event only lifts a suspension, so one payment never grants twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from spendgate.webhooks.delivery import VerifiedDelivery
from spendgate.webhooks.mapping._fields import (
    OrgResolver,
    details,
    minor_to_major,
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


def map_lago(delivery: VerifiedDelivery, resolve: OrgResolver) -> tuple[Signal, ...]:
    event = delivery.event_type
    p = delivery.payload
    if event == "invoice.payment_status_updated":
        invoice = obj(p, "invoice")
        status = (text(invoice, "payment_status") or "").lower()
        if status == "succeeded":
            return _invoice_paid(delivery, resolve, invoice)
        if status == "failed":
            return _failed(delivery, resolve, _customer_of(invoice),
                           f"invoice:{text(invoice, 'lago_id')}", "payment_failed")
        return (Ignored(event, f"invoice payment status {status or 'missing'}"),)
    if event == "invoice.payment_failure":
        error = obj(p, "payment_provider_invoice_payment_error")
        reason = text(obj(error, "provider_error"), "message", "error_code") or "payment_failed"
        return _failed(delivery, resolve, text(error, "external_customer_id"),
                       f"invoice:{text(error, 'lago_invoice_id')}", reason)
    if event == "invoice.payment_overdue":
        invoice = obj(p, "invoice")
        return _failed(delivery, resolve, _customer_of(invoice),
                       f"invoice:{text(invoice, 'lago_id')}", "overdue")
    if event == "payment_request.payment_failure":
        request = obj(p, "payment_request")
        return _failed(delivery, resolve, _customer_of(request),
                       f"payment_request:{text(request, 'lago_id')}", "payment_failed")
    if event == "payment.succeeded":
        return _payment_succeeded(delivery, resolve, obj(p, "payment"))
    if event == "invoice.created":
        return _finalized(delivery, resolve, obj(p, "invoice"))
    if event == "wallet.depleted_ongoing_balance":
        wallet = obj(p, "wallet")
        return _alert(delivery, resolve, text(wallet, "external_customer_id"), "wallet_depleted",
                      details(wallet, "lago_id", "currency", "balance_cents",
                              "ongoing_balance_cents", "credits_balance",
                              "credits_ongoing_balance"))
    if event == "alert.triggered":
        alert = obj(p, "triggered_alert")
        return _alert(delivery, resolve, text(alert, "external_customer_id"),
                      "usage_alert", details(alert, "lago_alert_id", "alert_type", "alert_code",
                                             "alert_name", "current_value", "previous_value",
                                             "billable_metric_code", "triggered_at"))
    if event == "subscription.usage_threshold_reached":
        sub = obj(p, "subscription")
        return _alert(delivery, resolve, text(sub, "external_customer_id"),
                      "usage_threshold_reached", details(sub, "lago_id", "external_id",
                                                         "plan_code"))
    return (Ignored(event, "not an event Spendgate acts on"),)


def _customer_of(entity: Mapping[str, object]) -> str | None:
    return text(obj(entity, "customer"), "external_id") or text(entity, "external_customer_id")


def _org(delivery: VerifiedDelivery, resolve: OrgResolver, customer: str | None
         ) -> str | Ignored:
    if customer is None:
        return Ignored(delivery.event_type, "payload names no customer")
    org = resolve(customer)
    return org if org is not None else Ignored(delivery.event_type, f"unknown customer {customer}")


def _invoice_paid(delivery: VerifiedDelivery, resolve: OrgResolver,
                  invoice: Mapping[str, object]) -> tuple[Signal, ...]:
    customer = _customer_of(invoice)
    org = _org(delivery, resolve, customer)
    invoice_id = text(invoice, "lago_id")
    if isinstance(org, Ignored) or customer is None or invoice_id is None:
        return (org if isinstance(org, Ignored) else Ignored(delivery.event_type, "no lago_id"),)
    currency = text(invoice, "currency", "total_amount_currency")
    return (PaymentSucceeded(
        org=org,
        customer_id=customer,
        payment_ref=f"invoice:{invoice_id}",
        amount=minor_to_major(invoice.get("total_amount_cents"), currency),
        currency=currency.upper() if currency else None,
        invoice_kind=(text(invoice, "invoice_type") or "").lower() or None,
        occurred_ms=time_ms(invoice.get("updated_at")) or delivery.received_ms,
        delivery_id=delivery.delivery_id,
    ),)


def _payment_succeeded(delivery: VerifiedDelivery, resolve: OrgResolver,
                       payment: Mapping[str, object]) -> tuple[Signal, ...]:
    customer = text(payment, "external_customer_id")
    org = _org(delivery, resolve, customer)
    payment_id = text(payment, "lago_id")
    if isinstance(org, Ignored) or customer is None or payment_id is None:
        return (org if isinstance(org, Ignored) else Ignored(delivery.event_type, "no lago_id"),)
    return (PaymentSucceeded(
        org=org,
        customer_id=customer,
        payment_ref=f"payment:{payment_id}",
        amount=None,  # the grant comes with invoice.payment_status_updated
        currency=None,
        invoice_kind=None,
        occurred_ms=time_ms(payment.get("created_at")) or delivery.received_ms,
        delivery_id=delivery.delivery_id,
    ),)


def _failed(delivery: VerifiedDelivery, resolve: OrgResolver, customer: str | None,
            ref: str, reason: str) -> tuple[Signal, ...]:
    org = _org(delivery, resolve, customer)
    if isinstance(org, Ignored) or customer is None:
        return (org if isinstance(org, Ignored) else Ignored(delivery.event_type, "no customer"),)
    if ref.endswith(":None"):
        return (Ignored(delivery.event_type, "payload names no invoice"),)
    return (PaymentFailed(org, customer, ref, reason, delivery.received_ms,
                          delivery.delivery_id),)


def _finalized(delivery: VerifiedDelivery, resolve: OrgResolver,
               invoice: Mapping[str, object]) -> tuple[Signal, ...]:
    if (text(invoice, "status") or "finalized").lower() != "finalized":
        return (Ignored(delivery.event_type, "invoice is not finalized"),)
    customer = _customer_of(invoice)
    org = _org(delivery, resolve, customer)
    invoice_id = text(invoice, "lago_id")
    if isinstance(org, Ignored) or customer is None or invoice_id is None:
        return (org if isinstance(org, Ignored) else Ignored(delivery.event_type, "no lago_id"),)
    currency = text(invoice, "currency", "total_amount_currency")
    return (InvoiceFinalized(
        org=org,
        customer_id=customer,
        invoice_ref=f"invoice:{invoice_id}",
        total=minor_to_major(invoice.get("total_amount_cents"), currency),
        currency=currency.upper() if currency else None,
        period_start_ms=time_ms(invoice.get("from_date")),
        period_end_ms=time_ms(invoice.get("to_date")),
        occurred_ms=time_ms(invoice.get("issuing_date")) or delivery.received_ms,
        delivery_id=delivery.delivery_id,
    ),)


def _alert(delivery: VerifiedDelivery, resolve: OrgResolver, customer: str | None, kind: str,
           info: dict[str, str]) -> tuple[Signal, ...]:
    org = _org(delivery, resolve, customer)
    if isinstance(org, Ignored) or customer is None:
        return (org if isinstance(org, Ignored) else Ignored(delivery.event_type, "no customer"),)
    info = {"vendor_event": delivery.event_type, **info}
    return (BalanceAlert(org, customer, kind, info, delivery.received_ms, delivery.delivery_id),)
