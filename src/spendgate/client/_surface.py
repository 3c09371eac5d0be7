"""The typed methods every gate offers, written once over an abstract `_send(call)`.

Gate and EmbeddedGate share SyncOperations; AsyncGate and AsyncEmbeddedGate share
AsyncOperations. A transport only has to turn a Call into an Answer (or raise).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from spendgate.client import _calls as calls
from spendgate.client._calls import Amount, Answer, Call, When
from spendgate.client.hold import AsyncHold, Hold, PendingHold
from spendgate.client.resources import (
    Balance,
    Grant,
    Limit,
    LimitStatus,
    Node,
    Page,
    Quote,
    RateCard,
    RateCardVersion,
    Reservation,
    Settings,
    UsageIngest,
    UsageReport,
    page_of,
    statuses_of,
)


def _rows(body: Any) -> list[Any]:
    if isinstance(body, Mapping):
        return list(body.get("data") or [])
    return list(body or [])


def _next(body: Any) -> str | None:
    """The cursor of the next page, or None on the last one."""
    if isinstance(body, Mapping) and body.get("has_more") and body.get("next_cursor"):
        return str(body["next_cursor"])
    return None


PAGE_SIZE = 100


def _follow(fetch: Callable[[str | None], Page[Node]]) -> Iterator[Node]:
    after: str | None = None
    while True:
        page = fetch(after)
        yield from page.data
        if not page.has_more or page.next_cursor is None:
            return
        after = page.next_cursor


async def _afollow(fetch: Callable[[str | None], Awaitable[Page[Node]]]
                   ) -> AsyncIterator[Node]:
    after: str | None = None
    while True:
        page = await fetch(after)
        for node in page.data:
            yield node
        if not page.has_more or page.next_cursor is None:
            return
        after = page.next_cursor


class _Base:
    auto_idempotency: bool = True

    def _prepare(self, call: Call, idempotency_key: str | None) -> Call:
        if idempotency_key is not None:
            return call.with_key(idempotency_key)
        if call.mutating and self.auto_idempotency:
            # One key per logical call, reused by every retry of it.
            return call.with_key(calls.new_idempotency_key())
        return call


class SyncOperations(_Base):
    def _send(self, call: Call) -> Answer:
        raise NotImplementedError

    def _run(self, call: Call, idempotency_key: str | None = None) -> Answer:
        return self._send(self._prepare(call, idempotency_key))

    def request(self, method: str, path: str, *, json: Mapping[str, Any] | None = None,
                query: Mapping[str, str] | None = None,
                idempotency_key: str | None = None) -> Answer:
        """Any endpoint, for what has no typed method yet."""
        return self._run(Call(method.upper(), path, json, dict(query or {})), idempotency_key)

    # ---- hierarchy ------------------------------------------------------------------

    def put_org(self, org: str, *, name: str | None = None,
                metadata: Mapping[str, Any] | None = None, overdraft_limit: Amount | None = None,
                status: str | None = None, rate_card: str | None = None,
                idempotency_key: str | None = None) -> Node:
        a = self._run(calls.put_org(org, name=name, metadata=metadata,
                                    overdraft_limit=overdraft_limit, status=status,
                                    rate_card=rate_card), idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    def put_project(self, org: str, project: str, *, name: str | None = None,
                    metadata: Mapping[str, Any] | None = None,
                    idempotency_key: str | None = None) -> Node:
        a = self._run(calls.put_project(org, project, name=name, metadata=metadata),
                      idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    def put_user(self, org: str, project: str, user: str, *,
                 metadata: Mapping[str, Any] | None = None,
                 idempotency_key: str | None = None) -> Node:
        a = self._run(calls.put_user(org, project, user, metadata=metadata), idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    def get_org(self, org: str) -> Node:
        return Node.from_api(self._run(calls.get_node(org)).body)

    def get_project(self, org: str, project: str) -> Node:
        return Node.from_api(self._run(calls.get_node(org, project)).body)

    def get_user(self, org: str, project: str, user: str) -> Node:
        return Node.from_api(self._run(calls.get_node(org, project, user)).body)

    def list_orgs(self, *, limit: int | None = None,
                  starting_after: str | None = None) -> Page[Node]:
        return page_of(self._run(calls.list_orgs(limit, starting_after)).body, Node.from_api)

    def list_projects(self, org: str, *, limit: int | None = None,
                      starting_after: str | None = None) -> Page[Node]:
        a = self._run(calls.list_projects(org, limit, starting_after))
        return page_of(a.body, Node.from_api)

    def list_users(self, org: str, project: str, *, limit: int | None = None,
                   starting_after: str | None = None) -> Page[Node]:
        a = self._run(calls.list_users(org, project, limit, starting_after))
        return page_of(a.body, Node.from_api)

    def iter_orgs(self, *, page_size: int = 100) -> Iterator[Node]:
        """Every org, following the cursor page by page."""
        return _follow(lambda after: self.list_orgs(limit=page_size, starting_after=after))

    def iter_projects(self, org: str, *, page_size: int = 100) -> Iterator[Node]:
        return _follow(lambda after: self.list_projects(org, limit=page_size,
                                                        starting_after=after))

    def iter_users(self, org: str, project: str, *, page_size: int = 100) -> Iterator[Node]:
        return _follow(lambda after: self.list_users(org, project, limit=page_size,
                                                     starting_after=after))

    # ---- wallet ---------------------------------------------------------------------

    def add_grant(self, org: str, amount: Amount, *, priority: int | None = None,
                  effective_at: When | None = None, expires_at: When | None = None,
                  reason: str | None = None, metadata: Mapping[str, Any] | None = None,
                  idempotency_key: str | None = None) -> Grant:
        a = self._run(calls.add_grant(org, amount, priority=priority, effective_at=effective_at,
                                      expires_at=expires_at, reason=reason, metadata=metadata),
                      idempotency_key)
        return Grant.from_api(a.body, status=a.status, replayed=a.replayed)

    def list_grants(self, org: str) -> list[Grant]:
        """Every grant of the org in burn order, each with its remaining (all pages)."""
        out: list[Grant] = []
        after: str | None = None
        while True:
            body = self._run(calls.list_grants(org, PAGE_SIZE, after)).body
            out.extend(Grant.from_api(g) for g in _rows(body))
            if (after := _next(body)) is None:
                return out

    def balance(self, org: str) -> Balance:
        return Balance.from_api(self._run(calls.balance(org)).body)

    # ---- limits ---------------------------------------------------------------------

    def put_limit(self, limit_id: str, *, org: str, amount: Amount, window: str,
                  meter: str = "credits", mode: str = "hard", project: str | None = None,
                  user: str | None = None, thresholds: Sequence[Amount] | None = None,
                  idempotency_key: str | None = None) -> Limit:
        a = self._run(calls.put_limit(limit_id, org=org, amount=amount, window=window,
                                      meter=meter, mode=mode, project=project, user=user,
                                      thresholds=thresholds), idempotency_key)
        return Limit.from_api(a.body, status=a.status, replayed=a.replayed)

    def list_limits(self, *, org: str | None = None, project: str | None = None,
                    user: str | None = None) -> list[Limit]:
        """Every limit on the node given (all pages)."""
        out: list[Limit] = []
        after: str | None = None
        while True:
            body = self._run(calls.list_limits(org, project, user, PAGE_SIZE, after)).body
            out.extend(Limit.from_api(x) for x in _rows(body))
            if (after := _next(body)) is None:
                return out

    def status(self, org: str, project: str | None = None,
               user: str | None = None) -> tuple[LimitStatus, ...]:
        """Every limit on the node's path, with used, held and remaining in its window."""
        return statuses_of(self._run(calls.status(org, project, user)).body)

    # ---- reservations ---------------------------------------------------------------

    def reserve(self, org: str, project: str | None = None, user: str | None = None, *,
                items: Sequence[Mapping[str, Any]] | None = None, amount: Amount | None = None,
                usage: Any | None = None, options: Sequence[Mapping[str, Any]] | None = None,
                ref: str = "item", policy: str | None = None, ttl_seconds: int | None = None,
                metadata: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None) -> Hold:
        """Hold credits for work about to start; use the result as a context manager.

        One item (`amount`, `usage` or `options` in preference order) or a batch (`items`,
        each {"ref", "amount" | "usage" | "options"}), funded by `policy`.
        """
        call = calls.reserve(org, project, user, items=items, amount=amount, usage=usage,
                             options=options, ref=ref, policy=policy, ttl_seconds=ttl_seconds,
                             metadata=metadata)
        a = self._run(call, idempotency_key)
        assert call.body is not None
        return Hold(self, Reservation.from_api(a.body, replayed=a.replayed),
                    call.body["items"])

    def commit(self, reservation_id: str, *, items: Sequence[Mapping[str, Any]],
               idempotency_key: str | None = None) -> Reservation:
        """Charge each named item its actual ({"ref", "amount" | "usage"}); the rest is released."""
        a = self._run(calls.commit(reservation_id, items), idempotency_key)
        return Reservation.from_api(a.body, replayed=a.replayed)

    def release(self, reservation_id: str, *, idempotency_key: str | None = None) -> Reservation:
        a = self._run(calls.release(reservation_id), idempotency_key)
        return Reservation.from_api(a.body, replayed=a.replayed)

    def get_reservation(self, reservation_id: str) -> Reservation:
        return Reservation.from_api(self._run(calls.get_reservation(reservation_id)).body)

    # ---- pricing --------------------------------------------------------------------

    def create_rate_card_version(self, card: str, prices: Sequence[Mapping[str, Any]], *,
                                 effective_at: When | None = None,
                                 idempotency_key: str | None = None) -> RateCardVersion:
        a = self._run(calls.create_rate_card_version(card, prices, effective_at=effective_at),
                      idempotency_key)
        return RateCardVersion.from_api(a.body, replayed=a.replayed)

    def get_rate_card(self, card: str) -> RateCard:
        return RateCard.from_api(self._run(calls.get_rate_card(card)).body)

    def put_settings(self, *, default_rate_card: str | None = None,
                     credit_value: Mapping[str, Any] | None = None,
                     default_ttl_seconds: int | None = None,
                     fallbacks: Mapping[str, Sequence[str]] | None = None,
                     idempotency_key: str | None = None) -> Settings:
        a = self._run(calls.put_settings(default_rate_card=default_rate_card,
                                         credit_value=credit_value,
                                         default_ttl_seconds=default_ttl_seconds,
                                         fallbacks=fallbacks), idempotency_key)
        return Settings.from_api(a.body, replayed=a.replayed)

    def get_settings(self) -> Settings:
        return Settings.from_api(self._run(calls.get_settings()).body)

    def quote(self, usage: Any, *, org: str | None = None, rate_card: str | None = None,
              at: When | None = None,
              period_to_date: Mapping[str, Amount] | None = None) -> Quote:
        call = calls.quote(usage, org=org, rate_card=rate_card, at=at,
                           period_to_date=period_to_date)
        return Quote.from_api(self._run(call).body)

    # ---- usage ----------------------------------------------------------------------

    def ingest_usage(self, events: Sequence[Mapping[str, Any]], *,
                     idempotency_key: str | None = None) -> UsageIngest:
        """Record usage that happened without a hold; event ids make re-sending harmless."""
        a = self._run(calls.ingest_usage(events), idempotency_key)
        return UsageIngest.from_api(a.body, replayed=a.replayed)

    def query_usage(self, *, org: str | None = None, project: str | None = None,
                    user: str | None = None, meter: str | None = None,
                    model: str | None = None, from_: When | None = None,
                    to: When | None = None, group_by: Sequence[str] | None = None) -> UsageReport:
        """Usage totals (events, credits, quantities) grouped by org, project, user, meter,
        model and/or day."""
        a = self._run(calls.query_usage(org=org, project=project, user=user, meter=meter,
                                        model=model, from_=from_, to=to, group_by=group_by))
        return UsageReport.from_api(a.body)


