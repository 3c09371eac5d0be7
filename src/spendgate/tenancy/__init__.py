"""Tenants, their API keys and their per-environment configuration."""

from __future__ import annotations

from spendgate.tenancy.configuration import Configuration, read_card, read_settings
from spendgate.tenancy.directory import Directory, Tenant
from spendgate.tenancy.keys import ApiKey, Role, digest, new_secret, parse_secret
from spendgate.tenancy.settings import DEFAULT_TTL_SECONDS, EnvSettings, check_ttl

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "ApiKey",
    "Configuration",
    "Directory",
    "EnvSettings",
    "Role",
    "Tenant",
    "check_ttl",
    "digest",
    "new_secret",
    "parse_secret",
    "read_card",
    "read_settings",
]
