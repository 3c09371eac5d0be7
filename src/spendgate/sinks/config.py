"""A sink's configuration, validated when written (PUT /v1/sinks/{name}).

Secrets (api_key, webhook_secret) are write-only: they live in `Secret`, whose repr and str
hide the value, and `to_public_dict()` never includes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, cast
from urllib.parse import urlsplit

from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest

SinkType = Literal["flexprice", "metronome", "lago", "nats"]
SINK_TYPES: Final[tuple[str, ...]] = ("flexprice", "metronome", "lago", "nats")

# Largest batch each destination takes in one call (each vendor's published limit).
VENDOR_MAX_BATCH: Final[Mapping[str, int]] = MappingProxyType(
    {"flexprice": 1000, "metronome": 100, "lago": 100, "nats": 1000}
)
DEFAULT_BASE_URL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "flexprice": "https://us.api.flexprice.io/v1",
        "metronome": "https://api.metronome.com",
        "lago": "https://api.getlago.com/",
        "nats": "nats://127.0.0.1:4222",
    }
)
_OPTIONS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "flexprice": frozenset({"timeout_ms", "max_batch", "source", "native_webhook_sources",
                                "native_webhook_header"}),
        "metronome": frozenset({"timeout_ms", "max_batch"}),
        "lago": frozenset({"timeout_ms", "max_batch", "transport", "webhook_issuer"}),
        "nats": frozenset(
            {"timeout_ms", "max_batch", "stream", "subject_prefix", "duplicate_window_s"}
        ),
    }
)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,7}$")
_MAX_NAME = 255


class Secret:
    """A secret string whose repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class SinkConfig:
    name: str
    type: SinkType
    enabled: bool = True
    base_url: str = ""
    api_key: Secret | None = None
    customer_ids: Mapping[str, str] = field(default_factory=dict)
    event_names: Mapping[str, str] = field(default_factory=dict)
    webhook_secret: Secret | None = None
    webhook_public_key: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, name: str, body: object, previous: SinkConfig | None = None) -> SinkConfig:
        """Validate the API's JSON body; raise InvalidRequest naming the bad field.

        Secrets are write-only, so a PUT that omits one keeps `previous`'s (same type only).
        """
        check_id(name, "name")
        if not isinstance(body, Mapping):
            raise InvalidRequest("the sink must be a JSON object", param="body")
        unknown = set(body) - {
            "type", "enabled", "base_url", "api_key", "customer_ids", "event_names",
            "webhook_secret", "webhook_public_key", "options",
        }
        if unknown:
            bad = sorted(unknown)[0]
            raise InvalidRequest(f"unknown field {bad!r}", param=bad)
        kind = body.get("type")
        if kind not in SINK_TYPES:
            raise InvalidRequest(
                "type must be one of flexprice, metronome, lago, nats", param="type"
            )
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InvalidRequest("enabled must be true or false", param="enabled")
        kept = previous if previous is not None and previous.type == kind else None
        api_key = _secret(body.get("api_key"), "api_key")
        if api_key is None and kept is not None and "api_key" not in body:
            api_key = kept.api_key
        webhook_secret = _secret(body.get("webhook_secret"), "webhook_secret")
        if webhook_secret is None and kept is not None and "webhook_secret" not in body:
            webhook_secret = kept.webhook_secret
        if kind != "nats" and api_key is None:
            raise InvalidRequest(f"api_key is required for a {kind} sink", param="api_key")
        public_key = body.get("webhook_public_key")
        if public_key is not None and (not isinstance(public_key, str) or not public_key):
            raise InvalidRequest(
                "webhook_public_key must be a non-empty string", param="webhook_public_key"
            )
        return cls(
            name=name,
            type=cast(SinkType, kind),
            enabled=enabled,
            base_url=normalize_base_url(kind, body.get("base_url")),
            api_key=api_key,
            customer_ids=_mapping(body.get("customer_ids"), "customer_ids"),
            event_names=_mapping(body.get("event_names"), "event_names"),
            webhook_secret=webhook_secret,
            webhook_public_key=public_key,
            options=_options(kind, body.get("options")),
        )

    @property
    def max_batch(self) -> int:
        return int(self.options.get("max_batch", VENDOR_MAX_BATCH[self.type]))

    @property
    def timeout_s(self) -> float:
        return int(self.options.get("timeout_ms", 10_000)) / 1000

    def customer_id(self, org: str) -> str:
        return self.customer_ids.get(org, org)

    def event_name(self, meter: str) -> str:
        return self.event_names.get(meter, meter)

    def to_private_dict(self) -> dict[str, Any]:
        """The PUT body with secrets revealed: for the store ONLY (never a response or a log).

        `SinkConfig.parse(config.name, config.to_private_dict())` gives `config` back.
        """
        body: dict[str, Any] = {
            "type": self.type,
            "enabled": self.enabled,
            "base_url": self.base_url,
            "customer_ids": dict(self.customer_ids),
            "event_names": dict(self.event_names),
            "options": dict(self.options),
        }
        if self.api_key is not None:
            body["api_key"] = self.api_key.reveal()
        if self.webhook_secret is not None:
            body["webhook_secret"] = self.webhook_secret.reveal()
        if self.webhook_public_key is not None:
            body["webhook_public_key"] = self.webhook_public_key
        return body

    def to_public_dict(self) -> dict[str, Any]:
        """What GET /v1/sinks/{name} returns: everything except the secrets' values."""
        return {
            "name": self.name,
            "type": self.type,
            "enabled": self.enabled,
            "base_url": self.base_url,
            "api_key_set": self.api_key is not None,
            "customer_ids": dict(self.customer_ids),
            "event_names": dict(self.event_names),
            "webhook_secret_set": self.webhook_secret is not None,
            "webhook_public_key": self.webhook_public_key,
            "options": dict(self.options),
        }


