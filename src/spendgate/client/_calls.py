"""Each API operation as a plain Call (method, path, body): built once, sent by any transport.

The HTTP gates send a Call over the network; the embedded gate hands it to the engine in
process. Inputs are checked for exactness here: credits are decimal strings or Decimals,
quantities ints, Decimals or decimal strings, never floats.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote as _quote


class UsageObject(Protocol):
    """Anything that renders as a usage object, such as spendgate.pricing.Usage."""

    def to_dict(self) -> dict[str, object]: ...


Amount = str | Decimal | int
UsageLike = Mapping[str, Any] | UsageObject
When = str | datetime


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    dry_run: bool = False  # a POST that changes nothing (a quote)

    @property
    def mutating(self) -> bool:
        return self.method != "GET" and not self.dry_run

    @property
    def idempotent(self) -> bool:
        """Safe to send again: a read, or a write whose key makes a repeat a replay."""
        return not self.mutating or self.idempotency_key is not None

    def with_key(self, key: str) -> Call:
        return Call(self.method, self.path, self.body, self.query, key, self.dry_run)


@dataclass(frozen=True, slots=True)
class Answer:
    """A 2xx answer: its status, JSON body and whether it was an idempotent replay."""

    status: int
    body: Any
    replayed: bool = False


def new_idempotency_key() -> str:
    return f"idem_{uuid.uuid4().hex}"


def seg(value: str) -> str:
    """One path segment, escaped."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"an id must be a non-empty string, got {value!r}")
    return _quote(value, safe="")


