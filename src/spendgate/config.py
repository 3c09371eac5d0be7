"""Settings for a Spendgate process: one frozen value, read once at startup.

Sources, first wins: explicit overrides (CLI options), SPENDGATE_* environment variables,
then the defaults below. Secrets are `Secret` values whose repr never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from spendgate.errors import InvalidRequest

DEFAULT_DATABASE_URL = "sqlite:///./spendgate.db"


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that must not leak into logs or tracebacks: repr and str hide it."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('**********')" if self.value else "Secret('')"

    def __str__(self) -> str:
        return "**********" if self.value else ""

    def __bool__(self) -> bool:
        return bool(self.value)


def redact_url(url: str) -> str:
    """A database URL with its password replaced, fit to print."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: Secret = Secret(DEFAULT_DATABASE_URL)
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"
    # Per API key: a token bucket of `rate_limit_burst` requests refilled at `rate_limit_per_s`.
    rate_limit_per_s: int = 1000
    rate_limit_burst: int = 2000
    sweeper_interval_s: float = 1.0
    default_tenant: str = "default"
    # How long idempotency records are kept (the contract promises at least 24 h).
    idempotency_ttl_s: int = 48 * 3600
    # Cached tenant configuration (settings, rate cards, keys) is re-read after this long.
    config_cache_s: float = 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build from SPENDGATE_<FIELD> variables; keyword overrides (not None) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"SPENDGATE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, cls.__dataclass_fields__[f.name].default)
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in cls.__dataclass_fields__:
                raise TypeError(f"unknown setting {name}")
            values[name] = Secret(value) if name == "database_url" and isinstance(value, str) \
                else value
        return replace(cls(), **values)


def _convert(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, Secret):
        return Secret(raw)
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise InvalidRequest(
            f"SPENDGATE_{name.upper()}={raw!r} is not a valid {type(default).__name__}",
            param=f"SPENDGATE_{name.upper()}",
        ) from exc
    return raw


__all__ = ["DEFAULT_DATABASE_URL", "Secret", "Settings", "redact_url"]