class AsyncOperations(_Base):
    async def _send(self, call: Call) -> Answer:
        raise NotImplementedError

    async def _run(self, call: Call, idempotency_key: str | None = None) -> Answer:
        return await self._send(self._prepare(call, idempotency_key))

    async def request(self, method: str, path: str, *, json: Mapping[str, Any] | None = None,
                      query: Mapping[str, str] | None = None,
                      idempotency_key: str | None = None) -> Answer:
        return await self._run(Call(method.upper(), path, json, dict(query or {})),
                               idempotency_key)

    async def put_org(self, org: str, *, name: str | None = None,
                      metadata: Mapping[str, Any] | None = None,
                      overdraft_limit: Amount | None = None, status: str | None = None,
                      rate_card: str | None = None, idempotency_key: str | None = None) -> Node:
        a = await self._run(calls.put_org(org, name=name, metadata=metadata,
                                          overdraft_limit=overdraft_limit, status=status,
                                          rate_card=rate_card), idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    async def put_project(self, org: str, project: str, *, name: str | None = None,
                          metadata: Mapping[str, Any] | None = None,
                          idempotency_key: str | None = None) -> Node:
        a = await self._run(calls.put_project(org, project, name=name, metadata=metadata),
                            idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    async def put_user(self, org: str, project: str, user: str, *,
                       metadata: Mapping[str, Any] | None = None,
                       idempotency_key: str | None = None) -> Node:
        a = await self._run(calls.put_user(org, project, user, metadata=metadata),
                            idempotency_key)
        return Node.from_api(a.body, status=a.status, replayed=a.replayed)

    async def get_org(self, org: str) -> Node:
        return Node.from_api((await self._run(calls.get_node(org))).body)

    async def get_project(self, org: str, project: str) -> Node:
        return Node.from_api((await self._run(calls.get_node(org, project))).body)

    async def get_user(self, org: str, project: str, user: str) -> Node:
        return Node.from_api((await self._run(calls.get_node(org, project, user))).body)

    async def list_orgs(self, *, limit: int | None = None,
                        starting_after: str | None = None) -> Page[Node]:
        a = await self._run(calls.list_orgs(limit, starting_after))
        return page_of(a.body, Node.from_api)

    async def list_projects(self, org: str, *, limit: int | None = None,
                            starting_after: str | None = None) -> Page[Node]:
        a = await self._run(calls.list_projects(org, limit, starting_after))
        return page_of(a.body, Node.from_api)

    async def list_users(self, org: str, project: str, *, limit: int | None = None,
                         starting_after: str | None = None) -> Page[Node]:
        a = await self._run(calls.list_users(org, project, limit, starting_after))
        return page_of(a.body, Node.from_api)

    def iter_orgs(self, *, page_size: int = 100) -> AsyncIterator[Node]:
        """`async for org in gate.iter_orgs():` every org, page by page."""
        return _afollow(lambda after: self.list_orgs(limit=page_size, starting_after=after))

    def iter_projects(self, org: str, *, page_size: int = 100) -> AsyncIterator[Node]:
        return _afollow(lambda after: self.list_projects(org, limit=page_size,
                                                         starting_after=after))

    def iter_users(self, org: str, project: str, *,
                   page_size: int = 100) -> AsyncIterator[Node]:
        return _afollow(lambda after: self.list_users(org, project, limit=page_size,
                                                      starting_after=after))

    async def add_grant(self, org: str, amount: Amount, *, priority: int | None = None,
                        effective_at: When | None = None, expires_at: When | None = None,
                        reason: str | None = None, metadata: Mapping[str, Any] | None = None,
                        idempotency_key: str | None = None) -> Grant:
        a = await self._run(calls.add_grant(org, amount, priority=priority,
                                            effective_at=effective_at, expires_at=expires_at,
                                            reason=reason, metadata=metadata), idempotency_key)
        return Grant.from_api(a.body, status=a.status, replayed=a.replayed)

    async def list_grants(self, org: str) -> list[Grant]:
        out: list[Grant] = []
        after: str | None = None
        while True:
            body = (await self._run(calls.list_grants(org, PAGE_SIZE, after))).body
            out.extend(Grant.from_api(g) for g in _rows(body))
            if (after := _next(body)) is None:
                return out

    async def balance(self, org: str) -> Balance:
        return Balance.from_api((await self._run(calls.balance(org))).body)

    async def put_limit(self, limit_id: str, *, org: str, amount: Amount, window: str,
                        meter: str = "credits", mode: str = "hard", project: str | None = None,
                        user: str | None = None, thresholds: Sequence[Amount] | None = None,
                        idempotency_key: str | None = None) -> Limit:
        a = await self._run(calls.put_limit(limit_id, org=org, amount=amount, window=window,
                                            meter=meter, mode=mode, project=project, user=user,
                                            thresholds=thresholds), idempotency_key)
        return Limit.from_api(a.body, status=a.status, replayed=a.replayed)

    async def list_limits(self, *, org: str | None = None, project: str | None = None,
                          user: str | None = None) -> list[Limit]:
        out: list[Limit] = []
        after: str | None = None
        while True:
            body = (await self._run(calls.list_limits(org, project, user, PAGE_SIZE,
                                                      after))).body
            out.extend(Limit.from_api(x) for x in _rows(body))
            if (after := _next(body)) is None:
                return out

    async def status(self, org: str, project: str | None = None,
                     user: str | None = None) -> tuple[LimitStatus, ...]:
        return statuses_of((await self._run(calls.status(org, project, user))).body)

    def reserve(self, org: str, project: str | None = None, user: str | None = None, *,
                items: Sequence[Mapping[str, Any]] | None = None, amount: Amount | None = None,
                usage: Any | None = None, options: Sequence[Mapping[str, Any]] | None = None,
                ref: str = "item", policy: str | None = None, ttl_seconds: int | None = None,
                metadata: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None) -> PendingHold:
        """`hold = await gate.reserve(...)`, or `async with gate.reserve(...) as hold:`."""
        call = calls.reserve(org, project, user, items=items, amount=amount, usage=usage,
                             options=options, ref=ref, policy=policy, ttl_seconds=ttl_seconds,
                             metadata=metadata)

        async def reserving() -> AsyncHold:
            a = await self._run(call, idempotency_key)
            assert call.body is not None
            return AsyncHold(self, Reservation.from_api(a.body, replayed=a.replayed),
                             call.body["items"])

        return PendingHold(reserving())

    async def commit(self, reservation_id: str, *, items: Sequence[Mapping[str, Any]],
                     idempotency_key: str | None = None) -> Reservation:
        a = await self._run(calls.commit(reservation_id, items), idempotency_key)
        return Reservation.from_api(a.body, replayed=a.replayed)

    async def release(self, reservation_id: str, *,
                      idempotency_key: str | None = None) -> Reservation:
        a = await self._run(calls.release(reservation_id), idempotency_key)
        return Reservation.from_api(a.body, replayed=a.replayed)

    async def get_reservation(self, reservation_id: str) -> Reservation:
        a = await self._run(calls.get_reservation(reservation_id))
        return Reservation.from_api(a.body)

    async def create_rate_card_version(self, card: str, prices: Sequence[Mapping[str, Any]], *,
                                       effective_at: When | None = None,
                                       idempotency_key: str | None = None) -> RateCardVersion:
        a = await self._run(calls.create_rate_card_version(card, prices,
                                                           effective_at=effective_at),
                            idempotency_key)
        return RateCardVersion.from_api(a.body, replayed=a.replayed)

    async def get_rate_card(self, card: str) -> RateCard:
        return RateCard.from_api((await self._run(calls.get_rate_card(card))).body)

    async def put_settings(self, *, default_rate_card: str | None = None,
                           credit_value: Mapping[str, Any] | None = None,
                           default_ttl_seconds: int | None = None,
                           fallbacks: Mapping[str, Sequence[str]] | None = None,
                           idempotency_key: str | None = None) -> Settings:
        a = await self._run(calls.put_settings(default_rate_card=default_rate_card,
                                               credit_value=credit_value,
                                               default_ttl_seconds=default_ttl_seconds,
                                               fallbacks=fallbacks), idempotency_key)
        return Settings.from_api(a.body, replayed=a.replayed)

    async def get_settings(self) -> Settings:
        return Settings.from_api((await self._run(calls.get_settings())).body)

    async def quote(self, usage: Any, *, org: str | None = None, rate_card: str | None = None,
                    at: When | None = None,
                    period_to_date: Mapping[str, Amount] | None = None) -> Quote:
        call = calls.quote(usage, org=org, rate_card=rate_card, at=at,
                           period_to_date=period_to_date)
        return Quote.from_api((await self._run(call)).body)

    async def ingest_usage(self, events: Sequence[Mapping[str, Any]], *,
                           idempotency_key: str | None = None) -> UsageIngest:
        a = await self._run(calls.ingest_usage(events), idempotency_key)
        return UsageIngest.from_api(a.body, replayed=a.replayed)

    async def query_usage(self, *, org: str | None = None, project: str | None = None,
                          user: str | None = None, meter: str | None = None,
                          model: str | None = None, from_: When | None = None,
                          to: When | None = None,
                          group_by: Sequence[str] | None = None) -> UsageReport:
        a = await self._run(calls.query_usage(org=org, project=project, user=user, meter=meter,
                                              model=model, from_=from_, to=to,
                                              group_by=group_by))
        return UsageReport.from_api(a.body)
