"""The HTTP app: `create_app(...)` wires the routers over one ledger and one store.

Routers added later (sinks, webhooks) are passed in `routers` (bootstrap finds them) or
included afterwards with `app.include_router(router)`; they read `Services` with
`Depends(get_services)` and authenticate with `Depends(require(Role.X))`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

import spendgate
from spendgate.api import (
    errors,
    hierarchy,
    limits,
    openapi,
    ops,
    rate_cards,
    reservations,
    settings,
    usage,
    wallet,
)
from spendgate.api.context import Services
from spendgate.api.locator import ReservationLocator
from spendgate.api.metrics import Metrics
from spendgate.api.middleware import RequestMiddleware
from spendgate.api.rate_limit import TokenBuckets
from spendgate.config import Settings
from spendgate.domain.clock import Clock
from spendgate.ledger.engine import Ledger
from spendgate.tenancy import Configuration, Directory

# Routes are matched in order, one by one: the hot paths (probes, reservations, usage)
# come first so they do not pay for matching every configuration route before them.
CORE_ROUTERS: tuple[APIRouter, ...] = (
    ops.router, reservations.router, usage.router, hierarchy.router, wallet.router,
    limits.router, rate_cards.router, settings.router,
)


def create_app(ledger: Ledger, settings: Settings | None = None, *,
               directory: Directory | None = None,
               configuration: Configuration | None = None,
               clock: Clock | None = None,
               routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The API over `ledger` (and its store). The caller owns the ledger and closes it."""
    settings = settings or Settings()
    clock = clock or ledger.clock
    store = ledger.store
    metrics = Metrics(store)
    services = Services(
        settings=settings,
        store=store,
        ledger=ledger,
        directory=directory or Directory(store, clock, cache_s=settings.config_cache_s),
        configuration=configuration or Configuration(store, ttl_s=settings.config_cache_s),
        clock=clock,
        metrics=metrics,
        buckets=TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst),
        locator=ReservationLocator(),
    )
    app = FastAPI(
        title="Spendgate API",
        version=getattr(spendgate, "__version__", "0.1.0"),
        description="Real-time spend control and usage billing for AI products. "
                    "Conventions and design choices: docs/api.md in the repository.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        responses=openapi.error_responses(),
    )
    app.state.services = services
    errors.install(app)
    for router in (*CORE_ROUTERS, *routers):
        app.include_router(router)
    openapi.install(app)
    app.add_middleware(RequestMiddleware, metrics=metrics)
    return app
