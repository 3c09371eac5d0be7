"""Domain values -> response JSON. Amounts are strings with exactly 9 decimal places;
times are RFC 3339 UTC strings with milliseconds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.domain.hierarchy import Node
from spendgate.domain.limits import Limit
from spendgate.domain.money import format_credits
from spendgate.domain.reservations import Charge, Item, Reservation
from spendgate.domain.wallet import Balance, Grant
from spendgate.ledger.engine import LimitStatus


def _time(ms: int | None) -> str | None:
    return None if ms is None else ms_to_rfc3339(ms)


def node(n: Node) -> dict[str, Any]:
    level = n.path.level.value
    ident = {"org": n.path.org, "project": n.path.project, "user": n.path.user}[level]
    out: dict[str, Any] = {"object": level, "id": ident, "org": n.path.org}
    if n.path.project:
        out["project"] = n.path.project
    if n.path.user:
        out["user"] = n.path.user
    if level != "user":
        out["name"] = n.name
    out["metadata"] = n.metadata
    out["status"] = n.status
    if level == "org":
        out["overdraft_limit"] = format_credits(n.overdraft_limit)
        out["rate_card"] = n.rate_card
    out["created_at"] = _time(n.created_ms)
    out["updated_at"] = _time(n.updated_ms)
    return out


def grant(g: Grant) -> dict[str, Any]:
    return {
        "object": "grant", "id": g.id, "amount": format_credits(g.amount),
        "remaining": format_credits(g.remaining), "priority": g.priority,
        "effective_at": _time(g.effective_ms), "expires_at": _time(g.expires_ms),
        "reason": g.reason, "metadata": g.metadata, "created_at": _time(g.created_ms),
    }


def balance(org: str, b: Balance) -> dict[str, Any]:
    return {
        "object": "balance", "org": org,
        "granted": format_credits(b.granted), "spent": format_credits(b.spent),
        "held": format_credits(b.held), "available": format_credits(b.available),
        "overdraft_limit": format_credits(b.overdraft_limit), "debt": format_credits(b.debt),
        "remaining": format_credits(b.remaining),
        "spent_lifetime": format_credits(b.spent_lifetime),
    }


def limit(lim: Limit, *, used: int | None = None, held: int | None = None,
          window_start_ms: int | None = None) -> dict[str, Any]:
    used = lim.used if used is None else used
    held = lim.held if held is None else held
    return {
        "object": "limit", "id": lim.id, "org": lim.path.org,
        "project": lim.path.project or None, "user": lim.path.user or None,
        "meter": lim.meter, "amount": format_credits(lim.amount), "window": lim.window,
        "mode": lim.mode, "thresholds": [_decimal(t) for t in lim.thresholds],
        "used": format_credits(used), "held": format_credits(held),
        "remaining": format_credits(lim.amount - used - held),
        "window_start": _time(lim.window_start_ms if window_start_ms is None
                              else window_start_ms),
        "created_at": _time(lim.created_ms), "updated_at": _time(lim.updated_ms),
    }


def limit_status(s: LimitStatus) -> dict[str, Any]:
    return limit(s.limit, used=s.used, held=s.held, window_start_ms=s.window_start_ms)


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _usage(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in usage.items()}


def _charge_credits(c: Charge | None) -> str | None:
    return None if c is None else format_credits(c.credits)


def item(i: Item) -> dict[str, Any]:
    chosen = i.charged or i.held
    return {
        "ref": i.ref,
        "status": i.status,
        "option": i.option,
        "amount": _charge_credits(i.held),
        "held": _charge_credits(i.held),
        "charged": _charge_credits(i.charged),
        "usage": _usage(chosen.usage) if chosen else None,
        "rate_card": chosen.rate_card if chosen else None,
        "rate_card_version": chosen.rate_card_version if chosen else None,
        "denied_by": i.denied_by.to_dict() if i.denied_by else None,
        "event_id": i.event_id,
    }


def reservation(r: Reservation) -> dict[str, Any]:
    return {
        "object": "reservation",
        "id": r.id,
        "status": r.status.value,
        "org": r.path.org,
        "project": r.path.project or None,
        "user": r.path.user or None,
        "policy": r.policy,
        "created_at": _time(r.created_ms),
        "expires_at": _time(r.expires_ms),
        "settled_at": _time(r.settled_ms),
        "held": format_credits(sum(i.held.credits for i in r.items
                                   if i.held is not None and i.status == "held")),
        "charged": format_credits(sum(i.charged.credits for i in r.items
                                      if i.charged is not None)),
        "items": [item(i) for i in r.items],
        "metadata": r.metadata,
    }
