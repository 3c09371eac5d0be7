"""A Metronome stub following its published ingest contract (see docs/sinks.md).

POST /v1/ingest with a JSON array of at most 100 events → 200, no body. Auth: Bearer.
Required: transaction_id, customer_id, event_type, timestamp (RFC 3339, 4-digit year,
from 34 days ago to 24 h ahead). A repeated transaction_id is ignored (34-day dedup).
An invalid event refuses the whole request with 400 {"message"}.
"""

from __future__ import annotations

from collections.abc import Mapping

from spendgate.sinks.stubs._server import Reply, VendorStub, bearer_ok, parse_json
from spendgate.sinks.stubs._time import rfc3339_ms

MAX_BATCH = 100
MAX_AGE_MS = 34 * 86_400_000
MAX_AHEAD_MS = 24 * 3_600_000


class MetronomeStub(VendorStub):
    vendor = "metronome"

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        route = path.split("?", 1)[0]
        if method != "POST" or route != "/v1/ingest":
            return self.error_reply(404, f"no route {method} {route}")
        if not bearer_ok(headers, self.api_key):
            return self.error_reply(401, "Unauthorized")
        ok, data = parse_json(body)
        if not ok or not isinstance(data, list):
            return self.error_reply(400, "the body must be a JSON array of usage events")
        if len(data) > MAX_BATCH:
            return self.error_reply(400, f"at most {MAX_BATCH} events per request")
        now = self.now_ms()
        stamps: list[int] = []
        for index, event in enumerate(data):
            problem, stamp = _check(event, now)
            if problem:
                return self.error_reply(400, f"usage[{index}]: {problem}")
            stamps.append(stamp)
        for event, stamp in zip(data, stamps, strict=True):
            key = (event["transaction_id"],)
            if key in self._rows:
                self.count_duplicate()  # ignored, whatever the rest of the payload says
                continue
            self.store(key, dict(event, timestamp_ms=stamp))
        return Reply(200)


def _check(event: object, now_ms: int) -> tuple[str | None, int]:
    if not isinstance(event, dict):
        return "an event must be a JSON object", 0
    for name in ("transaction_id", "customer_id", "event_type", "timestamp"):
        value = event.get(name)
        if not isinstance(value, str) or not value:
            return f"{name} is required", 0
    stamp = rfc3339_ms(event["timestamp"])
    if stamp is None:
        return "timestamp must be RFC 3339 with a four-digit year", 0
    if stamp < now_ms - MAX_AGE_MS:
        return "timestamp is more than 34 days in the past", 0
    if stamp > now_ms + MAX_AHEAD_MS:
        return "timestamp is more than 24 hours in the future", 0
    properties = event.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return "properties must be an object", 0
    return None, stamp


__all__ = ["MetronomeStub"]
