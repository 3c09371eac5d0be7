"""Webhooks: verify inbound vendor deliveries and map them onto signals; sign and deliver
outbound events to the tenant's product."""

from __future__ import annotations

from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, body_digest, parse_payload
from spendgate.webhooks.errors import (
    BadSignature,
    MalformedPayload,
    MissingHeaders,
    SourceNotAllowed,
    StaleTimestamp,
    WebhookRejected,
)
from spendgate.webhooks.headers import Headers, redact
from spendgate.webhooks.inbound import (
    DEFAULT_TOLERANCE_MS,
    NativePolicy,
    verify_flexprice_native,
    verify_lago,
    verify_metronome,
    verify_standard,
)
from spendgate.webhooks.intake import (
    InboundRecord,
    Inbox,
    MemoryInbox,
    Receipt,
    Verdict,
    WebhookSource,
    process_pending,
    receive,
    signals_for,
    verify,
)
from spendgate.webhooks.mapping import OrgResolver, map_delivery
from spendgate.webhooks.signals import (
    BalanceAlert,
    Ignored,
    InvoiceFinalized,
    PaymentFailed,
    PaymentSucceeded,
    Signal,
    credits_for_payment,
)
from spendgate.webhooks.thresholds import crossed, exceeded, new_thresholds, to_fire

__all__ = [
    "DEFAULT_TOLERANCE_MS",
    "BadSignature",
    "BalanceAlert",
    "Headers",
    "Ignored",
    "InboundRecord",
    "Inbox",
    "InvoiceFinalized",
    "MalformedPayload",
    "MemoryInbox",
    "MissingHeaders",
    "NativePolicy",
    "OrgResolver",
    "PaymentFailed",
    "PaymentSucceeded",
    "Receipt",
    "Scheme",
    "Signal",
    "SourceNotAllowed",
    "StaleTimestamp",
    "Verdict",
    "VerifiedDelivery",
    "WebhookRejected",
    "WebhookSource",
    "body_digest",
    "credits_for_payment",
    "crossed",
    "exceeded",
    "map_delivery",
    "new_thresholds",
    "parse_payload",
    "process_pending",
    "receive",
    "redact",
    "signals_for",
    "to_fire",
    "verify",
    "verify_flexprice_native",
    "verify_lago",
    "verify_metronome",
    "verify_standard",
]
