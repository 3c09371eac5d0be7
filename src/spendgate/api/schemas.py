"""Request JSON -> validated values and commands. Every error names the offending field.

Bodies are parsed with exact numbers (JSON fractions become Decimal, never float), then
checked field by field; handlers stay thin and the domain receives only valid commands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request

from spendgate.domain.clock import rfc3339_to_ms
from spendgate.domain.hierarchy import STATUSES, NodePath
from spendgate.domain.ids import check_id
from spendgate.domain.limits import MODES, WINDOWS
from spendgate.domain.money import parse_credits
from spendgate.errors import InvalidAmount, InvalidRequest
from spendgate.ledger.commands import (
    UNSET,
    AddGrant,
    PutLimit,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.pricing import Usage, parse_period_to_date
from spendgate.tenancy import check_ttl

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 100
MAX_OPTIONS = 16
MAX_EVENTS = 1000
MAX_METADATA_BYTES = 16 * 1024
POLICIES = ("all_or_nothing", "partial")


# ---- bodies -------------------------------------------------------------------------

def _refuse_constant(name: str) -> Any:
    raise InvalidRequest(f"{name} is not a number JSON allows; amounts are decimal strings",
                         param="body")


async def read_json(request: Request, *, optional: bool = False) -> Any:
    """The body as exact JSON (fractions as Decimal); `{}` when optional and empty."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:  # refused before reading it
        raise InvalidRequest(f"the body is larger than {MAX_BODY_BYTES} bytes", param="body")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"the body is larger than {MAX_BODY_BYTES} bytes", param="body")
    if not raw.strip():
        if optional:
            return {}
        raise InvalidRequest("the body must be a JSON object", param="body")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}", param="body") from None


def obj(value: object, field: str = "body") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{field} must be a JSON object", param=field)
    return value


