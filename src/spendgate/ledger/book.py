"""One organization's ledger state in memory, and every operation on it.

A Book is loaded inside a write transaction (or reused from cache when the org's version
is unchanged), operations mutate it and record what changed, and the store writes the
changes in the same transaction. Every operation validates fully before it mutates, so a
refused command leaves the book as it was.

Invariant: after every reserve, for every hard limit, used + held <= amount, and the
wallet's available credits stay >= 0 (the reservation is denied otherwise).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol

from spendgate.domain.hierarchy import ACTIVE, STATUSES, Level, Node, NodePath, Scope
from spendgate.domain.ids import new_id
from spendgate.domain.limits import Limit, window_start
from spendgate.domain.money import INT64_MAX
from spendgate.domain.reservations import (
    Charge,
    Denied,
    DenyReason,
    Item,
    Reservation,
    ReservationStatus,
)
from spendgate.domain.wallet import Balance, Grant, balance_of, plan_burn
from spendgate.errors import Conflict, InvalidRequest, NotFound
from spendgate.ledger.commands import (
    UNSET,
    AddGrant,
    Commit,
    DirectUsage,
    PutLimit,
    RecordUsage,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.metering.events import CREDITS_METER, UsageEvent
from spendgate.webhooks.outbound import events as alerts
from spendgate.webhooks.outbound.events import OutboundEvent
from spendgate.webhooks.thresholds import threshold_key, to_fire

Posting = tuple[str, int]

WALLET_HELD = "wallet.held"
WALLET_DEBT = "wallet.debt"


def grant_amount_account(grant_id: str) -> str:
    return f"grant:{grant_id}.amount"


def grant_consumed_account(grant_id: str) -> str:
    return f"grant:{grant_id}.consumed"


def limit_held_account(limit_id: str) -> str:
    return f"limit:{limit_id}.held"


def limit_used_account(limit_id: str, window_start_ms: int) -> str:
    return f"limit:{limit_id}.used@{window_start_ms}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry: every balance change it makes, as (account, delta) postings."""

    seq: int
    at_ms: int
    kind: str  # grant | hold | release | expire | spend | repay | adjustment
    ref: str
    postings: tuple[Posting, ...]


class BookSource(Protocol):
    """What a write transaction offers a book for lazy look-ups."""

    def load_node(self, scope: Scope, path: NodePath) -> Node | None: ...
    def load_reservation(self, scope: Scope, org: str, res_id: str) -> Reservation | None: ...
    def due_reservations(self, scope: Scope, org: str, now_ms: int) -> list[str]: ...
    def next_expiry(self, scope: Scope, org: str) -> int | None: ...
    def limit_owner(self, scope: Scope, limit_id: str) -> str | None: ...
    def spend_since(self, scope: Scope, path: NodePath, meter: str, since_ms: int) -> int: ...
    def existing_events(self, scope: Scope, ids: list[str]) -> set[str]: ...
    def enabled_sinks(self, scope: Scope) -> list[str]: ...


@dataclass(slots=True)
class Changes:
    """What a batch changed in one book, for the store to write."""

    org: bool = False
    nodes: set[NodePath] = field(default_factory=set)
    grants: set[str] = field(default_factory=set)
    limits: set[str] = field(default_factory=set)
    reservations: set[str] = field(default_factory=set)
    entries: list[Entry] = field(default_factory=list)
    events: list[UsageEvent] = field(default_factory=list)
    outbox: list[tuple[str, UsageEvent]] = field(default_factory=list)
    alerts: list[OutboundEvent] = field(default_factory=list)  # outbound webhooks

    def __bool__(self) -> bool:
        return bool(self.org or self.nodes or self.grants or self.limits or self.reservations
                    or self.entries or self.events or self.alerts)


