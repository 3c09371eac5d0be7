"""How each vendor really signs a delivery, written independently of the verifiers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from standardwebhooks.webhooks import Webhook

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE_MS = 60_000

SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SVIX_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-24-bytes!!").decode()
METRONOME_SECRET = "metronome-webhook-secret-1"
LAGO_HMAC_KEY = "lago-org-hmac-key"


def body_of(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def svix_headers(body: bytes, *, secret: str = SVIX_SECRET, msg_id: str = "msg_2abc",
                 at_ms: int = NOW_MS, prefix: str = "svix") -> dict[str, str]:
    """Signed by the standardwebhooks library itself, as Svix does."""
    signed_at = datetime.fromtimestamp(at_ms // 1000, tz=UTC)
    signature = Webhook(secret).sign(msg_id, signed_at, body.decode())
    return {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(at_ms // 1000),
            f"{prefix}-signature": signature}


def metronome_headers(body: bytes, *, secret: str = METRONOME_SECRET, at_ms: int = NOW_MS,
                      date_header: str = "X-Metronome-Date") -> dict[str, str]:
    date = format_datetime(datetime.fromtimestamp(at_ms // 1000, tz=UTC), usegmt=True)
    digest = hmac.new(secret.encode(), f"{date}\n".encode() + body, hashlib.sha256).hexdigest()
    return {date_header: date, "Metronome-Webhook-Signature": digest}


class LagoKeys:
    """An RSA key pair standing in for a Lago instance's webhook signing key."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        # What GET /api/v1/webhooks/json_public_key returns: base64 of the PEM.
        self.public_b64 = base64.b64encode(self.public_pem.encode()).decode()

    def jwt_headers(self, body: bytes, *, unique_key: str = "5f3f-uuid-1",
                    issuer: str = "https://lago.example.test") -> dict[str, str]:
        token = jwt.encode({"data": body.decode(), "iss": issuer}, self.private, algorithm="RS256")
        return {"X-Lago-Signature": token, "X-Lago-Signature-Algorithm": "jwt",
                "X-Lago-Unique-Key": unique_key}


def lago_hmac_headers(body: bytes, *, key: str = LAGO_HMAC_KEY,
                      unique_key: str = "5f3f-uuid-2") -> dict[str, str]:
    signature = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-Lago-Signature": signature, "X-Lago-Signature-Algorithm": "hmac",
            "X-Lago-Unique-Key": unique_key}


FLEXPRICE_PAYMENT = {
    "event_type": "invoice.update.payment",
    "invoice": {"id": "inv_01", "customer_id": "cus_acme", "invoice_type": "ONE_OFF",
                "invoice_status": "FINALIZED", "payment_status": "SUCCEEDED", "currency": "usd",
                "amount_due": "50", "amount_paid": "50", "amount_remaining": "0",
                "total": "50", "subtotal": "50", "paid_at": "2026-01-01T00:00:00Z"},
}
METRONOME_ALERT = {
    "id": "445b849e-1366-4580-a6cc-f488e27c059f",
    "type": "alerts.low_remaining_credit_balance_reached",
    "properties": {"customer_id": "cus_acme", "alert_id": "al_1", "threshold": 20000,
                   "alert_name": "Credit balance low", "remaining_balance": 5000,
                   "timestamp": "2025-12-31T23:59:00.000Z", "triggered_by": "usage"},
}
LAGO_INVOICE_PAID = {
    "webhook_type": "invoice.payment_status_updated",
    "object_type": "invoice",
    "organization_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "invoice": {"lago_id": "inv-uuid-1", "invoice_type": "credit", "status": "finalized",
                "payment_status": "succeeded", "currency": "EUR", "total_amount_cents": 12050,
                "customer": {"external_id": "cus_acme", "lago_id": "c-uuid"}},
}
