"""UsageEvent → each vendor's event, checked before anything is sent.

Every vendor event carries the usage event's id as the vendor's idempotency key and the
usage event's own fixed timestamp, so a resend is recognised as the same event
(Flexprice dedups on (event_id, timestamp), Metronome on transaction_id, Lago on
transaction_id per subscription). Property values are exact decimal strings, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import orjson

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.domain.money import format_credits
from spendgate.metering.events import UsageEvent
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.port import InvalidMapping

MAX_ID_LENGTH: Final = 255
METRONOME_MAX_AGE_MS: Final = 34 * 86_400_000
METRONOME_MAX_AHEAD_MS: Final = 24 * 3_600_000
FLEXPRICE_SOURCE: Final = "spendgate"


def decimal_text(value: Decimal) -> str:
    """Plain decimal notation (never an exponent), exact."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def usage_properties(event: UsageEvent) -> dict[str, str]:
    """Dimensions, then quantities, then `credits`: a later key wins a name clash."""
    props: dict[str, str] = {}
    if event.project is not None:
        props["project"] = event.project
    if event.user is not None:
        props["user"] = event.user
    props.update(event.dimensions)
    for name, quantity in event.quantities.items():
        props[name] = decimal_text(quantity)
    props["credits"] = decimal_text(Decimal(format_credits(event.credits_nano)))
    for key in props:
        if not key:
            raise InvalidMapping(event.id, "properties", "has an empty key")
    return props


def customer_id(event: UsageEvent, config: SinkConfig) -> str:
    return _name(event, config.customer_id(event.org), "customer_id")


def event_name(event: UsageEvent, config: SinkConfig) -> str:
    return _name(event, config.event_name(event.meter), "event_name")


def to_flexprice(event: UsageEvent, config: SinkConfig) -> dict[str, Any]:
    """An IngestEventRequest: properties are Dict[str, str] in the SDK."""
    _check_id(event)
    return {
        "event_id": event.id,
        "event_name": event_name(event, config),
        "external_customer_id": customer_id(event, config),
        "timestamp": ms_to_rfc3339(event.timestamp_ms),
        "source": str(config.options.get("source", FLEXPRICE_SOURCE)),
        "properties": usage_properties(event),
    }


def to_metronome(event: UsageEvent, config: SinkConfig, *, now_ms: int) -> dict[str, Any]:
    """A Usage object; refuses a timestamp outside Metronome's −34 days / +24 h window."""
    _check_id(event)
    if event.timestamp_ms < now_ms - METRONOME_MAX_AGE_MS:
        raise InvalidMapping(event.id, "timestamp", "is older than Metronome's 34-day window")
    if event.timestamp_ms > now_ms + METRONOME_MAX_AHEAD_MS:
        raise InvalidMapping(event.id, "timestamp", "is more than 24 h in the future")
    timestamp = ms_to_rfc3339(event.timestamp_ms)
    if not timestamp[:4].isdigit() or timestamp[4] != "-":
        raise InvalidMapping(event.id, "timestamp", "needs a four-digit year")
    return {
        "transaction_id": event.id,
        "customer_id": customer_id(event, config),
        "event_type": event_name(event, config),
        "timestamp": timestamp,
        "properties": usage_properties(event),
    }


def lago_timestamp(ms: int) -> str:
    """Unix seconds as a decimal string with milliseconds, e.g. "1767225600.250"."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds}.{millis:03d}"


def to_lago(event: UsageEvent, config: SinkConfig) -> dict[str, Any]:
    """An Event: the customer id is the subscription's external id, the name its code."""
    _check_id(event)
    return {
        "transaction_id": event.id,
        "external_subscription_id": customer_id(event, config),
        "code": event_name(event, config),
        "timestamp": lago_timestamp(event.timestamp_ms),
        "properties": usage_properties(event),
    }


def subject_token(value: str) -> str:
    """A NATS subject token: anything outside [A-Za-z0-9_-] is percent-encoded."""
    return "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "_-") else f"%{ord(ch):02X}"
        for ch in value
    ) or "%00"


def nats_subject(event: UsageEvent, prefix: str) -> str:
    """One subject per tenant, environment and meter: <prefix>.<tenant>.<env>.<meter>."""
    return ".".join(
        [prefix, subject_token(event.tenant), subject_token(event.env), subject_token(event.meter)]
    )


def to_nats(event: UsageEvent, config: SinkConfig) -> bytes:
    """The stream payload: the usage event itself plus the mapped names."""
    _check_id(event)
    body = event.to_dict()
    body["customer_id"] = customer_id(event, config)
    body["event_name"] = event_name(event, config)
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _check_id(event: UsageEvent) -> None:
    if not event.id or len(event.id) > MAX_ID_LENGTH or event.id != event.id.strip():
        raise InvalidMapping(event.id, "id", "must be 1–255 characters without edge spaces")


def _name(event: UsageEvent, value: str, field: str) -> str:
    if not value or not value.strip():
        raise InvalidMapping(event.id, field, "must not be empty")
    if value != value.strip():
        # Flexprice trims event names; a padded name would silently match no meter.
        raise InvalidMapping(event.id, field, "must not start or end with spaces")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidMapping(event.id, field, f"must be at most {MAX_ID_LENGTH} characters")
    return value


def mapped_totals(
    payloads: Mapping[str, Mapping[str, Any]], *, customer_key: str, name_key: str
) -> dict[tuple[str, str], Decimal]:
    """Sum `credits` per (customer, event name) over vendor payloads: for dual-run checks."""
    totals: dict[tuple[str, str], Decimal] = {}
    for payload in payloads.values():
        key = (str(payload[customer_key]), str(payload[name_key]))
        credits = Decimal(str(payload["properties"]["credits"]))
        totals[key] = totals.get(key, Decimal(0)) + credits
    return totals


__all__ = [
    "decimal_text",
    "lago_timestamp",
    "mapped_totals",
    "nats_subject",
    "subject_token",
    "to_flexprice",
    "to_lago",
    "to_metronome",
    "to_nats",
    "usage_properties",
]