def only(body: Mapping[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    """Refuse unknown fields, so a typo is an error instead of a silent default."""
    for key in body:
        if key not in allowed:
            raise InvalidRequest(
                f"{prefix}{key} is not a known field (known: {', '.join(allowed)})",
                param=f"{prefix}{key}")


def text(value: object, field: str, *, max_len: int = 1024) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise InvalidRequest(f"{field} must be a string of 1 to {max_len} characters",
                             param=field)
    return value


def optional_text(body: Mapping[str, Any], field: str, *, max_len: int = 1024) -> Any:
    if field not in body:
        return UNSET
    value = body[field]
    return None if value is None else text(value, field, max_len=max_len)


def metadata(body: Mapping[str, Any], field: str = "metadata") -> Any:
    if field not in body:
        return UNSET
    value = body[field]
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{field} must be a JSON object", param=field)
    if len(json.dumps(value, default=str)) > MAX_METADATA_BYTES:
        raise InvalidRequest(f"{field} must be at most {MAX_METADATA_BYTES} bytes", param=field)
    return dict(value)


def integer(value: object, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"{field} must be an integer from {low} to {high}", param=field)
    return value


def timestamp(value: object, field: str) -> int:
    return rfc3339_to_ms(value, field)


def node_path(body: Mapping[str, Any], prefix: str = "") -> NodePath:
    """org, project?, user? from a body; a user needs its project."""
    org = check_id(body.get("org"), f"{prefix}org")
    project = "" if body.get("project") is None else check_id(body["project"], f"{prefix}project")
    user = "" if body.get("user") is None else check_id(body["user"], f"{prefix}user")
    if user and not project:
        raise InvalidRequest(f"{prefix}user needs {prefix}project: a user works inside a project",
                             param=f"{prefix}project")
    return NodePath(org, project, user)


def status_field(body: Mapping[str, Any]) -> Any:
    if "status" not in body:
        return UNSET
    value = body["status"]
    if value is not None and value not in STATUSES:
        raise InvalidRequest("status must be 'active' or 'suspended'", param="status")
    return value


# ---- hierarchy ----------------------------------------------------------------------

def upsert_org(org: str, body: Mapping[str, Any]) -> UpsertOrg:
    only(body, ("name", "metadata", "overdraft_limit", "status", "rate_card"))
    overdraft: Any = UNSET
    if "overdraft_limit" in body:
        raw = body["overdraft_limit"]
        overdraft = 0 if raw is None else parse_credits(raw, field="overdraft_limit",
                                                        allow_zero=True)
    rate_card: Any = UNSET
    if "rate_card" in body:
        rate_card = None if body["rate_card"] is None else check_id(body["rate_card"],
                                                                    "rate_card")
    return UpsertOrg(org, name=optional_text(body, "name"), metadata=metadata(body),
                     overdraft_limit=overdraft, status=status_field(body), rate_card=rate_card)


def upsert_project(org: str, project: str, body: Mapping[str, Any]) -> UpsertProject:
    only(body, ("name", "metadata", "status"))
    return UpsertProject(org, project, name=optional_text(body, "name"),
                         metadata=metadata(body), status=status_field(body))


def upsert_user(org: str, project: str, user: str, body: Mapping[str, Any]) -> UpsertUser:
    only(body, ("metadata", "status"))
    return UpsertUser(org, project, user, metadata=metadata(body), status=status_field(body))


# ---- wallet and limits --------------------------------------------------------------

def add_grant(org: str, body: Mapping[str, Any]) -> AddGrant:
    only(body, ("amount", "priority", "effective_at", "expires_at", "reason", "metadata"))
    if "amount" not in body:
        raise InvalidAmount("amount", "is required, e.g. \"100\"")
    amount = parse_credits(body["amount"], field="amount")
    priority = 100 if body.get("priority") is None else integer(
        body["priority"], "priority", low=0, high=1_000_000)
    effective = None if body.get("effective_at") is None else timestamp(
        body["effective_at"], "effective_at")
    expires = None if body.get("expires_at") is None else timestamp(
        body["expires_at"], "expires_at")
    reason = None if body.get("reason") is None else text(body["reason"], "reason")
    meta = metadata(body)
    return AddGrant(org, amount, priority, effective, expires, reason,
                    {} if meta in (UNSET, None) else meta)


def put_limit(limit_id: str, body: Mapping[str, Any]) -> PutLimit:
    only(body, ("org", "project", "user", "meter", "amount", "window", "mode", "thresholds"))
    path = node_path(body)
    meter = body.get("meter")
    if not isinstance(meter, str) or not meter:
        raise InvalidRequest("meter must be \"credits\" or a meter name such as "
                             "\"video\" or \"video.seconds\"", param="meter")
    check_id(meter, "meter")
    if "amount" not in body:
        raise InvalidAmount("amount", "is required, e.g. \"100\"")
    amount = parse_credits(body["amount"], field="amount", allow_zero=True)
    window = body.get("window")
    if window not in WINDOWS:
        raise InvalidRequest(f"window must be one of {', '.join(WINDOWS)}", param="window")
    mode = body.get("mode", "hard")
    if mode not in MODES:
        raise InvalidRequest("mode must be 'hard' or 'soft'", param="mode")
    thresholds: tuple[Decimal, ...] = ()
    raw = body.get("thresholds")
    if raw is not None:
        if not isinstance(raw, list) or len(raw) > 10:
            raise InvalidRequest("thresholds must be a list of at most 10 decimal strings "
                                 "such as [\"0.5\", \"0.8\", \"1\"]", param="thresholds")
        values = []
        for i, t in enumerate(raw):
            nano = parse_credits(t, field=f"thresholds[{i}]")
            if nano > 10 * 10**9:
                raise InvalidAmount(f"thresholds[{i}]", "must be at most 10 (1000 %)")
            values.append(Decimal(t))
        thresholds = tuple(sorted(set(values)))
    return PutLimit(limit_id, path, meter, amount, str(window), str(mode), thresholds)


# ---- reservations and usage -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Priced:
    """One way to fund an item: credits given directly, or a usage the rate card prices."""

    amount: int | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class ItemSpec:
    ref: str
    options: tuple[Priced, ...]
    expand_fallbacks: bool  # a single `usage` item: the tenant's fallbacks become options


@dataclass(frozen=True, slots=True)
class ReserveSpec:
    path: NodePath
    items: tuple[ItemSpec, ...]
    policy: str
    ttl_seconds: int | None
    metadata: dict[str, Any]


def priced(body: Mapping[str, Any], prefix: str) -> Priced:
    has_amount, has_usage = "amount" in body, "usage" in body
    if has_amount == has_usage:
        raise InvalidRequest(f"{prefix} needs exactly one of amount or usage",
                             param=f"{prefix}amount" if not has_amount else f"{prefix}usage")
    if has_amount:
        return Priced(amount=parse_credits(body["amount"], field=f"{prefix}amount"))
    return Priced(usage=Usage.parse(body["usage"], f"{prefix}usage"))


def reserve(body: Mapping[str, Any]) -> ReserveSpec:
    only(body, ("org", "project", "user", "policy", "ttl_seconds", "items", "metadata"))
    path = node_path(body)
    policy = body.get("policy") or "all_or_nothing"
    if policy not in POLICIES:
        raise InvalidRequest("policy must be 'all_or_nothing' or 'partial'", param="policy")
    ttl = None if body.get("ttl_seconds") is None else check_ttl(body["ttl_seconds"],
                                                                  "ttl_seconds")
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_ITEMS:
        raise InvalidRequest(f"items must be a list of 1 to {MAX_ITEMS} items", param="items")
    items: list[ItemSpec] = []
    refs: set[str] = set()
    for i, raw in enumerate(raw_items):
        prefix = f"items[{i}]."
        item = obj(raw, f"items[{i}]")
        only(item, ("ref", "amount", "usage", "options"), prefix)
        ref = text(item.get("ref"), f"{prefix}ref", max_len=128)
        if ref in refs:
            raise InvalidRequest(f"{prefix}ref {ref!r} is used twice", param=f"{prefix}ref")
        refs.add(ref)
        if "options" in item:
            if "amount" in item or "usage" in item:
                raise InvalidRequest(f"{prefix}options excludes amount and usage",
                                     param=f"{prefix}options")
            raw_options = item["options"]
            if not isinstance(raw_options, list) or not 1 <= len(raw_options) <= MAX_OPTIONS:
                raise InvalidRequest(f"{prefix}options must be a list of 1 to {MAX_OPTIONS}",
                                     param=f"{prefix}options")
            options = []
            for j, option in enumerate(raw_options):
                oprefix = f"{prefix}options[{j}]."
                body_j = obj(option, f"{prefix}options[{j}]")
                only(body_j, ("amount", "usage"), oprefix)
                options.append(priced(body_j, oprefix))
            items.append(ItemSpec(ref, tuple(options), False))
        else:
            choice = priced(item, prefix)
            items.append(ItemSpec(ref, (choice,), choice.usage is not None))
    meta = metadata(body)
    return ReserveSpec(path, tuple(items), str(policy), ttl,
                       {} if meta in (UNSET, None) else meta)


@dataclass(frozen=True, slots=True)
class CommitSpec:
    items: tuple[tuple[str, Priced], ...]


def commit(body: Mapping[str, Any]) -> CommitSpec:
    only(body, ("items",))
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
        raise InvalidRequest(f"items must be a list of up to {MAX_ITEMS} items (those not "
                             "named are released)", param="items")
    out = []
    for i, raw in enumerate(raw_items):
        prefix = f"items[{i}]."
        item = obj(raw, f"items[{i}]")
        only(item, ("ref", "amount", "usage"), prefix)
        ref = text(item.get("ref"), f"{prefix}ref", max_len=128)
        out.append((ref, priced(item, prefix)))
    return CommitSpec(tuple(out))


@dataclass(frozen=True, slots=True)
class EventSpec:
    id: str
    path: NodePath
    timestamp_ms: int | None
    choice: Priced


def usage_events(body: Mapping[str, Any]) -> tuple[EventSpec, ...]:
    only(body, ("events",))
    raw = body.get("events")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_EVENTS:
        raise InvalidRequest(f"events must be a list of 1 to {MAX_EVENTS} events",
                             param="events")
    out = []
    for i, item in enumerate(raw):
        prefix = f"events[{i}]."
        event = obj(item, f"events[{i}]")
        only(event, ("id", "org", "project", "user", "timestamp", "amount", "usage"), prefix)
        event_id = check_id(event.get("id"), f"{prefix}id")
        path = node_path(event, prefix)
        ts = None if event.get("timestamp") is None else timestamp(event["timestamp"],
                                                                   f"{prefix}timestamp")
        out.append(EventSpec(event_id, path, ts, priced(event, prefix)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class QuoteSpec:
    usage: Usage
    org: str | None
    rate_card: str | None
    at_ms: int | None
    period_to_date: dict[str, Decimal] | None


def quote(body: Mapping[str, Any]) -> QuoteSpec:
    only(body, ("usage", "org", "rate_card", "at", "period_to_date"))
    if "usage" not in body:
        raise InvalidRequest("usage is required", param="usage")
    usage = Usage.parse(body["usage"], "usage")
    org = None if body.get("org") is None else check_id(body["org"], "org")
    card = None if body.get("rate_card") is None else check_id(body["rate_card"], "rate_card")
    at = None if body.get("at") is None else timestamp(body["at"], "at")
    ptd = None if body.get("period_to_date") is None else parse_period_to_date(
        body["period_to_date"])
    return QuoteSpec(usage, org, card, at, ptd)


def rate_card_version(body: Mapping[str, Any]) -> tuple[int | None, object]:
    only(body, ("effective_at", "prices"))
    at = None if body.get("effective_at") is None else timestamp(body["effective_at"],
                                                                 "effective_at")
    return at, body.get("prices")
