"""Metronome: lowercase hex HMAC-SHA256 of "<X-Metronome-Date>\\n<raw body>", ±5 minutes.

The key is the webhook secret as UTF-8. `Date` is accepted when `X-Metronome-Date` is
absent (older deliveries). The dedup key is the envelope's `id`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, body_digest, parse_payload
from spendgate.webhooks.errors import BadSignature, MissingHeaders
from spendgate.webhooks.headers import as_headers
from spendgate.webhooks.inbound._window import DEFAULT_TOLERANCE_MS, check_window

SIGNATURE_HEADER = "Metronome-Webhook-Signature"
DATE_HEADERS = ("X-Metronome-Date", "Date")


def verify_metronome(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now_ms: int,
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
) -> VerifiedDelivery:
    """Verify a Metronome delivery against any of `secrets`."""
    h = as_headers(headers)
    signature = h.first(SIGNATURE_HEADER)
    date = h.first(*DATE_HEADERS)
    missing = [name for name, v in ((SIGNATURE_HEADER, signature), (DATE_HEADERS[0], date))
               if v is None]
    if missing or signature is None or date is None:
        raise MissingHeaders(missing)
    if not secrets:
        raise BadSignature("no webhook secret is configured for this sink")

    offered = signature.lower().encode("ascii", "replace")
    message = date.encode("utf-8") + b"\n" + body
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected.encode("ascii"), offered)
    if not matched:
        raise BadSignature("Metronome-Webhook-Signature does not match a configured secret")

    signed_ms = _date_ms(date)
    check_window(signed_ms, now_ms, tolerance_ms)
    payload = parse_payload(body)
    ident = payload.get("id")
    kind = payload.get("type")
    return VerifiedDelivery(
        delivery_id=ident if isinstance(ident, str) and ident else body_digest(body),
        event_type=kind if isinstance(kind, str) else "",
        payload=payload,
        received_ms=now_ms,
        scheme=Scheme.METRONOME,
        signed_ms=signed_ms,
    )


def _date_ms(text: str) -> int:
    """An HTTP date (RFC 7231) or an ISO 8601 time, as UTC milliseconds."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadSignature(f"webhook date is not a date: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