def amount_text(value: Amount, name: str = "amount") -> str:
    """Credits as plain decimal notation; floats are refused, they are not exact."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a decimal string or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a decimal string or Decimal, not {type(value).__name__}")


def time_text(value: When) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def usage_body(usage: Any) -> dict[str, Any]:
    """A usage object as JSON: Decimals become ints or exact strings under "quantities"."""
    if hasattr(usage, "to_dict") and not isinstance(usage, Mapping):
        usage = usage.to_dict()  # spendgate.pricing.Usage
    if not isinstance(usage, Mapping):
        raise TypeError("usage must be a mapping such as {'meter': 'llm', ...}")
    out: dict[str, Any] = {}
    nested: dict[str, str] = dict(usage.get("quantities") or {})
    for key, value in usage.items():
        if key == "quantities":
            continue
        if isinstance(value, float):
            raise TypeError(f"usage.{key} must be an int, Decimal or string, not a float")
        if isinstance(value, Decimal):
            if value == value.to_integral_value():
                out[key] = int(value)
            else:
                nested[key] = format(value, "f")
        else:
            out[key] = value
    if nested:
        out["quantities"] = {k: amount_text(v, f"usage.quantities.{k}")
                             for k, v in nested.items()}
    return out


def charge_body(amount: Amount | None, usage: Any | None) -> dict[str, Any]:
    """`{"amount": ...}` or `{"usage": ...}`: exactly one of them."""
    if (amount is None) == (usage is None):
        raise TypeError("give exactly one of amount and usage")
    if amount is not None:
        return {"amount": amount_text(amount)}
    return {"usage": usage_body(usage)}


def item_body(item: Mapping[str, Any]) -> dict[str, Any]:
    """A reservation item: {"ref", "amount" | "usage" | "options": [...]}."""
    out: dict[str, Any] = {"ref": item["ref"]}
    if "options" in item:
        out["options"] = [charge_body(o.get("amount"), o.get("usage")) for o in item["options"]]
    else:
        out.update(charge_body(item.get("amount"), item.get("usage")))
    return out


def _page(limit: int | None, starting_after: str | None) -> dict[str, str]:
    query: dict[str, str] = {}
    if limit is not None:
        query["limit"] = str(limit)
    if starting_after is not None:
        query["starting_after"] = starting_after
    return query


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# ---- hierarchy --------------------------------------------------------------------------

def org_path(org: str, project: str | None = None, user: str | None = None) -> str:
    path = f"/v1/orgs/{seg(org)}"
    if project is not None:
        path += f"/projects/{seg(project)}"
        if user is not None:
            path += f"/users/{seg(user)}"
    elif user is not None:
        raise TypeError("a user needs its project")
    return path


def put_org(org: str, *, name: str | None = None, metadata: Mapping[str, Any] | None = None,
            overdraft_limit: Amount | None = None, status: str | None = None,
            rate_card: str | None = None) -> Call:
    body = _given(name=name, metadata=metadata, status=status, rate_card=rate_card)
    if overdraft_limit is not None:
        body["overdraft_limit"] = amount_text(overdraft_limit, "overdraft_limit")
    return Call("PUT", org_path(org), body)


def put_project(org: str, project: str, *, name: str | None = None,
                metadata: Mapping[str, Any] | None = None) -> Call:
    return Call("PUT", org_path(org, project), _given(name=name, metadata=metadata))


def put_user(org: str, project: str, user: str, *,
             metadata: Mapping[str, Any] | None = None) -> Call:
    return Call("PUT", org_path(org, project, user), _given(metadata=metadata))


def get_node(org: str, project: str | None = None, user: str | None = None) -> Call:
    return Call("GET", org_path(org, project, user))


def list_orgs(limit: int | None = None, starting_after: str | None = None) -> Call:
    return Call("GET", "/v1/orgs", query=_page(limit, starting_after))


def list_projects(org: str, limit: int | None = None,
                  starting_after: str | None = None) -> Call:
    return Call("GET", org_path(org) + "/projects", query=_page(limit, starting_after))


def list_users(org: str, project: str, limit: int | None = None,
               starting_after: str | None = None) -> Call:
    return Call("GET", org_path(org, project) + "/users", query=_page(limit, starting_after))


# ---- wallet ----------------------------------------------------------------------------

def add_grant(org: str, amount: Amount, *, priority: int | None = None,
              effective_at: When | None = None, expires_at: When | None = None,
              reason: str | None = None, metadata: Mapping[str, Any] | None = None) -> Call:
    body: dict[str, Any] = {"amount": amount_text(amount)}
    body.update(_given(priority=priority, reason=reason, metadata=metadata))
    if effective_at is not None:
        body["effective_at"] = time_text(effective_at)
    if expires_at is not None:
        body["expires_at"] = time_text(expires_at)
    return Call("POST", org_path(org) + "/grants", body)


def list_grants(org: str, limit: int | None = None, starting_after: str | None = None) -> Call:
    return Call("GET", org_path(org) + "/grants", query=_page(limit, starting_after))


def balance(org: str) -> Call:
    return Call("GET", org_path(org) + "/balance")


# ---- limits ----------------------------------------------------------------------------

def put_limit(limit_id: str, *, org: str, amount: Amount, window: str, meter: str = "credits",
              mode: str = "hard", project: str | None = None, user: str | None = None,
              thresholds: Sequence[Amount] | None = None) -> Call:
    body: dict[str, Any] = {"org": org, "meter": meter, "amount": amount_text(amount),
                            "window": window, "mode": mode}
    body.update(_given(project=project, user=user))
    if thresholds is not None:
        body["thresholds"] = [amount_text(t, "thresholds") for t in thresholds]
    return Call("PUT", f"/v1/limits/{seg(limit_id)}", body)


def list_limits(org: str | None = None, project: str | None = None, user: str | None = None,
                limit: int | None = None, starting_after: str | None = None) -> Call:
    query = _given(org=org, project=project, user=user)
    query.update(_page(limit, starting_after))
    return Call("GET", "/v1/limits", query=query)


def status(org: str, project: str | None = None, user: str | None = None) -> Call:
    return Call("GET", org_path(org, project, user) + "/status")


# ---- reservations ----------------------------------------------------------------------

def reserve(org: str, project: str | None = None, user: str | None = None, *,
            items: Sequence[Mapping[str, Any]] | None = None, amount: Amount | None = None,
            usage: Any | None = None, options: Sequence[Mapping[str, Any]] | None = None,
            ref: str = "item", policy: str | None = None, ttl_seconds: int | None = None,
            metadata: Mapping[str, Any] | None = None) -> Call:
    """One item (amount, usage or options) or a batch (items)."""
    singles = sum(x is not None for x in (amount, usage, options))
    if items is None:
        if singles != 1:
            raise TypeError("give one of amount, usage, options, or a list of items")
        single: dict[str, Any] = {"ref": ref}
        if options is not None:
            single["options"] = list(options)
        elif amount is not None:
            single["amount"] = amount
        else:
            single["usage"] = usage
        items = [single]
    elif singles:
        raise TypeError("give items, or one of amount, usage and options, not both")
    body: dict[str, Any] = {"org": org, "items": [item_body(i) for i in items]}
    body.update(_given(project=project, user=user, policy=policy, ttl_seconds=ttl_seconds,
                       metadata=metadata))
    return Call("POST", "/v1/reservations", body)


def commit(reservation_id: str, items: Sequence[Mapping[str, Any]]) -> Call:
    body = {"items": [{"ref": i["ref"], **charge_body(i.get("amount"), i.get("usage"))}
                      for i in items]}
    return Call("POST", f"/v1/reservations/{seg(reservation_id)}/commit", body)


def release(reservation_id: str) -> Call:
    return Call("POST", f"/v1/reservations/{seg(reservation_id)}/release", {})


def get_reservation(reservation_id: str) -> Call:
    return Call("GET", f"/v1/reservations/{seg(reservation_id)}")


# ---- pricing ---------------------------------------------------------------------------

def create_rate_card_version(card: str, prices: Sequence[Mapping[str, Any]], *,
                             effective_at: When | None = None) -> Call:
    body: dict[str, Any] = {"prices": [dict(p) for p in prices]}
    if effective_at is not None:
        body["effective_at"] = time_text(effective_at)
    return Call("POST", f"/v1/rate-cards/{seg(card)}/versions", body)


def get_rate_card(card: str) -> Call:
    return Call("GET", f"/v1/rate-cards/{seg(card)}")


def put_settings(*, default_rate_card: str | None = None,
                 credit_value: Mapping[str, Any] | None = None,
                 default_ttl_seconds: int | None = None,
                 fallbacks: Mapping[str, Sequence[str]] | None = None) -> Call:
    body = _given(default_rate_card=default_rate_card, default_ttl_seconds=default_ttl_seconds)
    if credit_value is not None:
        body["credit_value"] = {k: amount_text(v, f"credit_value.{k}") if k == "amount" else v
                                for k, v in credit_value.items()}
    if fallbacks is not None:
        body["fallbacks"] = {k: list(v) for k, v in fallbacks.items()}
    return Call("PUT", "/v1/settings", body)


def get_settings() -> Call:
    return Call("GET", "/v1/settings")


def quote(usage: Any, *, org: str | None = None, rate_card: str | None = None,
          at: When | None = None,
          period_to_date: Mapping[str, Amount] | None = None) -> Call:
    body: dict[str, Any] = {"usage": usage_body(usage)}
    body.update(_given(org=org, rate_card=rate_card))
    if at is not None:
        body["at"] = time_text(at)
    if period_to_date is not None:
        body["period_to_date"] = {k: amount_text(v, f"period_to_date.{k}")
                                  for k, v in period_to_date.items()}
    return Call("POST", "/v1/quotes", body, dry_run=True)


# ---- usage -----------------------------------------------------------------------------

def ingest_usage(events: Sequence[Mapping[str, Any]]) -> Call:
    out = []
    for ev in events:
        body: dict[str, Any] = {"id": ev["id"], "org": ev["org"]}
        body.update(_given(project=ev.get("project"), user=ev.get("user")))
        if ev.get("timestamp") is not None:
            body["timestamp"] = time_text(ev["timestamp"])
        body.update(charge_body(ev.get("amount"), ev.get("usage")))
        out.append(body)
    return Call("POST", "/v1/usage", {"events": out})


def query_usage(*, org: str | None = None, project: str | None = None, user: str | None = None,
                meter: str | None = None, model: str | None = None,
                from_: When | None = None, to: When | None = None,
                group_by: Sequence[str] | None = None) -> Call:
    query = _given(org=org, project=project, user=user, meter=meter, model=model)
    if from_ is not None:
        query["from"] = time_text(from_)
    if to is not None:
        query["to"] = time_text(to)
    if group_by:
        query["group_by"] = ",".join(group_by)
    return Call("GET", "/v1/usage", query=query)
