"""Why an inbound webhook was refused.

    InvalidRequest (spendgate.errors)
    └── WebhookRejected                  refused before anything was stored as accepted
        ├── MissingHeaders               a header the scheme needs is absent
        ├── BadSignature                 no configured secret or key produced the signature
        │   └── SourceNotAllowed         unsigned delivery from outside the allow list
        ├── StaleTimestamp               signed, but too old or too far in the future
        └── MalformedPayload             signed, but the body is not a JSON object

Every refusal answers 400 with the code below; nothing is acted upon.
"""

from __future__ import annotations

from collections.abc import Sequence

from spendgate.errors import InvalidRequest


class WebhookRejected(InvalidRequest):
    code = "webhook_rejected"


class MissingHeaders(WebhookRejected):
    code = "missing_headers"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"missing webhook header(s): {', '.join(names)}", param=names[0])
        self.names = tuple(names)


class BadSignature(WebhookRejected):
    code = "bad_signature"


class SourceNotAllowed(BadSignature):
    code = "source_not_allowed"


class StaleTimestamp(WebhookRejected):
    code = "stale_timestamp"

    def __init__(self, skew_ms: int, tolerance_ms: int) -> None:
        direction = "old" if skew_ms < 0 else "far in the future"
        super().__init__(
            f"webhook timestamp is too {direction}: {abs(skew_ms)} ms away from now, "
            f"tolerance {tolerance_ms} ms"
        )
        self.skew_ms = skew_ms
        self.tolerance_ms = tolerance_ms


class MalformedPayload(WebhookRejected):
    code = "malformed_payload"


__all__ = [
    "BadSignature",
    "MalformedPayload",
    "MissingHeaders",
    "SourceNotAllowed",
    "StaleTimestamp",
    "WebhookRejected",
]
