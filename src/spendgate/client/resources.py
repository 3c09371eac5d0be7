"""What the API answers, as typed values. Amounts stay decimal strings of credits.

Every value keeps the whole answer in `raw`, so fields the server adds later are readable
before this client knows their names. Writes say whether the answer was an idempotent
replay (`replayed`): a replay had no effect of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Raw = Mapping[str, Any]


def credits(value: str) -> Decimal:
    """A decimal string of credits as an exact Decimal."""
    return Decimal(value)


def _str(data: Raw, key: str, default: str | None = None) -> str | None:
    value = data.get(key, default)
    return None if value is None else str(value)


def _money(data: Raw, key: str) -> str:
    value = data.get(key)
    return "0" if value is None else str(value)


def _meta(data: Raw) -> dict[str, Any]:
    value = data.get("metadata")
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: follow `next_cursor` (as `starting_after`) while `has_more`."""

    data: tuple[T, ...]
    has_more: bool
    next_cursor: str | None

    def __iter__(self) -> Any:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def page_of(raw: Raw, parse: Any) -> Page[Any]:
    items = raw.get("data") or []
    return Page(tuple(parse(i) for i in items), bool(raw.get("has_more")),
                _str(raw, "next_cursor"))


@dataclass(frozen=True, slots=True)
class Node:
    """An organization, project or user."""

    org: str
    project: str | None
    user: str | None
    name: str | None
    status: str
    metadata: dict[str, Any]
    overdraft_limit: str | None  # orgs only
    rate_card: str | None  # orgs only
    raw: Raw = field(repr=False)
    created: bool = False  # the PUT created it (201)
    replayed: bool = False

    @property
    def level(self) -> str:
        return "user" if self.user else "project" if self.project else "org"

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Node:
        org = _str(raw, "org") or _str(raw, "id") or ""
        return cls(
            org=org,
            project=_str(raw, "project") or None,
            user=_str(raw, "user") or None,
            name=_str(raw, "name"),
            status=_str(raw, "status") or "active",
            metadata=_meta(raw),
            overdraft_limit=_str(raw, "overdraft_limit"),
            rate_card=_str(raw, "rate_card"),
            raw=raw,
            created=status == 201,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    org: str | None
    amount: str
    remaining: str
    priority: int
    effective_at: str | None
    expires_at: str | None
    reason: str | None
    metadata: dict[str, Any]
    raw: Raw = field(repr=False)
    replayed: bool = False

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Grant:
        priority = raw.get("priority")
        return cls(
            id=_str(raw, "id") or "",
            org=_str(raw, "org"),
            amount=_money(raw, "amount"),
            remaining=_money(raw, "remaining") if "remaining" in raw else _money(raw, "amount"),
            priority=priority if isinstance(priority, int) else 100,
            effective_at=_str(raw, "effective_at"),
            expires_at=_str(raw, "expires_at"),
            reason=_str(raw, "reason"),
            metadata=_meta(raw),
            raw=raw,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """available = granted (active) - spent - held + overdraft_limit."""

    org: str | None
    granted: str
    spent: str
    held: str
    available: str
    overdraft_limit: str
    raw: Raw = field(repr=False)

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Balance:
        return cls(
            org=_str(raw, "org"),
            granted=_money(raw, "granted"),
            spent=_money(raw, "spent"),
            held=_money(raw, "held"),
            available=_money(raw, "available"),
            overdraft_limit=_money(raw, "overdraft_limit"),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class Limit:
    id: str
    org: str
    project: str | None
    user: str | None
    meter: str
    amount: str
    window: str
    mode: str
    thresholds: tuple[str, ...]
    raw: Raw = field(repr=False)
    created: bool = False
    replayed: bool = False

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Limit:
        return cls(
            id=_str(raw, "id") or _str(raw, "limit_id") or "",
            org=_str(raw, "org") or "",
            project=_str(raw, "project") or None,
            user=_str(raw, "user") or None,
            meter=_str(raw, "meter") or "credits",
            amount=_money(raw, "amount"),
            window=_str(raw, "window") or "lifetime",
            mode=_str(raw, "mode") or "hard",
            thresholds=tuple(str(t) for t in raw.get("thresholds") or ()),
            raw=raw,
            created=status == 201,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """One limit on a path, with its use in the current window."""

    limit: Limit
    used: str
    held: str
    remaining: str
    window_start: str | None
    raw: Raw = field(repr=False)

    @property
    def level(self) -> str:
        return "user" if self.limit.user else "project" if self.limit.project else "org"

    @classmethod
    def from_api(cls, raw: Raw) -> LimitStatus:
        inner = raw.get("limit")
        limit = Limit.from_api(inner if isinstance(inner, Mapping) else raw)
        return cls(limit, _money(raw, "used"), _money(raw, "held"), _money(raw, "remaining"),
                   _str(raw, "window_start"), raw)


def statuses_of(raw: Raw | Sequence[Raw]) -> tuple[LimitStatus, ...]:
    rows = raw.get("data", raw.get("limits", [])) if isinstance(raw, Mapping) else raw
    return tuple(LimitStatus.from_api(r) for r in rows)


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an item was not funded: a value to read, not an error."""

    level: str  # org | project | user
    reason: str  # insufficient_funds | limit_exceeded | suspended
    limit_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReservationItem:
    ref: str
    status: str  # held | denied
    option: int | None
    amount: str | None  # what is (or was) held for it
    charged: str | None  # set once committed
    denied_by: Denial | None
    raw: Raw = field(repr=False)

    @property
    def held(self) -> bool:
        return self.status == "held"

    @classmethod
    def from_api(cls, raw: Raw) -> ReservationItem:
        denied = raw.get("denied_by")
        option = raw.get("option")
        charged = raw.get("charged")
        if isinstance(charged, Mapping):  # some answers nest {"amount": ...}
            charged = charged.get("amount", charged.get("credits"))
        return cls(
            ref=str(raw.get("ref")),
            status=str(raw.get("status")),
            option=option if isinstance(option, int) else None,
            amount=_str(raw, "amount") if raw.get("amount") is not None else _str(raw, "held"),
            charged=None if charged is None else str(charged),
            denied_by=Denial(str(denied["level"]), str(denied["reason"]),
                             _str(denied, "limit_id")) if isinstance(denied, Mapping) else None,
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class Reservation:
    """A decision about a batch of work, then what it settled to.

    Statuses: held | partial | denied, then committed | released | expired.
    """

    id: str
    status: str
    org: str | None
    project: str | None
    user: str | None
    policy: str | None
    expires_at: str | None
    items: tuple[ReservationItem, ...]
    metadata: dict[str, Any]
    raw: Raw = field(repr=False)
    replayed: bool = False

    @property
    def open(self) -> bool:
        """Something is held and still waits for commit or release."""
        return self.status in ("held", "partial")

    @property
    def denied(self) -> bool:
        return self.status == "denied"

    @property
    def held_refs(self) -> tuple[str, ...]:
        return tuple(i.ref for i in self.items if i.held)

    def item(self, ref: str) -> ReservationItem:
        for i in self.items:
            if i.ref == ref:
                return i
        raise KeyError(ref)

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Reservation:
        return cls(
            id=str(raw.get("id")),
            status=str(raw.get("status")),
            org=_str(raw, "org"),
            project=_str(raw, "project") or None,
            user=_str(raw, "user") or None,
            policy=_str(raw, "policy"),
            expires_at=_str(raw, "expires_at"),
            items=tuple(ReservationItem.from_api(i) for i in raw.get("items") or ()),
            metadata=_meta(raw),
            raw=raw,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class QuoteLine:
    quantity: str
    units: str
    credits: str
    price: Raw


@dataclass(frozen=True, slots=True)
class Quote:
    """A dry run: what the usage would cost, line by line."""

    credits: str
    rate_card: str | None
    version: int | None
    lines: tuple[QuoteLine, ...]
    raw: Raw = field(repr=False)

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Quote:
        version = raw.get("version")
        return cls(
            credits=_money(raw, "credits"),
            rate_card=_str(raw, "rate_card"),
            version=version if isinstance(version, int) else None,
            lines=tuple(QuoteLine(str(x.get("quantity")), str(x.get("units")),
                                  _money(x, "credits"), dict(x.get("price") or {}))
                        for x in raw.get("lines") or ()),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class RateCardVersion:
    card: str
    version: int
    effective_at: str | None
    prices: tuple[Raw, ...]
    raw: Raw = field(repr=False)
    replayed: bool = False

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200,
                 replayed: bool = False) -> RateCardVersion:
        version = raw.get("version")
        return cls(str(raw.get("card")), version if isinstance(version, int) else 0,
                   _str(raw, "effective_at"), tuple(raw.get("prices") or ()), raw, replayed)


@dataclass(frozen=True, slots=True)
class RateCard:
    card: str
    versions: tuple[RateCardVersion, ...]
    raw: Raw = field(repr=False)

    @property
    def latest(self) -> RateCardVersion:
        return max(self.versions, key=lambda v: v.version)

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> RateCard:
        name = str(raw.get("card"))
        versions = tuple(RateCardVersion.from_api({"card": name, **v})
                         for v in raw.get("versions") or ())
        return cls(name, versions, raw)


@dataclass(frozen=True, slots=True)
class Settings:
    default_rate_card: str | None
    credit_value: dict[str, str] | None
    default_ttl_seconds: int | None
    fallbacks: dict[str, list[str]]
    raw: Raw = field(repr=False)
    replayed: bool = False

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> Settings:
        ttl = raw.get("default_ttl_seconds")
        value = raw.get("credit_value")
        return cls(
            default_rate_card=_str(raw, "default_rate_card"),
            credit_value=dict(value) if isinstance(value, Mapping) else None,
            default_ttl_seconds=ttl if isinstance(ttl, int) else None,
            fallbacks={k: list(v) for k, v in (raw.get("fallbacks") or {}).items()},
            raw=raw,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class UsageIngest:
    accepted: int
    duplicates: int
    raw: Raw = field(repr=False)
    replayed: bool = False

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 202, replayed: bool = False) -> UsageIngest:
        return cls(int(raw.get("accepted") or 0), int(raw.get("duplicates") or 0), raw,
                   replayed)


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Usage grouped as asked: each row has its group keys, `credits` and quantities."""

    data: tuple[Raw, ...]
    raw: Raw = field(repr=False)

    @property
    def total_credits(self) -> Decimal:
        return sum((credits(str(r.get("credits") or "0")) for r in self.data), Decimal(0))

    @classmethod
    def from_api(cls, raw: Raw, *, status: int = 200, replayed: bool = False) -> UsageReport:
        rows = raw.get("data") or raw.get("groups") or ()
        return cls(tuple(rows), raw)


__all__ = [
    "Balance",
    "Denial",
    "Grant",
    "Limit",
    "LimitStatus",
    "Node",
    "Page",
    "Quote",
    "QuoteLine",
    "RateCard",
    "RateCardVersion",
    "Reservation",
    "ReservationItem",
    "Settings",
    "UsageIngest",
    "UsageReport",
    "credits",
]
