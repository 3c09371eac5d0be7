"""A Flexprice stub following its published ingest contract (see docs/sinks.md).

POST /v1/events → 202 {"message", "event_id"}; POST /v1/events/bulk {"events": [1..1000]}
→ 202 {"message"}. Auth: header x-api-key. Required: event_name, external_customer_id.
Dedup: the same event_id AND the same timestamp collapse into one row (ReplacingMergeTree);
another timestamp is another row. Bulk is processed in order and stops at the first event
the domain refuses (earlier events stay queued), as with bulk_publish_enabled=false.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from spendgate.sinks.stubs._server import Reply, VendorStub, parse_json
from spendgate.sinks.stubs._time import rfc3339_ms

MAX_BULK = 1000
_OPTIONAL_STRINGS = ("event_id", "customer_id", "source")


class FlexpriceStub(VendorStub):
    vendor = "flexprice"

    def error_reply(self, status: int, message: str) -> Reply:
        code = {400: "validation_error", 401: "permission_denied", 404: "not_found",
                429: "too_many_requests"}.get(status, "internal_error")
        return Reply(status, {"code": code, "http_status_code": status, "message": message})

    def rate_limit_headers(self) -> dict[str, str]:
        return {
            "Retry-After": str(self.faults.retry_after_s),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(self.faults.retry_after_s),
        }

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        route = path.split("?", 1)[0]
        if method != "POST" or route not in ("/v1/events", "/v1/events/bulk"):
            return self.error_reply(404, f"no route {method} {route}")
        if headers.get("x-api-key") != self.api_key:
            return self.error_reply(401, "unauthorized: invalid or missing x-api-key")
        ok, data = parse_json(body)
        if not ok or not isinstance(data, dict):
            return self.error_reply(400, "invalid request body: a JSON object is required")
        if route == "/v1/events":
            problem = _bind(data)
            if problem:
                return self.error_reply(400, problem)
            if not str(data["event_name"]).strip():
                return self.error_reply(400, "event_name is required")
            event_id = self._ingest(data)
            return Reply(202, {"message": "Event accepted for processing", "event_id": event_id})
        events = data.get("events")
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_BULK:
            return self.error_reply(400, f"events must hold 1 to {MAX_BULK} events")
        for index, event in enumerate(events):
            problem = _bind(event)
            if problem:
                return self.error_reply(400, f"events[{index}]: {problem}")
        for index, event in enumerate(events):
            if not str(event["event_name"]).strip():  # domain validation, after trimming
                return self.error_reply(400, f"events[{index}]: event_name is required")
            self._ingest(event)
        return Reply(202, {"message": "Events accepted for processing"})

    def _ingest(self, event: dict[str, Any]) -> str:
        event_id = event.get("event_id") or f"event_{uuid.uuid4().hex}"
        raw_ts = event.get("timestamp")
        timestamp_ms = rfc3339_ms(raw_ts) if raw_ts else self.now_ms()
        row = dict(event, event_id=event_id, event_name=str(event["event_name"]).strip())
        row["timestamp_ms"] = timestamp_ms
        self.store((event_id, str(timestamp_ms)), row)
        return event_id


def _bind(event: object) -> str | None:
    """Request binding: the checks that refuse the whole request before anything runs."""
    if not isinstance(event, dict):
        return "an event must be a JSON object"
    for name in ("event_name", "external_customer_id"):
        value = event.get(name)
        if not isinstance(value, str) or value == "":
            return f"{name} is required"
    for name in _OPTIONAL_STRINGS:
        if name in event and event[name] is not None and not isinstance(event[name], str):
            return f"{name} must be a string"
    timestamp = event.get("timestamp")
    if timestamp not in (None, "") and rfc3339_ms(timestamp) is None:
        return "timestamp must be RFC 3339"
    properties = event.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return "properties must be an object"
    return None


__all__ = ["FlexpriceStub"]