@dataclass(slots=True)
class Book:
    scope: Scope
    org_id: str
    org: Node | None = None
    version: int = 0
    journal_seq: int = 0
    wallet_held: int = 0
    wallet_debt: int = 0
    grants: dict[str, Grant] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)
    nodes: dict[NodePath, Node | None] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    next_expiry_ms: int | None = None
    changes: Changes = field(default_factory=Changes)
    _limits_by_path: dict[NodePath, list[Limit]] = field(default_factory=dict)

    # ---- look-ups -------------------------------------------------------------------

    def _node(self, src: BookSource, path: NodePath) -> Node | None:
        if path.level is Level.ORG:
            return self.org
        if path not in self.nodes:
            self.nodes[path] = src.load_node(self.scope, path)
        return self.nodes[path]

    def require_path(self, src: BookSource, path: NodePath) -> list[Node]:
        """The nodes on a path, top down; NotFound names the first one missing."""
        if self.org is None:
            raise NotFound("org", path.org, param="org")
        found = [self.org]
        if path.user and not path.project:
            raise InvalidRequest("a user needs its project", param="project")
        if path.project:
            project = self._node(src, NodePath(path.org, path.project))
            if project is None:
                raise NotFound("project", f"{path.org}/{path.project}", param="project")
            found.append(project)
        if path.user:
            user = self._node(src, path)
            if user is None:
                raise NotFound("user", str(path), param="user")
            found.append(user)
        return found

    def reservation(self, src: BookSource, res_id: str) -> Reservation:
        res = self.reservations.get(res_id)
        if res is None:
            loaded = src.load_reservation(self.scope, self.org_id, res_id)
            if loaded is None:
                raise NotFound("reservation", res_id)
            self.reservations[res_id] = res = loaded
        return res

    def balance(self, now_ms: int) -> Balance:
        overdraft = self.org.overdraft_limit if self.org else 0
        return balance_of(self.grants.values(), self.wallet_held, self.wallet_debt, overdraft,
                          now_ms)

    def limits_on(self, path: NodePath) -> list[Limit]:
        found = self._limits_by_path.get(path)
        if found is None:
            found = [lim for lim in self.limits.values() if lim.applies_to(path)]
            self._limits_by_path[path] = found
        return found

    # ---- journal --------------------------------------------------------------------

    def _journal(self, now_ms: int, kind: str, ref: str, postings: Iterable[Posting]) -> None:
        kept = tuple(p for p in postings if p[1] != 0)
        if not kept and kind != "adjustment":  # an adjustment is recorded even at zero credits
            return
        self.journal_seq += 1
        self.changes.entries.append(Entry(self.journal_seq, now_ms, kind, ref, kept))
        self.changes.org = True

    def _apply_postings(self, postings: Iterable[Posting], now_ms: int) -> None:
        """Move the materialized balances by exactly the journal's postings."""
        ch = self.changes
        for account, delta in postings:
            if account == WALLET_HELD:
                self.wallet_held += delta
            elif account == WALLET_DEBT:
                self.wallet_debt += delta
            elif account[0] == "g":  # grant:<id>.consumed | grant:<id>.amount
                gid, _, what = account[6:].rpartition(".")
                grant = self.grants[gid]
                if what == "consumed":
                    grant.consumed += delta
                else:
                    grant.amount += delta
                ch.grants.add(gid)
            elif account[0] == "l":  # limit:<id>.held | limit:<id>.used@<window start>
                lid, _, what = account[6:].rpartition(".")
                lim = self.limits.get(lid)
                if lim is None:  # the limit was deleted since; its counters went with it
                    continue
                if what == "held":
                    lim.held += delta
                else:
                    ws = int(what[5:])
                    if lim.window_start_ms != ws:
                        lim.window_start_ms, lim.used, lim.fired = ws, 0, ()
                    lim.used += delta
                ch.limits.add(lid)
            else:  # pragma: no cover - a programming error, never input
                raise AssertionError(f"unknown account {account}")
        ch.org = True

    def _post(self, now_ms: int, kind: str, ref: str, postings: list[Posting]) -> None:
        before = self.balance(now_ms).available if kind in ("spend", "adjustment") else None
        self._journal(now_ms, kind, ref, postings)
        self._apply_postings(postings, now_ms)
        if kind in ("hold", "spend", "adjustment"):
            self._alert_limits(postings, now_ms)
        if before is not None and before > 0 >= self.balance(now_ms).available:
            self.changes.alerts.append(alerts.wallet_low_balance(
                org=self.org_id, kind="depleted", source="spendgate", details={},
                available=self.balance(now_ms).available, now_ms=now_ms))

    def _alert_limits(self, postings: list[Posting], now_ms: int) -> None:
        """Thresholds count spend plus holds, so the alert comes before the work runs.

        Each threshold fires once per window: its mark is stored on the limit row in the
        same transaction (the book is the only writer of its org, so no race can double it).
        """
        touched = {a[6:].rpartition(".")[0] for a, _ in postings if a.startswith("limit:")}
        for lid in touched:
            lim = self.limits.get(lid)
            if lim is None or lim.amount <= 0:
                continue
            if not lim.thresholds and (lim.used <= lim.amount or "exceeded" in lim.fired):
                continue  # nothing this limit could announce
            consumed = lim.used_now(now_ms) + lim.held
            p = lim.path
            marks = [f for f in lim.fired if f != "exceeded"]
            for t in to_fire(lim.amount, lim.thresholds, consumed, marks):
                lim.fired = (*lim.fired, threshold_key(t))
                self.changes.alerts.append(alerts.limit_threshold_reached(
                    limit_id=lid, org=p.org, project=p.project or None, user=p.user or None,
                    meter=lim.meter, threshold=t, limit_amount=lim.amount, used=consumed,
                    window_start_ms=lim.window_start_ms, now_ms=now_ms))
            if lim.used_now(now_ms) > lim.amount and "exceeded" not in lim.fired:
                lim.fired = (*lim.fired, "exceeded")
                self.changes.alerts.append(alerts.limit_exceeded(
                    limit_id=lid, org=p.org, project=p.project or None, user=p.user or None,
                    meter=lim.meter, limit_amount=lim.amount, used=lim.used_now(now_ms),
                    mode=lim.mode, window_start_ms=lim.window_start_ms, now_ms=now_ms))
            self.changes.limits.add(lid)

    # ---- nodes ----------------------------------------------------------------------

    def upsert_org(self, cmd: UpsertOrg, now_ms: int) -> tuple[Node, bool]:
        if cmd.status is not UNSET and cmd.status not in STATUSES:
            raise InvalidRequest("status must be 'active' or 'suspended'", param="status")
        created = self.org is None
        was = self.org.status if self.org else ACTIVE
        node = self.org or Node(NodePath(self.org_id), created_ms=now_ms)
        node = _with(node, name=cmd.name, metadata=cmd.metadata, status=cmd.status,
                     overdraft_limit=cmd.overdraft_limit, rate_card=cmd.rate_card)
        self.org = replace(node, updated_ms=now_ms)
        self.changes.org = True
        if self.org.status != was:
            self.org = replace(self.org, status_reason=cmd.reason if self.org.suspended else None)
            self.changes.alerts.append(
                alerts.org_suspended(org=self.org_id, reason=cmd.reason, ref=cmd.ref,
                                     now_ms=now_ms) if self.org.suspended else
                alerts.org_reinstated(org=self.org_id, ref=cmd.ref, now_ms=now_ms))
        return self.org, created

    def upsert_project(self, src: BookSource, cmd: UpsertProject, now_ms: int) -> tuple[Node, bool]:
        self.require_path(src, NodePath(cmd.org))
        if cmd.status is not UNSET and cmd.status not in STATUSES:
            raise InvalidRequest("status must be 'active' or 'suspended'", param="status")
        path = NodePath(cmd.org, cmd.project)
        old = self._node(src, path)
        node = _with(old or Node(path, created_ms=now_ms), name=cmd.name, metadata=cmd.metadata,
                     status=cmd.status)
        self.nodes[path] = replace(node, updated_ms=now_ms)
        self.changes.nodes.add(path)
        self.changes.org = True
        return self.nodes[path], old is None  # type: ignore[return-value]

    def upsert_user(self, src: BookSource, cmd: UpsertUser, now_ms: int) -> tuple[Node, bool]:
        self.require_path(src, NodePath(cmd.org, cmd.project))
        if cmd.status is not UNSET and cmd.status not in STATUSES:
            raise InvalidRequest("status must be 'active' or 'suspended'", param="status")
        path = NodePath(cmd.org, cmd.project, cmd.user)
        old = self._node(src, path)
        node = _with(old or Node(path, created_ms=now_ms), metadata=cmd.metadata,
                     status=cmd.status)
        self.nodes[path] = replace(node, updated_ms=now_ms)
        self.changes.nodes.add(path)
        self.changes.org = True
        return self.nodes[path], old is None  # type: ignore[return-value]

    # ---- wallet ---------------------------------------------------------------------

    def add_grant(self, src: BookSource, cmd: AddGrant, now_ms: int) -> Grant:
        self.require_path(src, NodePath(cmd.org))
        effective = cmd.effective_ms if cmd.effective_ms is not None else now_ms
        if cmd.expires_ms is not None and cmd.expires_ms <= effective:
            raise InvalidRequest("expires_at must be after effective_at", param="expires_at")
        granted_total = sum(g.amount for g in self.grants.values()) + cmd.amount
        if granted_total > INT64_MAX // 2:
            raise InvalidRequest("this org's lifetime grants would exceed the ledger's range",
                                 param="amount")
        gid = cmd.grant_id or new_id("grant")
        if gid in self.grants:
            raise Conflict(f"grant {gid} already exists")
        self.grants[gid] = Grant(gid, 0, 0, cmd.priority, effective, cmd.expires_ms, cmd.reason,
                                 dict(cmd.metadata), now_ms)
        self._post(now_ms, "grant", gid, [(grant_amount_account(gid), cmd.amount)])
        self.repay_debt(now_ms)
        return replace(self.grants[gid])

    def repay_debt(self, now_ms: int) -> None:
        """Overdraft is paid back from the first active credits that arrive."""
        if self.wallet_debt <= 0:
            return
        burns, unpaid = plan_burn(self.grants.values(), self.wallet_debt, now_ms)
        if not burns:
            return
        postings = [(grant_consumed_account(b.grant_id), b.amount) for b in burns]
        postings.append((WALLET_DEBT, -(self.wallet_debt - unpaid)))
        self._post(now_ms, "repay", "debt", postings)

    # ---- limits ---------------------------------------------------------------------

    def put_limit(self, src: BookSource, cmd: PutLimit, now_ms: int) -> tuple[Limit, bool]:
        self.require_path(src, cmd.path)
        owner = src.limit_owner(self.scope, cmd.limit_id)
        if owner is not None and owner != self.org_id:
            raise Conflict(f"limit {cmd.limit_id} belongs to another org; limit ids are unique",
                           code="limit_id_taken")
        old = self.limits.get(cmd.limit_id)
        ws = window_start(cmd.window, now_ms)
        same_counting = (old is not None and old.path == cmd.path and old.meter == cmd.meter
                         and old.window == cmd.window)
        if same_counting and old is not None:
            used, held, fired = old.used_now(now_ms), old.held, old.fired
        else:
            # A new way of counting starts from what was really spent in this window.
            used = src.spend_since(self.scope, cmd.path, cmd.meter, ws)
            held, fired = (old.held if old else 0), ()
        # The counter moves only through the journal: start from what the account holds now.
        current = old.used if old is not None and old.window_start_ms == ws else 0
        self.limits[cmd.limit_id] = Limit(
            cmd.limit_id, cmd.path, cmd.meter, cmd.amount, cmd.window, cmd.mode, cmd.thresholds,
            ws, current, held, fired, old.created_ms if old else now_ms, now_ms)
        self._limits_by_path.clear()
        self.changes.limits.add(cmd.limit_id)
        self.changes.org = True
        self._post(now_ms, "limit", cmd.limit_id,
                   [(limit_used_account(cmd.limit_id, ws), used - current)])
        return replace(self.limits[cmd.limit_id]), old is None

    # ---- admission ------------------------------------------------------------------

    def _refusal(self, nodes: list[Node], charge: Charge, path: NodePath, now_ms: int,
                 extra: dict[str, int]) -> Denied | None:
        """Why this charge cannot be held on top of `extra` (tentative holds), or None."""
        for node in nodes:
            if node.suspended:
                return Denied(node.path.level, DenyReason.SUSPENDED)
        if charge.credits > 0:
            available = self.balance(now_ms).available - extra.get(WALLET_HELD, 0)
            if charge.credits > available:
                return Denied(Level.ORG, DenyReason.INSUFFICIENT_FUNDS)
        for lim in self.limits_on(path):
            if not lim.hard:
                continue
            need = lim.needed(charge.credits, charge.quantities)
            if need <= 0:
                continue
            account = limit_held_account(lim.id)
            if lim.used_now(now_ms) + lim.held + extra.get(account, 0) + need > lim.amount:
                return Denied(lim.path.level, DenyReason.LIMIT_EXCEEDED, lim.id)
        return None

    def _holds_for(self, charge: Charge, path: NodePath) -> list[Posting]:
        postings = [(WALLET_HELD, charge.credits)] if charge.credits > 0 else []
        for lim in self.limits_on(path):
            need = lim.needed(charge.credits, charge.quantities)
            if need > 0:
                postings.append((limit_held_account(lim.id), need))
        return postings

    def reserve(self, src: BookSource, cmd: Reserve, now_ms: int) -> Reservation:
        nodes = self.require_path(src, cmd.path)
        self.expire_due(src, now_ms)
        extra: dict[str, int] = {}
        items: list[Item] = []
        first_denial: Denied | None = None
        for req in cmd.items:
            if first_denial is not None:  # funded in order while they fit
                items.append(Item(req.ref, "denied", denied_by=first_denial))
                continue
            chosen: tuple[int, Charge] | None = None
            denial: Denied | None = None
            for index, option in enumerate(req.options):
                denial = self._refusal(nodes, option, cmd.path, now_ms, extra)
                if denial is None:
                    chosen = (index, option)
                    break
            if chosen is None:
                first_denial = denial
                items.append(Item(req.ref, "denied", denied_by=denial))
                continue
            for account, amount in self._holds_for(chosen[1], cmd.path):
                extra[account] = extra.get(account, 0) + amount
            items.append(Item(req.ref, "held", option=chosen[0], held=chosen[1]))

        if first_denial is not None and cmd.policy == "all_or_nothing":
            items = [Item(i.ref, "denied", option=i.option, held=None,
                          denied_by=i.denied_by or first_denial) for i in items]
            extra = {}
        held_any = any(i.status == "held" for i in items)
        if not held_any:
            status = ReservationStatus.DENIED
        elif first_denial is not None:
            status = ReservationStatus.PARTIAL
        else:
            status = ReservationStatus.HELD
        res = Reservation(
            id=cmd.reservation_id or new_id("res"),
            path=cmd.path,
            policy=cmd.policy,
            status=status,
            items=tuple(items),
            created_ms=now_ms,
            expires_ms=now_ms + cmd.ttl_ms,
            holds={k: v for k, v in extra.items() if v},
            metadata=dict(cmd.metadata),
            settled_ms=None if held_any else now_ms,
        )
        self.reservations[res.id] = res
        self.changes.reservations.add(res.id)
        self.changes.org = True
        if held_any:
            self._post(now_ms, "hold", res.id, list(res.holds.items()))
            if self.next_expiry_ms is None or res.expires_ms < self.next_expiry_ms:
                self.next_expiry_ms = res.expires_ms
        return res

    # ---- settlement -----------------------------------------------------------------

    def _spend_postings(self, path: NodePath, charge: Charge, now_ms: int) -> list[Posting]:
        if charge.credits >= 0:
            burns, unpaid = plan_burn(self.grants.values(), charge.credits, now_ms)
            postings = [(grant_consumed_account(b.grant_id), b.amount) for b in burns]
            if unpaid:
                postings.append((WALLET_DEBT, unpaid))
        else:
            postings = self._refund_postings(-charge.credits)
        for lim in self.limits_on(path):
            need = lim.needed(charge.credits, charge.quantities)
            if need < 0:  # a downward adjustment never takes a counter below zero
                need = max(need, -lim.used_now(now_ms))
            if need != 0:
                ws = window_start(lim.window, now_ms)
                postings.append((limit_used_account(lim.id, ws), need))
        return postings

    def refundable(self) -> int:
        return self.wallet_debt + sum(g.consumed for g in self.grants.values())

    def _refund_postings(self, amount: int) -> list[Posting]:
        """Credits given back: overdraft first, then grants in reverse burn order."""
        postings: list[Posting] = []
        debt = min(amount, self.wallet_debt)
        if debt:
            postings.append((WALLET_DEBT, -debt))
        left = amount - debt
        for grant in sorted(self.grants.values(), key=Grant.burn_key, reverse=True):
            if left == 0:
                break
            take = min(left, grant.consumed)
            if take:
                postings.append((grant_consumed_account(grant.id), -take))
                left -= take
        if left:  # callers check refundable() first; this is a programming error
            raise AssertionError("refund exceeds what was spent")
        return postings

    def _record(self, src: BookSource, event: UsageEvent) -> None:
        self.changes.events.append(event)
        for sink in src.enabled_sinks(self.scope):
            self.changes.outbox.append((sink, event))

    def _event(self, event_id: str, path: NodePath, charge: Charge, ts_ms: int,
               res_id: str | None, kind: str = "usage") -> UsageEvent:
        usage = charge.usage or {}
        meter = str(usage.get("meter") or CREDITS_METER)
        quantities = {k: v for k, v in usage.items() if k != "meter" and not isinstance(v, str)}
        dimensions = {k: v for k, v in usage.items() if k != "meter" and isinstance(v, str)}
        from spendgate.domain.money import parse_quantity

        if kind == "adjustment":  # signed: it moves metered numbers up or down
            exact = {k: Decimal(str(v)) for k, v in quantities.items()}
        else:
            exact = {k: parse_quantity(v, field=k) for k, v in quantities.items()}
        return UsageEvent(
            id=event_id, tenant=self.scope.tenant, env=self.scope.env, org=path.org,
            project=path.project or None, user=path.user or None, meter=meter,
            timestamp_ms=ts_ms, credits_nano=charge.credits, quantities=exact,
            dimensions=dimensions, rate_card=charge.rate_card,
            rate_card_version=charge.rate_card_version, reservation_id=res_id, kind=kind,
        )

    def commit(self, src: BookSource, cmd: Commit, now_ms: int) -> Reservation:
        self.reservation(src, cmd.reservation_id)  # NotFound before anything changes
        self.expire_due(src, now_ms)  # an overdue hold is expired, whether swept or not
        res = self.reservation(src, cmd.reservation_id)
        refs = {i.ref: n for n, i in enumerate(res.items)}
        seen: set[str] = set()
        for ci in cmd.items:
            if ci.ref not in refs:
                raise InvalidRequest(f"reservation has no item {ci.ref!r}", param="items")
            if ci.ref in seen:
                raise InvalidRequest(f"item {ci.ref!r} is named twice", param="items")
            seen.add(ci.ref)
        self._check_settleable(res, committing=True)
        events = [self._event(f"{res.id}.{refs[ci.ref]}", res.path, ci.actual, now_ms, res.id)
                  for ci in cmd.items]  # built first: a bad usage object changes nothing
        if res.open:
            self._post(now_ms, "release", res.id, [(a, -v) for a, v in res.holds.items()])
        items = list(res.items)
        for ci, event in zip(cmd.items, events, strict=True):
            n = refs[ci.ref]
            self._post(now_ms, "spend", event.id,
                       self._spend_postings(res.path, ci.actual, now_ms))
            self._record(src, event)
            items[n] = replace(items[n], charged=ci.actual, event_id=event.id)
        return self._settle(res, ReservationStatus.COMMITTED, tuple(items), now_ms)

    def release(self, src: BookSource, cmd: Release, now_ms: int) -> Reservation:
        self.reservation(src, cmd.reservation_id)
        self.expire_due(src, now_ms)
        res = self.reservation(src, cmd.reservation_id)
        self._check_settleable(res, committing=False)
        self._post(now_ms, "release", res.id, [(a, -v) for a, v in res.holds.items()])
        return self._settle(res, ReservationStatus.RELEASED, res.items, now_ms)

    def _check_settleable(self, res: Reservation, *, committing: bool) -> None:
        if res.status in (ReservationStatus.COMMITTED, ReservationStatus.RELEASED):
            raise Conflict(f"reservation {res.id} is already {res.status.value}",
                           code=f"reservation_{res.status.value}")
        if res.status is ReservationStatus.DENIED:
            raise Conflict(f"reservation {res.id} was denied; nothing is held",
                           code="reservation_denied")
        if res.status is ReservationStatus.EXPIRED and not committing:
            raise Conflict(f"reservation {res.id} expired; its hold was already returned",
                           code="reservation_expired")

    def _settle(self, res: Reservation, status: ReservationStatus, items: tuple[Item, ...],
                now_ms: int) -> Reservation:
        settled = replace(res, status=status, items=items, settled_ms=now_ms)
        self.reservations[res.id] = settled
        self.changes.reservations.add(res.id)
        self.changes.org = True
        return settled

    def expire_due(self, src: BookSource, now_ms: int) -> int:
        """Return the holds of every open reservation past its expiry."""
        if self.next_expiry_ms is not None and now_ms < self.next_expiry_ms:
            return 0
        due = set(src.due_reservations(self.scope, self.org_id, now_ms))
        due.update(r.id for r in self.reservations.values() if r.open and r.expires_ms <= now_ms)
        count = 0
        for res_id in sorted(due):
            res = self.reservation(src, res_id)
            if not res.open or res.expires_ms > now_ms:
                continue
            self._post(now_ms, "expire", res.id, [(a, -v) for a, v in res.holds.items()])
            self._settle(res, ReservationStatus.EXPIRED, res.items, now_ms)
            self.changes.alerts.append(alerts.reservation_expired(
                reservation_id=res.id, org=res.path.org, project=res.path.project or None,
                user=res.path.user or None, amount=res.holds.get(WALLET_HELD, 0),
                expired_ms=res.expires_ms, now_ms=now_ms))
            count += 1
        pending = [r.expires_ms for r in self.reservations.values() if r.open]
        stored = src.next_expiry(self.scope, self.org_id)
        candidates = [*pending, *([stored] if stored is not None else [])]
        self.next_expiry_ms = min(candidates) if candidates else INT64_MAX
        return count

    # ---- direct usage ---------------------------------------------------------------

    def record_usage(self, src: BookSource, cmd: RecordUsage, now_ms: int) -> tuple[int, int]:
        for ev in cmd.events:
            self.require_path(src, ev.path)
        ids = [ev.id for ev in cmd.events]
        known = src.existing_events(self.scope, ids)
        known.update(e.id for e in self.changes.events if e.id in set(ids))
        fresh: list[tuple[DirectUsage, UsageEvent]] = []
        net = 0
        for ev in cmd.events:
            if ev.id in known:
                continue
            if ev.charge.credits < 0 and ev.kind != "adjustment":
                raise InvalidRequest("only adjustments may carry negative credits",
                                     param="amount")
            known.add(ev.id)
            net += ev.charge.credits
            if net < -self.refundable():
                raise InvalidRequest(f"adjustment {ev.id} gives back more credits than the org "
                                     "ever spent", param="amount")
            ts = ev.timestamp_ms if ev.timestamp_ms is not None else now_ms
            fresh.append((ev, self._event(ev.id, ev.path, ev.charge, ts, None, ev.kind)))
        for ev, event in fresh:  # all built first: a bad event changes nothing
            self._post(now_ms, "adjustment" if ev.kind == "adjustment" else "spend", ev.id,
                       self._spend_postings(ev.path, ev.charge, now_ms))
            self._record(src, event)
        return len(fresh), len(cmd.events) - len(fresh)


def _with(node: Node, **fields: Any) -> Node:
    """The node with every field the caller sent replaced; UNSET fields keep their value."""
    given = {k: v for k, v in fields.items() if v is not UNSET}
    if given.get("metadata") is None and "metadata" in given:
        given["metadata"] = {}
    if "status" in given and given["status"] is None:
        given["status"] = ACTIVE
    return replace(node, **given)


def fingerprint(payload: Any) -> str:
    """A stable digest of a request, to tell an idempotent replay from a reused key."""
    import orjson

    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS,
                                       default=str)).hexdigest()
