"""What a verifier hands on: an authenticated delivery, its vendor id and parsed payload."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from spendgate.webhooks.errors import MalformedPayload


class Scheme(StrEnum):
    STANDARD = "standard_webhooks"  # Svix / Standard Webhooks (Flexprice Cloud)
    METRONOME = "metronome"
    LAGO_JWT = "lago_jwt"
    LAGO_HMAC = "lago_hmac"
    FLEXPRICE_NATIVE = "flexprice_native"  # unsigned, allow-listed


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    delivery_id: str  # the vendor's id for this delivery: the dedup key
    event_type: str
    payload: Mapping[str, object] = field(hash=False)
    received_ms: int
    scheme: Scheme
    signed_ms: int | None = None  # the signed timestamp, when the scheme has one


def parse_payload(body: bytes) -> dict[str, object]:
    """The body as a JSON object; numbers with a fraction become Decimal, never float."""
    try:
        value = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"webhook body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedPayload("webhook body must be a JSON object")
    return value


def body_digest(body: bytes) -> str:
    """A stable delivery id for payloads that carry none."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


__all__ = ["Scheme", "VerifiedDelivery", "body_digest", "parse_payload"]
