"""What the ledger does for each verified vendor signal. Every action is idempotent.

    PaymentSucceeded  a grant whose id derives from the payment ref (a replay conflicts and
                      is skipped), then reinstate an org that a payment failure suspended
    PaymentFailed     suspend the org with reason payment_failed (already so: nothing)
    InvoiceFinalized  recorded in vendor_invoices, once per invoice ref
    BalanceAlert      forwarded as an outbound wallet.low_balance alert
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import suppress

from spendgate.domain.clock import Clock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.errors import Conflict, NotFound
from spendgate.ledger.commands import AddGrant, UpsertOrg
from spendgate.ledger.engine import Ledger
from spendgate.pricing import CreditValue
from spendgate.webhooks.intake import InboundRecord
from spendgate.webhooks.outbound.events import forwarded_alert
from spendgate.webhooks.signals import (
    BalanceAlert,
    InvoiceFinalized,
    PaymentFailed,
    PaymentSucceeded,
    Signal,
    credits_for_payment,
)


def payment_grant_id(sink: str, payment_ref: str) -> str:
    return "pay_" + hashlib.sha256(f"{sink}\x00{payment_ref}".encode()).hexdigest()[:32]


class SignalActions:
    """Applies signals of one tenant environment's deliveries to the ledger."""

    def __init__(self, ledger: Ledger, clock: Clock,
                 credit_value: dict[Scope, CreditValue] | None = None) -> None:
        self.ledger = ledger
        self.clock = clock
        self.credit_value = credit_value or {}

    def __call__(self, record: InboundRecord, signals: Sequence[Signal]) -> None:
        scope = Scope(record.tenant, record.env)
        for signal in signals:
            try:
                self._apply(scope, record.sink, signal)
            except NotFound:  # an org we do not know: stored, nothing to act on
                continue

    def _apply(self, scope: Scope, sink: str, signal: Signal) -> None:
        now = self.clock.now_ms()
        if isinstance(signal, PaymentFailed):
            self.ledger.get_node(scope, NodePath(signal.org))
            self.ledger.upsert_org(scope, UpsertOrg(signal.org, status="suspended",
                                                    reason="payment_failed",
                                                    ref=signal.payment_ref))
        elif isinstance(signal, PaymentSucceeded):
            org = self.ledger.get_node(scope, NodePath(signal.org))
            value = self.credit_value.get(scope)
            if signal.amount is not None and signal.currency and value is not None:
                credits = credits_for_payment(signal.amount, signal.currency,
                                              credit_value=value.amount_per_credit,
                                              credit_currency=value.currency)
                if credits > 0:
                    with suppress(Conflict):  # this payment was already granted
                        self.ledger.add_grant(scope, AddGrant(
                            signal.org, credits, reason=f"payment {signal.payment_ref}",
                            metadata={"sink": sink, "payment_ref": signal.payment_ref},
                            grant_id=payment_grant_id(sink, signal.payment_ref)))
            if org.suspended and org.status_reason == "payment_failed":
                self.ledger.upsert_org(scope, UpsertOrg(signal.org, status="active",
                                                        ref=signal.payment_ref))
        elif isinstance(signal, InvoiceFinalized):
            with self.ledger.store.transaction() as tx:
                if tx.one("SELECT 1 FROM vendor_invoices WHERE tenant=? AND env=? AND sink=? "
                          "AND invoice_ref=?",
                          (scope.tenant, scope.env, sink, signal.invoice_ref)) is None:
                    tx.execute(
                        "INSERT INTO vendor_invoices (tenant, env, sink, invoice_ref, org, total,"
                        " currency, period_start_ms, period_end_ms, recorded_ms) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (scope.tenant, scope.env, sink, signal.invoice_ref, signal.org,
                         None if signal.total is None else str(signal.total), signal.currency,
                         signal.period_start_ms, signal.period_end_ms, now))
        elif isinstance(signal, BalanceAlert):
            event = forwarded_alert(signal, sink=sink, now_ms=now)
            with self.ledger.store.transaction() as tx:
                if tx.one("SELECT 1 FROM webhook_events WHERE tenant=? AND env=? AND "
                          "event_id=?", (scope.tenant, scope.env, event.id)) is None:
                    tx.execute("INSERT INTO webhook_events (tenant, env, event_id, type, body, "
                               "fanned_out, created_ms) VALUES (?,?,?,?,?,0,?)",
                               (scope.tenant, scope.env, event.id, event.type,
                                event.body().decode(), now))
