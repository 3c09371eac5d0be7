"""Per-environment settings of a tenant: default rate card, credit value, TTL, fallbacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from spendgate.errors import InvalidRequest
from spendgate.pricing import CreditValue, parse_fallbacks

DEFAULT_TTL_SECONDS = 300
MAX_TTL_SECONDS = 7 * 24 * 3600
_FIELDS = ("default_rate_card", "credit_value", "default_ttl_seconds", "fallbacks")


@dataclass(frozen=True, slots=True)
class EnvSettings:
    default_rate_card: str | None = None
    credit_value: CreditValue | None = None
    default_ttl_seconds: int = DEFAULT_TTL_SECONDS
    fallbacks: Mapping[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "default_rate_card": self.default_rate_card,
            "credit_value": self.credit_value.to_dict() if self.credit_value else None,
            "default_ttl_seconds": self.default_ttl_seconds,
            "fallbacks": {k: list(v) for k, v in self.fallbacks.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvSettings:
        return cls().updated(data)

    def updated(self, body: object) -> EnvSettings:
        """These settings with every field present in `body` replaced (null resets it)."""
        if not isinstance(body, Mapping):
            raise InvalidRequest("the body must be a JSON object", param="body")
        for key in body:
            if key not in _FIELDS:
                raise InvalidRequest(f"{key} is not a setting; known: {', '.join(_FIELDS)}",
                                     param=str(key))
        out = self
        if "default_rate_card" in body:
            card = body["default_rate_card"]
            if card is not None:
                card = check_card_name(card, "default_rate_card")
            out = replace(out, default_rate_card=card)
        if "credit_value" in body:
            value = body["credit_value"]
            out = replace(out, credit_value=None if value is None else
                          CreditValue.from_dict(value))
        if "default_ttl_seconds" in body:
            ttl = body["default_ttl_seconds"]
            out = replace(out, default_ttl_seconds=DEFAULT_TTL_SECONDS if ttl is None else
                          check_ttl(ttl, "default_ttl_seconds"))
        if "fallbacks" in body:
            chains = body["fallbacks"]
            out = replace(out, fallbacks={} if chains is None else parse_fallbacks(chains))
        return out


def check_ttl(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TTL_SECONDS:
        raise InvalidRequest(f"{field} must be an integer from 1 to {MAX_TTL_SECONDS}",
                             param=field)
    return value


def check_card_name(value: object, field: str) -> str:
    from spendgate.domain.ids import check_id

    return check_id(value, field)
