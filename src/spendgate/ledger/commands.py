"""Commands the engine applies: plain values, validated before they reach the book."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge

UNSET: Any = object()  # a field the caller did not send (PUT keeps its old value)


@dataclass(frozen=True, slots=True)
class Idem:
    """An idempotency key and the fingerprint of the request it first came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class UpsertOrg:
    org: str
    name: Any = UNSET
    metadata: Any = UNSET
    overdraft_limit: Any = UNSET  # nano-credits
    status: Any = UNSET
    rate_card: Any = UNSET
    reason: str = "manual"  # why the status changed: "manual" or "payment_failed"
    ref: str | None = None  # the outside reference behind it (a vendor payment id)


@dataclass(frozen=True, slots=True)
class UpsertProject:
    org: str
    project: str
    name: Any = UNSET
    metadata: Any = UNSET
    status: Any = UNSET


@dataclass(frozen=True, slots=True)
class UpsertUser:
    org: str
    project: str
    user: str
    metadata: Any = UNSET
    status: Any = UNSET


@dataclass(frozen=True, slots=True)
class AddGrant:
    org: str
    amount: int
    priority: int = 100
    effective_ms: int | None = None
    expires_ms: int | None = None
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    grant_id: str | None = None  # given by callers that must be idempotent by an outside id


@dataclass(frozen=True, slots=True)
class PutLimit:
    limit_id: str
    path: NodePath
    meter: str
    amount: int
    window: str
    mode: str
    thresholds: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemRequest:
    ref: str
    options: tuple[Charge, ...]


@dataclass(frozen=True, slots=True)
class Reserve:
    path: NodePath
    items: tuple[ItemRequest, ...]
    ttl_ms: int
    policy: str = "all_or_nothing"
    metadata: dict[str, Any] = field(default_factory=dict)
    reservation_id: str | None = None


@dataclass(frozen=True, slots=True)
class CommitItem:
    ref: str
    actual: Charge


@dataclass(frozen=True, slots=True)
class Commit:
    org: str
    reservation_id: str
    items: tuple[CommitItem, ...]


@dataclass(frozen=True, slots=True)
class Release:
    org: str
    reservation_id: str


@dataclass(frozen=True, slots=True)
class DirectUsage:
    """Usage recorded without a hold (POST /v1/usage); its id dedups it."""

    id: str
    path: NodePath
    charge: Charge
    timestamp_ms: int | None = None
    kind: str = "usage"


@dataclass(frozen=True, slots=True)
class RecordUsage:
    org: str
    events: tuple[DirectUsage, ...]


@dataclass(frozen=True, slots=True)
class ExpireDue:
    org: str


Command = (
    UpsertOrg | UpsertProject | UpsertUser | AddGrant | PutLimit | Reserve | Commit | Release
    | RecordUsage | ExpireDue
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A command addressed to one org of one scope, with its idempotency key if any."""

    scope: Scope
    command: Command
    idem: Idem | None = None

    @property
    def org(self) -> str:
        cmd = self.command
        return cmd.path.org if isinstance(cmd, (PutLimit, Reserve)) else cmd.org
