"""Standard Webhooks signing for outbound deliveries, via the `standardwebhooks` library.

Headers: webhook-id, webhook-timestamp (Unix seconds of the attempt, not of the event, so
a late retry is still within the receiver's tolerance) and webhook-signature, one
"v1,<base64>" per active secret, space-separated, so secret rotation needs no downtime.
"""

from __future__ import annotations

import base64
import binascii
import secrets as random
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from spendgate.errors import InvalidRequest

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret(nbytes: int = SECRET_BYTES) -> str:
    """A new endpoint secret: whsec_ + base64 of 24–64 random bytes."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a webhook secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(nbytes)).decode("ascii")


def check_secret(secret: str) -> str:
    """Refuse a given secret that is not whsec_ + base64 of 24–64 bytes."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidRequest("secret must start with whsec_", param="secret")
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("secret must be whsec_ followed by base64", param="secret") from exc
    if not 24 <= len(raw) <= 64:
        raise InvalidRequest("secret must hold 24 to 64 random bytes", param="secret")
    return secret


def sign(
    secrets: str | Sequence[str], msg_id: str, timestamp_s: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret given."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("signing needs at least one secret")
    signed_at = datetime.fromtimestamp(timestamp_s, tz=UTC)
    text = body.decode("utf-8")
    signatures = " ".join(Webhook(k).sign(msg_id, signed_at, text) for k in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": signatures,
    }


__all__ = ["SECRET_PREFIX", "check_secret", "generate_secret", "sign"]