def normalize_base_url(kind: str, value: object) -> str:
    """The URL form each SDK needs: Flexprice ends in /v1, Lago in '/' (see docs/sinks.md)."""
    if value is None:
        return DEFAULT_BASE_URL[kind]
    if not isinstance(value, str) or not value:
        raise InvalidRequest("base_url must be a URL string", param="base_url")
    parts = urlsplit(value)
    schemes = ("nats", "tls") if kind == "nats" else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        raise InvalidRequest(
            f"base_url must be an absolute {' or '.join(schemes)} URL", param="base_url"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise InvalidRequest("base_url has an invalid port", param="base_url") from exc
    path = parts.path.rstrip("/")
    root = f"{parts.scheme}://{parts.netloc}"
    if kind == "flexprice":
        # The SDK appends /events/bulk to server_url, whose path is the API's basePath /v1.
        return root + (path if path.endswith("/v1") else path + "/v1")
    if kind == "lago":
        # The SDK urljoins "api/v1/": a base without a final slash loses its last segment.
        path = path.removesuffix("/api/v1")
        return root + path + "/"
    if kind == "metronome":
        # The SDK adds /v1/ingest itself.
        return root + path.removesuffix("/v1")
    return root


def _secret(value: object, param: str) -> Secret | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise InvalidRequest(f"{param} must be a non-empty string", param=param)
    return Secret(value)


def _mapping(value: object, param: str) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{param} must be an object of strings", param=param)
    out: dict[str, str] = {}
    for key, item in value.items():
        check_id(key, f"{param}.{key}" if isinstance(key, str) else param)
        if not isinstance(item, str) or not item.strip() or len(item) > _MAX_NAME:
            raise InvalidRequest(
                f"{param}.{key} must be a non-empty string of at most {_MAX_NAME} characters",
                param=f"{param}.{key}",
            )
        if item != item.strip():
            raise InvalidRequest(
                f"{param}.{key} must not start or end with spaces", param=f"{param}.{key}"
            )
        out[key] = item
    return MappingProxyType(out)


def _options(kind: str, value: object) -> Mapping[str, Any]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InvalidRequest("options must be an object", param="options")
    out: dict[str, Any] = {}
    for key, item in value.items():
        param = f"options.{key}"
        if key not in _OPTIONS[kind]:
            raise InvalidRequest(f"unknown option {key!r} for a {kind} sink", param=param)
        if key == "timeout_ms":
            out[key] = _int(item, param, 1, 120_000)
        elif key == "max_batch":
            out[key] = _int(item, param, 1, VENDOR_MAX_BATCH[kind])
        elif key == "duplicate_window_s":
            out[key] = _int(item, param, 1, 7 * 86_400)
        elif key == "transport":
            if item not in ("pooled", "sdk"):
                raise InvalidRequest(f"{param} must be 'pooled' or 'sdk'", param=param)
            out[key] = item
        elif key == "stream":
            if not isinstance(item, str) or not _TOKEN.match(item):
                raise InvalidRequest(f"{param} must match [A-Za-z0-9_-]{{1,64}}", param=param)
            out[key] = item
        elif key == "subject_prefix":
            if not isinstance(item, str) or not _PREFIX.match(item):
                raise InvalidRequest(
                    f"{param} must be dot-separated tokens of [A-Za-z0-9_-]", param=param
                )
            out[key] = item
        elif key == "native_webhook_sources":
            if not isinstance(item, list) or not item or not all(
                    isinstance(x, str) and _network(x) for x in item):
                raise InvalidRequest(f"{param} must be a list of IP networks (CIDR)",
                                     param=param)
            out[key] = tuple(item)
        elif key in ("native_webhook_header", "webhook_issuer") or key == "source":
            if not isinstance(item, str) or not item or len(item) > _MAX_NAME:
                raise InvalidRequest(f"{param} must be a non-empty string", param=param)
            out[key] = item
    return MappingProxyType(out)


def _network(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _int(value: object, param: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"{param} must be an integer from {low} to {high}", param=param)
    return value


__all__ = ["DEFAULT_BASE_URL", "SINK_TYPES", "VENDOR_MAX_BATCH", "Secret", "SinkConfig",
           "SinkType", "normalize_base_url"]
