"""EmbeddedGate: the client's interface with the engine in process, no HTTP.

    gate = EmbeddedGate.open("sqlite:///spend.db")
    with gate.reserve("acme", "studio", "ana", amount="2.5") as hold:
        hold.commit("1.75")

Same methods, same result types and same exceptions as Gate; amounts go in as decimal
strings or Decimals and come out as decimal strings. For the lowest latency: no network,
no serialization beyond what the engine itself stores.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from spendgate.client._calls import Answer, Call
from spendgate.client._inprocess import InProcessAPI
from spendgate.client._surface import AsyncOperations, SyncOperations
from spendgate.domain.clock import Clock
from spendgate.domain.hierarchy import Scope
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store

DEFAULT_TENANT = "default"
DEFAULT_ENV = "live"


class EmbeddedGate(SyncOperations):
    """The synchronous in-process gate over a Ledger, for one tenant environment."""

    def __init__(self, ledger: Ledger, *, tenant: str = DEFAULT_TENANT, env: str = DEFAULT_ENV,
                 clock: Clock | None = None, owns_ledger: bool = False) -> None:
        self.ledger = ledger
        self.api = InProcessAPI(ledger, Scope(tenant, env), clock=clock)
        self._owns = owns_ledger

    @classmethod
    def open(cls, database_url: str, *, tenant: str = DEFAULT_TENANT, env: str = DEFAULT_ENV,
             clock: Clock | None = None) -> EmbeddedGate:
        """Open the store (running migrations) and an engine this gate owns and closes."""
        ledger = Ledger(open_store(database_url), clock)
        return cls(ledger, tenant=tenant, env=env, clock=clock, owns_ledger=True)

    def _send(self, call: Call) -> Answer:
        return self.api.handle(call)

    def verify(self) -> list[str]:
        """Recompute every balance from the journal; an empty list means all agree."""
        return [str(p) for p in self.ledger.verify()]

    def close(self) -> None:
        if self._owns:
            store = self.ledger.store
            self.ledger.close()
            store.close()

    def __enter__(self) -> EmbeddedGate:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncEmbeddedGate(AsyncOperations):
    """The asyncio twin: each call runs on a worker thread, never blocking the event loop."""

    def __init__(self, ledger: Ledger, *, tenant: str = DEFAULT_TENANT, env: str = DEFAULT_ENV,
                 clock: Clock | None = None, owns_ledger: bool = False) -> None:
        self.ledger = ledger
        self.api = InProcessAPI(ledger, Scope(tenant, env), clock=clock)
        self._owns = owns_ledger

    @classmethod
    def open(cls, database_url: str, *, tenant: str = DEFAULT_TENANT, env: str = DEFAULT_ENV,
             clock: Clock | None = None) -> AsyncEmbeddedGate:
        ledger = Ledger(open_store(database_url), clock)
        return cls(ledger, tenant=tenant, env=env, clock=clock, owns_ledger=True)

    async def _send(self, call: Call) -> Answer:
        return await asyncio.to_thread(self.api.handle, call)

    async def aclose(self) -> None:
        if self._owns:
            store = self.ledger.store
            await asyncio.to_thread(self.ledger.close)
            store.close()

    async def __aenter__(self) -> AsyncEmbeddedGate:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


__all__ = ["DEFAULT_ENV", "DEFAULT_TENANT", "AsyncEmbeddedGate", "EmbeddedGate"]
