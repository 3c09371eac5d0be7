"""Standard Webhooks / Svix: HMAC-SHA256 over "{id}.{timestamp}.{body}", base64, "v1," prefix.

Headers are `svix-id|timestamp|signature` or the unbranded `webhook-*` ones. The signature
header may hold several space-separated signatures (the sender rotating its secret) and we
may hold several secrets (us rotating ours): one constant-time match between any pair is
enough. The expected signature is computed with the `standardwebhooks` library; timestamp
tolerance is ours, against the injected clock, because the library reads the wall clock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, parse_payload
from spendgate.webhooks.errors import BadSignature, MissingHeaders
from spendgate.webhooks.headers import as_headers
from spendgate.webhooks.inbound._window import DEFAULT_TOLERANCE_MS, check_window

_TRIOS = (("svix-id", "svix-timestamp", "svix-signature"),
          ("webhook-id", "webhook-timestamp", "webhook-signature"))


def verify_standard(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now_ms: int,
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
) -> VerifiedDelivery:
    """Verify a Standard Webhooks / Svix delivery against any of `secrets` (whsec_...)."""
    h = as_headers(headers)
    names = _TRIOS[0] if any(n in h for n in _TRIOS[0]) else _TRIOS[1]
    msg_id, stamp, signature = (h.first(n) for n in names)
    missing = [n for n, v in zip(names, (msg_id, stamp, signature), strict=True) if not v]
    if missing or msg_id is None or stamp is None or signature is None:
        raise MissingHeaders(missing)
    if not stamp.isascii() or not stamp.isdigit():
        raise BadSignature(f"{names[1]} must be Unix seconds")
    if not secrets:
        raise BadSignature("no webhook secret is configured for this sink")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadSignature("webhook body is not UTF-8") from exc

    offered = _offered_v1(signature)
    signed_at = datetime.fromtimestamp(int(stamp), tz=UTC)
    matched = False
    for secret in secrets:
        expected = _expected(secret, msg_id, signed_at, text)
        for candidate in offered:
            # Compare every pair: no early exit that would reveal which secret matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise BadSignature("no webhook signature matches a configured secret")

    signed_ms = int(stamp) * 1000
    check_window(signed_ms, now_ms, tolerance_ms)
    payload = parse_payload(body)
    event_type = payload.get("event_type", payload.get("type"))
    return VerifiedDelivery(
        delivery_id=msg_id,
        event_type=event_type if isinstance(event_type, str) else "",
        payload=payload,
        received_ms=now_ms,
        scheme=Scheme.STANDARD,
        signed_ms=signed_ms,
    )


def _offered_v1(header: str) -> list[bytes]:
    offered: list[bytes] = []
    for part in header.split():
        version, sep, value = part.partition(",")
        if not sep or version != "v1":  # v1a (ed25519) and unknown versions are skipped
            continue
        try:
            offered.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return offered


def _expected(secret: str, msg_id: str, signed_at: datetime, text: str) -> bytes:
    try:
        signer = Webhook(secret)
    except Exception as exc:  # the library raises bare errors on bad base64 or empty keys
        raise BadSignature("a configured webhook secret is not a valid whsec_ secret") from exc
    return base64.b64decode(signer.sign(msg_id, signed_at, text).partition(",")[2])
