"""Internal signals that vendor webhooks map onto, and what each asks of the ledger.

    PaymentSucceeded  grant credits for `amount` (when given) once per `payment_ref`,
                      and lift a suspension caused by an earlier failure
    PaymentFailed     suspend the org: new reservations are denied with reason `suspended`
    InvoiceFinalized  record the invoice for reconciliation
    BalanceAlert      forward as an outbound `wallet.low_balance` alert
    Ignored           nothing; the delivery stays stored

Every signal names its vendor customer and the org it resolved to, and has an
idempotency `key` unique within its sink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext

from spendgate.domain.money import Nano, decimal_to_nano
from spendgate.errors import InvalidAmount


@dataclass(frozen=True, slots=True)
class PaymentSucceeded:
    org: str
    customer_id: str
    payment_ref: str  # "invoice:<vendor id>" or "payment:<vendor id>": one grant per ref
    amount: Decimal | None  # major units of `currency`; None: lift suspension only, no grant
    currency: str | None
    invoice_kind: str | None  # vendor's invoice type (e.g. "credit", "subscription"), lowercase
    occurred_ms: int
    delivery_id: str

    @property
    def key(self) -> str:
        return f"payment_succeeded:{self.payment_ref}"


@dataclass(frozen=True, slots=True)
class PaymentFailed:
    org: str
    customer_id: str
    payment_ref: str
    reason: str | None
    occurred_ms: int
    delivery_id: str

    @property
    def key(self) -> str:
        return f"payment_failed:{self.payment_ref}"


@dataclass(frozen=True, slots=True)
class InvoiceFinalized:
    org: str
    customer_id: str
    invoice_ref: str
    total: Decimal | None  # major units; None when the vendor's payload carries no total
    currency: str | None
    period_start_ms: int | None
    period_end_ms: int | None
    occurred_ms: int
    delivery_id: str

    @property
    def key(self) -> str:
        return f"invoice_finalized:{self.invoice_ref}"


@dataclass(frozen=True, slots=True)
class BalanceAlert:
    org: str
    customer_id: str
    kind: str  # e.g. "wallet_low", "wallet_depleted", "spend_threshold_reached"
    details: Mapping[str, str] = field(hash=False)
    occurred_ms: int = 0
    delivery_id: str = ""

    @property
    def key(self) -> str:
        return f"balance_alert:{self.delivery_id}:{self.kind}"


@dataclass(frozen=True, slots=True)
class Ignored:
    event_type: str
    reason: str

    @property
    def key(self) -> str:
        return f"ignored:{self.event_type}"


Signal = PaymentSucceeded | PaymentFailed | InvoiceFinalized | BalanceAlert | Ignored


def credits_for_payment(
    amount: Decimal, currency: str, *, credit_value: Decimal, credit_currency: str
) -> Nano:
    """Credits bought by a payment at the tenant's credit value, rounded down once to nano.

    Rounding down: a grant never exceeds what was paid.
    """
    if currency.upper() != credit_currency.upper():
        raise InvalidAmount(
            "currency", f"is {currency}, but a credit is priced in {credit_currency}"
        )
    if credit_value <= 0:
        raise InvalidAmount("credit_value", "must be greater than zero")
    with localcontext() as ctx:
        ctx.prec = 60  # the quotient is truncated here and rounded once, below
        ctx.rounding = ROUND_DOWN
        quotient = amount / credit_value
    return decimal_to_nano(quotient, rounding=ROUND_DOWN)


__all__ = [
    "BalanceAlert",
    "Ignored",
    "InvoiceFinalized",
    "PaymentFailed",
    "PaymentSucceeded",
    "Signal",
    "credits_for_payment",
]
