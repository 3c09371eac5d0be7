"""Identifiers: the tenant's own ids for nodes and limits, ours for reservations."""

from __future__ import annotations

import re
import secrets
from typing import NewType

from spendgate.errors import InvalidRequest

TenantId = NewType("TenantId", str)
OrgId = NewType("OrgId", str)
ProjectId = NewType("ProjectId", str)
UserId = NewType("UserId", str)
LimitId = NewType("LimitId", str)
ReservationId = NewType("ReservationId", str)
GrantId = NewType("GrantId", str)
IdempotencyKey = NewType("IdempotencyKey", str)

ENVIRONMENTS = ("live", "test")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidRequest(f"{field} must match [A-Za-z0-9_.:-]{{1,128}}", param=field)
    return value


def check_env(value: object) -> str:
    if value not in ENVIRONMENTS:
        raise InvalidRequest("env must be 'live' or 'test'", param="env")
    return str(value)


def new_id(prefix: str) -> str:
    """A random, URL-safe id such as res_3f9a...; 128 bits of entropy."""
    return f"{prefix}_{secrets.token_hex(16)}"
