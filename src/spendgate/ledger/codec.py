"""Plain-dict forms of ledger values: what idempotent replays return and rows store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spendgate.domain.hierarchy import Node, NodePath
from spendgate.domain.limits import Limit
from spendgate.domain.wallet import Grant


def node_to_dict(node: Node) -> dict[str, Any]:
    return {
        "org": node.path.org, "project": node.path.project, "user": node.path.user,
        "name": node.name, "metadata": node.metadata, "status": node.status,
        "overdraft_limit": node.overdraft_limit, "rate_card": node.rate_card,
        "created_ms": node.created_ms, "updated_ms": node.updated_ms,
        "status_reason": node.status_reason,
    }


def node_from_dict(d: dict[str, Any]) -> Node:
    return Node(NodePath(d["org"], d.get("project") or "", d.get("user") or ""), d.get("name"),
                d.get("metadata") or {}, d.get("status", "active"), d.get("overdraft_limit", 0),
                d.get("rate_card"), d.get("created_ms", 0), d.get("updated_ms", 0),
                d.get("status_reason"))


def grant_to_dict(g: Grant) -> dict[str, Any]:
    return {"id": g.id, "amount": g.amount, "consumed": g.consumed, "priority": g.priority,
            "effective_ms": g.effective_ms, "expires_ms": g.expires_ms, "reason": g.reason,
            "metadata": g.metadata, "created_ms": g.created_ms}


def grant_from_dict(d: dict[str, Any]) -> Grant:
    return Grant(d["id"], d["amount"], d["consumed"], d["priority"], d["effective_ms"],
                 d.get("expires_ms"), d.get("reason"), d.get("metadata") or {}, d["created_ms"])


def limit_to_dict(lim: Limit) -> dict[str, Any]:
    return {"id": lim.id, "org": lim.path.org, "project": lim.path.project,
            "user": lim.path.user, "meter": lim.meter, "amount": lim.amount,
            "window": lim.window, "mode": lim.mode,
            "thresholds": [str(t) for t in lim.thresholds],
            "window_start_ms": lim.window_start_ms, "used": lim.used, "held": lim.held,
            "fired": list(lim.fired), "created_ms": lim.created_ms, "updated_ms": lim.updated_ms}


def limit_from_dict(d: dict[str, Any]) -> Limit:
    return Limit(d["id"], NodePath(d["org"], d.get("project") or "", d.get("user") or ""),
                 d["meter"], d["amount"], d["window"], d["mode"],
                 tuple(Decimal(t) for t in d.get("thresholds") or ()), d["window_start_ms"],
                 d["used"], d["held"], tuple(d.get("fired") or ()), d["created_ms"],
                 d["updated_ms"])
