"""The API's routes answered in process: a Call goes straight to the engine, no HTTP.

Bodies are validated by the same parsers the HTTP app uses (spendgate.api.schemas), priced
with the tenant's rate cards and fallbacks, applied by the Ledger, and rendered in the
API's JSON shapes, so EmbeddedGate returns exactly what Gate would. Idempotency keys are
fingerprinted the way the HTTP app does (method, path, body).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from spendgate.api import schemas
from spendgate.client._calls import Answer, Call
from spendgate.client.errors import error_from_domain
from spendgate.domain.clock import Clock, ms_to_rfc3339
from spendgate.domain.hierarchy import Node, NodePath, Scope
from spendgate.domain.limits import Limit
from spendgate.domain.money import format_credits
from spendgate.domain.reservations import Charge, Item, Reservation
from spendgate.domain.wallet import Grant
from spendgate.errors import (
    Conflict,
    IdempotencyMismatch,
    InvalidAmount,
    InvalidRequest,
    InvalidUsage,
    NotFound,
    RateLimited,
    SpendgateError,
    StoreUnavailable,
)
from spendgate.ledger.book import fingerprint
from spendgate.ledger.commands import (
    Command,
    Commit,
    CommitItem,
    DirectUsage,
    Idem,
    ItemRequest,
    RecordUsage,
    Release,
    Reserve,
)
from spendgate.ledger.engine import Ledger, LimitStatus
from spendgate.pricing import RateCardVersion, expand_fallbacks, quote, usage_vector
from spendgate.pricing import Usage as PricedUsage
from spendgate.pricing.rate_card import validate_new_version
from spendgate.stores.sql import SqlSession, dumps, loads
from spendgate.tenancy import Configuration, EnvSettings, read_card, read_settings

# Mirrors the HTTP app's table (api/errors.py), most specific first.
_STATUS: tuple[tuple[type[SpendgateError], int], ...] = (
    (IdempotencyMismatch, 409), (InvalidAmount, 422), (InvalidUsage, 422),
    (InvalidRequest, 400), (NotFound, 404), (Conflict, 409), (RateLimited, 429),
    (StoreUnavailable, 503),
)


def status_of(exc: SpendgateError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


# ---- rendering: the API's JSON shapes ----------------------------------------------------

def _time(ms: int | None) -> str | None:
    return None if ms is None else ms_to_rfc3339(ms)


def node_json(node: Node) -> dict[str, Any]:
    p = node.path
    out: dict[str, Any] = {"object": p.level.value, "org": p.org}
    if p.project:
        out["project"] = p.project
    if p.user:
        out["user"] = p.user
    if p.level.value != "user":
        out["name"] = node.name
    out.update(status=node.status, metadata=node.metadata,
               created_at=_time(node.created_ms), updated_at=_time(node.updated_ms))
    if p.level.value == "org":
        out["overdraft_limit"] = format_credits(node.overdraft_limit)
        out["rate_card"] = node.rate_card
    return out


def grant_json(org: str, g: Grant) -> dict[str, Any]:
    return {"object": "grant", "id": g.id, "org": org, "amount": format_credits(g.amount),
            "remaining": format_credits(g.remaining), "priority": g.priority,
            "effective_at": _time(g.effective_ms), "expires_at": _time(g.expires_ms),
            "reason": g.reason, "metadata": g.metadata, "created_at": _time(g.created_ms)}


def limit_json(lim: Limit) -> dict[str, Any]:
    return {"object": "limit", "id": lim.id, "org": lim.path.org,
            "project": lim.path.project or None, "user": lim.path.user or None,
            "meter": lim.meter, "amount": format_credits(lim.amount), "window": lim.window,
            "mode": lim.mode, "thresholds": [str(t) for t in lim.thresholds],
            "used": format_credits(lim.used), "held": format_credits(lim.held),
            "window_start": _time(lim.window_start_ms)}


def limit_status_json(s: LimitStatus) -> dict[str, Any]:
    return {"limit": limit_json(s.limit), "level": s.limit.path.level.value,
            "used": format_credits(s.used), "held": format_credits(s.held),
            "remaining": format_credits(s.remaining), "window_start": _time(s.window_start_ms)}


def _charge_json(c: Charge | None) -> str | None:
    return None if c is None else format_credits(c.credits)


def item_json(i: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"ref": i.ref, "status": i.status, "option": i.option,
                           "amount": _charge_json(i.held)}
    if i.held is not None and i.held.usage is not None:
        out["usage"] = i.held.usage
    if i.denied_by is not None:
        out["denied_by"] = i.denied_by.to_dict()
    if i.charged is not None:
        out["held"] = _charge_json(i.held)
        out["charged"] = _charge_json(i.charged)
        out["event_id"] = i.event_id
    return out


def reservation_json(r: Reservation) -> dict[str, Any]:
    return {"object": "reservation", "id": r.id, "org": r.path.org,
            "project": r.path.project or None, "user": r.path.user or None,
            "policy": r.policy, "status": r.status.value, "created_at": _time(r.created_ms),
            "expires_at": _time(r.expires_ms), "settled_at": _time(r.settled_ms),
            "items": [item_json(i) for i in r.items], "metadata": r.metadata}


# ---- routing ---------------------------------------------------------------------------

_SEG = r"([^/]+)"
Handler = Callable[..., Answer]


class InProcessAPI:
    """One tenant environment's API, in process. Thread-safe like the Ledger under it."""

    def __init__(self, ledger: Ledger, scope: Scope, configuration: Configuration | None = None,
                 clock: Clock | None = None) -> None:
        self.ledger = ledger
        self.scope = scope
        self.clock = clock or ledger.clock
        self.config = configuration or Configuration(ledger.store, ttl_s=0.0)
        org = rf"/v1/orgs/{_SEG}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", r"/v1/orgs", self._list_orgs),
            ("PUT", org, self._put_org), ("GET", org, self._get_node),
            ("GET", org + "/projects", self._list_projects),
            ("PUT", org + rf"/projects/{_SEG}", self._put_project),
            ("GET", org + rf"/projects/{_SEG}", self._get_node),
            ("GET", org + rf"/projects/{_SEG}/users", self._list_users),
            ("PUT", org + rf"/projects/{_SEG}/users/{_SEG}", self._put_user),
            ("GET", org + rf"/projects/{_SEG}/users/{_SEG}", self._get_node),
            ("GET", org + rf"/projects/{_SEG}/users/{_SEG}/status", self._status),
            ("POST", org + "/grants", self._add_grant), ("GET", org + "/grants", self._grants),
            ("GET", org + "/balance", self._balance),
            ("PUT", rf"/v1/limits/{_SEG}", self._put_limit), ("GET", r"/v1/limits", self._limits),
            ("POST", r"/v1/reservations", self._reserve),
            ("GET", rf"/v1/reservations/{_SEG}", self._get_reservation),
            ("POST", rf"/v1/reservations/{_SEG}/commit", self._commit),
            ("POST", rf"/v1/reservations/{_SEG}/release", self._release),
            ("POST", rf"/v1/rate-cards/{_SEG}/versions", self._add_version),
            ("GET", rf"/v1/rate-cards/{_SEG}", self._get_card),
            ("PUT", r"/v1/settings", self._put_settings), ("GET", r"/v1/settings",
                                                            self._get_settings),
            ("POST", r"/v1/quotes", self._quote),
            ("POST", r"/v1/usage", self._ingest), ("GET", r"/v1/usage", self._usage),
        ]
        self._compiled = [(m, re.compile(p + "$"), h) for m, p, h in routes]

    def handle(self, call: Call) -> Answer:
        """Answer a call as the HTTP app would; errors raise the client's exceptions."""
        from urllib.parse import unquote

        try:
            for method, pattern, handler in self._compiled:
                match = pattern.match(call.path)
                if match and method == call.method:
                    return handler(call, *(unquote(g) for g in match.groups()))
            raise NotFound("route", f"{call.method} {call.path}")
        except SpendgateError as exc:
            raise error_from_domain(exc, status_of(exc)) from exc

    # ---- helpers ----------------------------------------------------------------------

    def _idem(self, call: Call) -> Idem | None:
        if call.idempotency_key is None:
            return None
        query = "&".join(f"{k}={v}" for k, v in call.query.items())
        path = call.path + (f"?{query}" if query else "")
        return Idem(call.idempotency_key,
                    fingerprint({"method": call.method, "path": path, "body": call.body}))

    def _exec(self, call: Call, command: Command) -> tuple[Any, bool]:
        outcome = self.ledger.execute(self.scope, command, self._idem(call))
        return outcome.value, outcome.replayed

    def _write(self, call: Call, write: Callable[[SqlSession, int], tuple[int, Any]]) -> Answer:
        """A write outside the ledger, once per Idempotency-Key, in one transaction."""
        idem = self._idem(call)
        with self.ledger.store.transaction() as tx:
            if idem is not None:
                row = tx.one("SELECT fingerprint, result FROM idempotency WHERE tenant=? AND "
                             "env=? AND idem_key=?", (self.scope.tenant, self.scope.env,
                                                      idem.key))
                if row is not None:
                    if row[0] != idem.fingerprint:
                        raise IdempotencyMismatch(idem.key)
                    stored = loads(row[1])
                    return Answer(stored["status"], stored["body"], True)
            now = self.clock.now_ms()
            status, body = write(tx, now)
            if idem is not None:
                tx.execute("INSERT INTO idempotency (tenant, env, idem_key, fingerprint, result, "
                           "created_ms) VALUES (?,?,?,?,?,?)",
                           (self.scope.tenant, self.scope.env, idem.key, idem.fingerprint,
                            dumps({"status": status, "body": body}), now))
        self.config.invalidate(self.scope)
        return Answer(status, body)

    def _body(self, call: Call) -> Mapping[str, Any]:
        return schemas.obj(call.body if call.body is not None else {})

    def _page(self, call: Call, level: str, org: str | None = None,
              project: str | None = None) -> Answer:
        size = int(call.query.get("limit", "50"))
        after = call.query.get("starting_after")
        nodes = self.ledger.list_nodes(self.scope, level, org, project, after=after,
                                       limit=size + 1)
        shown, more = nodes[:size], len(nodes) > size
        cursor = None
        if more and shown:
            last = shown[-1].path
            cursor = last.user or last.project or last.org
        return Answer(200, {"data": [node_json(n) for n in shown], "has_more": more,
                            "next_cursor": cursor})

    def settings(self) -> EnvSettings:
        with self.ledger.store.read() as tx:
            return read_settings(tx, self.scope)

    def _version(self, org: str | None, card: str | None, at_ms: int) -> RateCardVersion:
        if card is None and org is not None:
            card = self.ledger.get_node(self.scope, NodePath(org)).rate_card
        if card is None:
            card = self.settings().default_rate_card
        if card is None:
            raise InvalidUsage("no rate card prices this usage: set default_rate_card in "
                               "PUT /v1/settings, or rate_card on the org", param="usage")
        with self.ledger.store.read() as tx:
            found = read_card(tx, self.scope, card)
        if found is None:
            raise NotFound("rate card", card, param="rate_card")
        return found.version_at(at_ms)

    def _price(self, org: str, choice: schemas.Priced, at_ms: int) -> Charge:
        if choice.usage is None:
            assert choice.amount is not None
            return Charge(choice.amount)
        return self._charge(org, choice.usage, at_ms)

    def _charge(self, org: str, usage: PricedUsage, at_ms: int) -> Charge:
        version = self._version(org, None, at_ms)
        priced = quote(version, usage)
        return Charge(priced.credits_nano, usage_vector(usage), usage.to_dict(), version.card,
                      version.version)

    # ---- hierarchy --------------------------------------------------------------------

    def _node_answer(self, call: Call, command: Command) -> Answer:
        (node, created), replayed = self._exec(call, command)
        return Answer(201 if created else 200, node_json(node), replayed)

    def _put_org(self, call: Call, org: str) -> Answer:
        return self._node_answer(call, schemas.upsert_org(org, self._body(call)))

    def _put_project(self, call: Call, org: str, project: str) -> Answer:
        return self._node_answer(call, schemas.upsert_project(org, project, self._body(call)))

    def _put_user(self, call: Call, org: str, project: str, user: str) -> Answer:
        return self._node_answer(call, schemas.upsert_user(org, project, user,
                                                           self._body(call)))

    def _get_node(self, call: Call, org: str, project: str = "", user: str = "") -> Answer:
        return Answer(200, node_json(self.ledger.get_node(self.scope,
                                                          NodePath(org, project, user))))

    def _list_orgs(self, call: Call) -> Answer:
        return self._page(call, "org")

    def _list_projects(self, call: Call, org: str) -> Answer:
        return self._page(call, "project", org)

    def _list_users(self, call: Call, org: str, project: str) -> Answer:
        return self._page(call, "user", org, project)

    # ---- wallet and limits ------------------------------------------------------------

    def _add_grant(self, call: Call, org: str) -> Answer:
        grant, replayed = self._exec(call, schemas.add_grant(org, self._body(call)))
        return Answer(201, grant_json(org, grant), replayed)

    def _grants(self, call: Call, org: str) -> Answer:
        rows = [grant_json(org, g) for g in self.ledger.grants(self.scope, org)]
        return Answer(200, {"data": rows, "has_more": False, "next_cursor": None})

    def _balance(self, call: Call, org: str) -> Answer:
        b = self.ledger.balance(self.scope, org)
        return Answer(200, {"object": "balance", "org": org,
                            "granted": format_credits(b.granted),
                            "spent": format_credits(b.spent), "held": format_credits(b.held),
                            "available": format_credits(b.available),
                            "overdraft_limit": format_credits(b.overdraft_limit),
                            "debt": format_credits(b.debt),
                            "remaining": format_credits(b.remaining),
                            "spent_lifetime": format_credits(b.spent_lifetime)})

    def _put_limit(self, call: Call, limit_id: str) -> Answer:
        (lim, created), replayed = self._exec(call, schemas.put_limit(limit_id,
                                                                      self._body(call)))
        return Answer(201 if created else 200, limit_json(lim), replayed)

    def _limits(self, call: Call) -> Answer:
        q = call.query
        found = self.ledger.limits(self.scope, q.get("org"), q.get("project"), q.get("user"))
        return Answer(200, {"data": [limit_json(x) for x in found], "has_more": False,
                            "next_cursor": None})

    def _status(self, call: Call, org: str, project: str, user: str) -> Answer:
        found = self.ledger.status(self.scope, NodePath(org, project, user))
        return Answer(200, {"data": [limit_status_json(s) for s in found]})

    # ---- reservations -----------------------------------------------------------------

    def _reserve(self, call: Call) -> Answer:
        spec = schemas.reserve(self._body(call))
        now = self.clock.now_ms()
        settings = self.settings()
        items = []
        for item in spec.items:
            options: list[Charge] = []
            for choice in item.options:
                if item.expand_fallbacks and choice.usage is not None:
                    options.extend(self._charge(spec.path.org, u, now)
                                   for u in expand_fallbacks(choice.usage, settings.fallbacks))
                else:
                    options.append(self._price(spec.path.org, choice, now))
            items.append(ItemRequest(item.ref, tuple(options)))
        ttl_s = spec.ttl_seconds or settings.default_ttl_seconds
        res, replayed = self._exec(call, Reserve(spec.path, tuple(items), ttl_s * 1000,
                                                 spec.policy, spec.metadata))
        return Answer(200, reservation_json(res), replayed)

    def _get_reservation(self, call: Call, res_id: str) -> Answer:
        return Answer(200, reservation_json(self.ledger.get_reservation(self.scope, res_id)))

    def _commit(self, call: Call, res_id: str) -> Answer:
        spec = schemas.commit(self._body(call))
        res = self.ledger.get_reservation(self.scope, res_id)
        now = self.clock.now_ms()
        items = tuple(CommitItem(ref, self._price(res.path.org, choice, now))
                      for ref, choice in spec.items)
        done, replayed = self._exec(call, Commit(res.path.org, res_id, items))
        return Answer(200, reservation_json(done), replayed)

    def _release(self, call: Call, res_id: str) -> Answer:
        res = self.ledger.get_reservation(self.scope, res_id)
        done, replayed = self._exec(call, Release(res.path.org, res_id))
        return Answer(200, reservation_json(done), replayed)

    # ---- pricing ----------------------------------------------------------------------

    def _add_version(self, call: Call, card: str) -> Answer:
        at_ms, prices = schemas.rate_card_version(self._body(call))

        def write(tx: SqlSession, now: int) -> tuple[int, Any]:
            existing = read_card(tx, self.scope, card)
            version = validate_new_version(card, prices, at_ms,
                                           existing.versions if existing else (), now)
            self.config.add_version(tx, self.scope, version, now)
            return 201, version.to_dict()

        return self._write(call, write)

    def _get_card(self, call: Call, card: str) -> Answer:
        with self.ledger.store.read() as tx:
            found = read_card(tx, self.scope, card)
        if found is None:
            raise NotFound("rate card", card)
        return Answer(200, found.to_dict())

    def _put_settings(self, call: Call) -> Answer:
        body = self._body(call)

        def write(tx: SqlSession, now: int) -> tuple[int, Any]:
            value = read_settings(tx, self.scope).updated(body)
            self.config.put_settings(tx, self.scope, value, now)
            return 200, value.to_dict()

        return self._write(call, write)

    def _get_settings(self, call: Call) -> Answer:
        return Answer(200, self.settings().to_dict())

    def _quote(self, call: Call) -> Answer:
        spec = schemas.quote(self._body(call))
        at = spec.at_ms if spec.at_ms is not None else self.clock.now_ms()
        version = self._version(spec.org, spec.rate_card, at)
        return Answer(200, quote(version, spec.usage, spec.period_to_date).to_dict())

    # ---- usage ------------------------------------------------------------------------

    def _ingest(self, call: Call) -> Answer:
        events = schemas.usage_events(self._body(call))
        now = self.clock.now_ms()
        by_org: dict[str, list[DirectUsage]] = {}
        for ev in events:
            charge = self._price(ev.path.org, ev.choice, ev.timestamp_ms or now)
            by_org.setdefault(ev.path.org, []).append(
                DirectUsage(ev.id, ev.path, charge, ev.timestamp_ms))
        accepted = duplicates = 0
        replayed = False
        for org, batch in by_org.items():
            idem = self._idem(call)
            if idem is not None and len(by_org) > 1:
                idem = Idem(f"{idem.key}:{org}", idem.fingerprint)
            outcome = self.ledger.execute(self.scope, RecordUsage(org, tuple(batch)), idem)
            a, d = outcome.value
            accepted, duplicates = accepted + a, duplicates + d
            replayed = replayed or outcome.replayed
        return Answer(202, {"accepted": accepted, "duplicates": duplicates}, replayed)

    def _usage(self, call: Call) -> Answer:
        q = call.query
        sql = ("SELECT org, project, user_id, meter, ts_ms, credits, doc FROM usage_events "
               "WHERE tenant=? AND env=?")
        params: list[Any] = [self.scope.tenant, self.scope.env]
        for key, column in (("org", "org"), ("project", "project"), ("user", "user_id")):
            if q.get(key):
                sql += f" AND {column}=?"
                params.append(q[key])
        if q.get("from"):
            sql += " AND ts_ms>=?"
            params.append(schemas.timestamp(q["from"], "from"))
        if q.get("to"):
            sql += " AND ts_ms<?"
            params.append(schemas.timestamp(q["to"], "to"))
        keys = [k for k in (q.get("group_by") or "").split(",") if k]
        groups: dict[tuple[str, ...], dict[str, Any]] = {}
        with self.ledger.store.read() as tx:
            rows = tx.all(sql + " ORDER BY ts_ms", params)
        for org, project, user, meter, ts_ms, credits_nano, doc in rows:
            dims = loads(doc).get("dimensions") or {}
            fields = {"org": org, "project": project, "user": user, "meter": meter,
                      "day": ms_to_rfc3339(ts_ms)[:10]}
            group = tuple(str(fields.get(k, dims.get(k, ""))) for k in keys)
            row = groups.setdefault(group, {**dict(zip(keys, group, strict=True)),
                                          "credits_nano": 0, "events": 0})
            row["credits_nano"] += credits_nano
            row["events"] += 1
        data = [{**{k: v for k, v in r.items() if k != "credits_nano"},
                 "credits": format_credits(r["credits_nano"])} for r in groups.values()]
        return Answer(200, {"data": data})


__all__ = ["InProcessAPI", "status_of"]
