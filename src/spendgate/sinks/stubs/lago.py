"""A Lago stub following its published ingest contract, Postgres store (see docs/sinks.md).

POST /api/v1/events/batch {"events": [≤ 100]} → 200 {"events": [...]}; POST /api/v1/events
{"event": {...}} → 200 {"event": {...}}. Auth: Bearer. Required: transaction_id,
external_subscription_id, code; timestamp numeric (Unix seconds, number or decimal string).
Errors are keyed by index and one bad event rejects the whole batch (422
validation_errors). A transaction_id already stored for the subscription is
`transaction_id: value_already_exist` (the unique index), in a batch keyed by its index.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from spendgate.sinks.stubs._server import Reply, VendorStub, bearer_ok, parse_json

MAX_BATCH = 100


class LagoStub(VendorStub):
    vendor = "lago"

    def key_of(self, row_key: tuple[str, ...]) -> str:
        return row_key[1]  # (external_subscription_id, transaction_id)

    def error_reply(self, status: int, message: str) -> Reply:
        if status == 401:
            return Reply(401, {"status": 401, "error": "Unauthorized"})
        return Reply(status, {"status": status, "error": message})

    def rate_limit_headers(self) -> dict[str, str]:
        return {
            "Retry-After": str(self.faults.retry_after_s),
            "X-RateLimit-Limit": "500",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(self.faults.retry_after_s),
        }

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        route = path.split("?", 1)[0]
        if method != "POST" or route not in ("/api/v1/events", "/api/v1/events/batch"):
            return Reply(404, {"status": 404, "error": "Not Found", "code": "not_found"})
        if not bearer_ok(headers, self.api_key):
            return self.error_reply(401, "Unauthorized")
        ok, data = parse_json(body)
        if not ok or not isinstance(data, dict):
            return Reply(400, {"status": 400, "error": "BadRequest: invalid JSON body"})
        if route == "/api/v1/events":
            event = data.get("event")
            if not isinstance(event, dict):
                return Reply(400, {"status": 400, "error": "BadRequest: param is missing: event"})
            errors = self._validate(event, set())
            if errors:
                if errors.get("transaction_id") == ["value_already_exist"]:
                    self.count_duplicate()
                return _validation_errors(errors)
            return Reply(200, {"event": self._ingest(event)})
        events = data.get("events")
        if not isinstance(events, list) or not events:
            return _validation_errors({"events": ["no_events"]})
        if len(events) > MAX_BATCH:
            return _validation_errors({"events": ["too_many_events"]})
        all_errors: dict[str, Any] = {}
        in_batch: set[tuple[str, str]] = set()
        duplicates = 0
        for index, event in enumerate(events):
            errors = self._validate(event, in_batch)
            if errors:
                all_errors[str(index)] = errors
                if errors.get("transaction_id") == ["value_already_exist"]:
                    duplicates += 1
        if all_errors:
            self.count_duplicate(duplicates)
            return _validation_errors(all_errors)
        return Reply(200, {"events": [self._ingest(event) for event in events]})

    def _validate(self, event: object, in_batch: set[tuple[str, str]]) -> dict[str, list[str]]:
        if not isinstance(event, dict):
            return {"event": ["invalid_value"]}
        errors: dict[str, list[str]] = {}
        for name in ("transaction_id", "external_subscription_id", "code"):
            value = event.get(name)
            if not isinstance(value, str) or not value.strip():
                errors[name] = ["value_is_mandatory"]
        timestamp = event.get("timestamp")
        if timestamp is not None and _seconds(timestamp) is None:
            errors["timestamp"] = ["invalid_format"]
        properties = event.get("properties")
        if properties is not None and not isinstance(properties, dict):
            errors["properties"] = ["invalid_value"]
        if not errors:
            key = (event["external_subscription_id"], event["transaction_id"])
            if key in self._rows or key in in_batch:
                errors["transaction_id"] = ["value_already_exist"]
            in_batch.add(key)
        return errors

    def _ingest(self, event: dict[str, Any]) -> dict[str, Any]:
        seconds = _seconds(event.get("timestamp"))
        timestamp_ms = (
            int((seconds * 1000).to_integral_value()) if seconds is not None else self.now_ms()
        )
        row = dict(event, timestamp_ms=timestamp_ms, lago_id=str(uuid.uuid4()))
        self.store((event["external_subscription_id"], event["transaction_id"]), row)
        return {
            "lago_id": row["lago_id"],
            "transaction_id": event["transaction_id"],
            "lago_customer_id": None,
            "lago_subscription_id": None,
            "external_subscription_id": event["external_subscription_id"],
            "code": event["code"],
            "timestamp": _iso(timestamp_ms),
            "precise_total_amount_cents": event.get("precise_total_amount_cents"),
            "properties": event.get("properties") or {},
            "created_at": _iso(self.now_ms()),
        }


def _seconds(value: object) -> Decimal | None:
    """Ruby's Float(value): a JSON number or a numeric string, else invalid_format."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def _iso(ms: int) -> str:
    from spendgate.domain.clock import ms_to_rfc3339

    return ms_to_rfc3339(ms)


def _validation_errors(details: Mapping[str, Any]) -> Reply:
    return Reply(
        422,
        {
            "status": 422,
            "error": "Unprocessable Entity",
            "code": "validation_errors",
            "error_details": dict(details),
        },
    )


__all__ = ["LagoStub"]
