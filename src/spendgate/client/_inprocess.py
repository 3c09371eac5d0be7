"""The API's routes answered in process: a Call goes straight to the engine, no HTTP.

Bodies are validated by the same parsers the HTTP app uses (spendgate.api.schemas), priced
with the tenant's rate cards and fallbacks, applied by the Ledger, and rendered in the
API's JSON shapes, so EmbeddedGate returns exactly what Gate would. Idempotency keys are
fingerprinted the way the HTTP app does (method, path, body).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, cast

from spendgate.api import render, schemas
from spendgate.api import usage as usage_api
from spendgate.api.charges import Pricer, needs_pricing, org_rate_card
from spendgate.api.context import Services
from spendgate.api.pagination import PageRequest, page, page_request, slice_after
from spendgate.client._calls import Answer, Call
from spendgate.client.errors import error_from_domain
from spendgate.domain.clock import Clock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
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
from spendgate.ledger.engine import Ledger
from spendgate.pricing import quote
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
        self.config = configuration or Configuration(ledger.store)
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
            ("GET", org + rf"/projects/{_SEG}/status", self._status),
            ("GET", org + "/status", self._status),
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

    @property
    def routes(self) -> list[tuple[str, re.Pattern[str]]]:
        """The (method, path pattern) pairs answered in process."""
        return [(method, pattern) for method, pattern, _ in self._compiled]

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
        req = self._page_request(call)
        nodes = self.ledger.list_nodes(self.scope, level, org, project,
                                       after=req.starting_after, limit=req.limit + 1)
        return Answer(200, page(nodes, req, lambda n: n.path.user or n.path.project
                                or n.path.org, render.node))

    def _page_request(self, call: Call) -> PageRequest:
        return page_request(call.query.get("limit"), call.query.get("starting_after"))

    def settings(self) -> EnvSettings:
        return self.config.settings(self.scope)

    def _pricer(self, org: str | None, settings: EnvSettings | None = None) -> Pricer:
        card = org_rate_card(self.config, self.scope, org) if org else None
        return Pricer(self.config, self.scope, settings or self.settings(), card)

    # ---- hierarchy --------------------------------------------------------------------

    def _node_answer(self, call: Call, command: Command) -> Answer:
        (node, created), replayed = self._exec(call, command)
        return Answer(201 if created else 200, render.node(node), replayed)

    def _put_org(self, call: Call, org: str) -> Answer:
        return self._node_answer(call, schemas.upsert_org(org, self._body(call)))

    def _put_project(self, call: Call, org: str, project: str) -> Answer:
        return self._node_answer(call, schemas.upsert_project(org, project, self._body(call)))

    def _put_user(self, call: Call, org: str, project: str, user: str) -> Answer:
        return self._node_answer(call, schemas.upsert_user(org, project, user,
                                                           self._body(call)))

    def _get_node(self, call: Call, org: str, project: str = "", user: str = "") -> Answer:
        return Answer(200, render.node(self.ledger.get_node(self.scope,
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
        return Answer(201, render.grant(grant), replayed)

    def _grants(self, call: Call, org: str) -> Answer:
        req = self._page_request(call)
        grants = self.ledger.grants(self.scope, org)
        ids = [g.id for g in grants]
        start = 0
        if req.starting_after is not None:
            after = req.starting_after
            start = ids.index(after) + 1 if after in ids else len(ids)
        window = grants[start:start + req.limit + 1]
        return Answer(200, page(window, req, lambda g: g.id, render.grant))

    def _balance(self, call: Call, org: str) -> Answer:
        return Answer(200, render.balance(org, self.ledger.balance(self.scope, org)))

    def _put_limit(self, call: Call, limit_id: str) -> Answer:
        (lim, created), replayed = self._exec(call, schemas.put_limit(limit_id,
                                                                      self._body(call)))
        return Answer(201 if created else 200, render.limit(lim), replayed)

    def _limits(self, call: Call) -> Answer:
        q = call.query
        req = self._page_request(call)
        org, project, user = q.get("org"), q.get("project"), q.get("user")
        if (project or user) and not org:
            raise InvalidRequest("filtering by project or user needs org", param="org")
        if user and not project:
            raise InvalidRequest("filtering by user needs project", param="project")
        if org is not None:
            self.ledger.get_node(self.scope, NodePath(org, project or "", user or ""))
        found = self.ledger.limits(self.scope, org, project, user)
        window = slice_after(found, req, lambda lim: lim.id)
        return Answer(200, page(window, req, lambda lim: lim.id, render.limit))

    def _status(self, call: Call, org: str, project: str = "", user: str = "") -> Answer:
        found = self.ledger.status(self.scope, NodePath(org, project, user))
        return Answer(200, {"data": [render.limit_status(s) for s in found]})

    # ---- reservations -----------------------------------------------------------------

    def _reserve(self, call: Call) -> Answer:
        spec = schemas.reserve(self._body(call))
        now = self.clock.now_ms()
        settings = self.settings()
        if any(needs_pricing(item.options) for item in spec.items):
            items = self._pricer(spec.path.org, settings).items(spec.items, now)
        else:
            items = tuple(ItemRequest(i.ref, tuple(Charge(c.amount or 0) for c in i.options))
                          for i in spec.items)
        ttl_s = spec.ttl_seconds or settings.default_ttl_seconds
        res, replayed = self._exec(call, Reserve(spec.path, items, ttl_s * 1000,
                                                 spec.policy, spec.metadata))
        return Answer(200, render.reservation(res), replayed)

    def _get_reservation(self, call: Call, res_id: str) -> Answer:
        return Answer(200, render.reservation(self.ledger.get_reservation(self.scope, res_id)))

    def _commit(self, call: Call, res_id: str) -> Answer:
        spec = schemas.commit(self._body(call))
        res = self.ledger.get_reservation(self.scope, res_id)
        now = self.clock.now_ms()
        if needs_pricing([c for _, c in spec.items]):
            pricer = self._pricer(res.path.org)
            items = tuple(CommitItem(ref, pricer.of(choice, now, f"items[{i}].usage"))
                          for i, (ref, choice) in enumerate(spec.items))
        else:
            items = tuple(CommitItem(ref, Charge(c.amount or 0)) for ref, c in spec.items)
        done, replayed = self._exec(call, Commit(res.path.org, res_id, items))
        return Answer(200, render.reservation(done), replayed)

    def _release(self, call: Call, res_id: str) -> Answer:
        res = self.ledger.get_reservation(self.scope, res_id)
        done, replayed = self._exec(call, Release(res.path.org, res_id))
        return Answer(200, render.reservation(done), replayed)

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
        pricer = self._pricer(spec.org)
        if spec.rate_card is not None:
            pricer.card_name = spec.rate_card
        try:
            version = pricer.card("usage").version_at(at)
        except NotFound as exc:
            raise InvalidUsage(str(exc), param="at") from exc
        return Answer(200, quote(version, spec.usage, spec.period_to_date).to_dict())

    # ---- usage ------------------------------------------------------------------------

    def _ingest(self, call: Call) -> Answer:
        events = schemas.usage_events(self._body(call))
        now = self.clock.now_ms()
        for path in dict.fromkeys(e.path for e in events):
            self.ledger.get_node(self.scope, path)  # 404 before anything is recorded
        by_org: dict[str, list[DirectUsage]] = {}
        pricers: dict[str, Pricer] = {}
        for i, ev in enumerate(events):
            if ev.choice.amount is not None:
                charge = Charge(ev.choice.amount)
            else:
                if ev.path.org not in pricers:
                    pricers[ev.path.org] = self._pricer(ev.path.org)
                charge = pricers[ev.path.org].of(ev.choice, ev.timestamp_ms or now,
                                                 f"events[{i}].usage")
            by_org.setdefault(ev.path.org, []).append(
                DirectUsage(ev.id, ev.path, charge, ev.timestamp_ms))
        idem = self._idem(call)
        accepted = duplicates = 0
        replayed = idem is not None
        # As the HTTP app does: one command per org, in a fixed order, keyed key + org.
        for org in sorted(by_org):
            share = None if idem is None else Idem(f"{idem.key}\x1f{org}", idem.fingerprint)
            outcome = self.ledger.execute(self.scope, RecordUsage(org, tuple(by_org[org])),
                                          share)
            fresh, dupes = outcome.value
            accepted, duplicates = accepted + fresh, duplicates + dupes
            replayed = replayed and outcome.replayed
        return Answer(202, {"accepted": accepted, "duplicates": duplicates}, replayed)

    def _usage(self, call: Call) -> Answer:
        q = call.query
        path = NodePath(q.get("org", ""), q.get("project", ""), q.get("user", ""))
        if path.org:
            self.ledger.get_node(self.scope, path)
        lo = schemas.timestamp(q["from"], "from") if q.get("from") else None
        hi = schemas.timestamp(q["to"], "to") if q.get("to") else None
        groups = tuple(g for g in (q.get("group_by") or "").split(",") if g)
        for name in groups:
            if name not in usage_api.GROUPS:
                raise InvalidRequest(f"group_by accepts {', '.join(usage_api.GROUPS)}",
                                     param="group_by")
        # The report reads only the store; the HTTP app's aggregation is reused as is.
        services = cast(Services, SimpleNamespace(store=self.ledger.store))
        rows = usage_api.aggregate(services, self.scope, path, lo, hi, groups, q.get("meter"),
                                   q.get("model"))
        return Answer(200, {"data": rows, "has_more": False, "next_cursor": None})


__all__ = ["InProcessAPI", "status_of"]
