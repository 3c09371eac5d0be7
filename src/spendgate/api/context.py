"""What every handler reaches through `request.app.state.services`: one value per process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from spendgate.api.locator import ReservationLocator
from spendgate.api.metrics import Metrics
from spendgate.api.rate_limit import TokenBuckets
from spendgate.config import Settings
from spendgate.domain.clock import Clock
from spendgate.ledger.engine import Ledger
from spendgate.stores.port import Store
from spendgate.tenancy import Configuration, Directory


@dataclass(frozen=True, slots=True)
class Services:
    """The engine and the tenant registry a handler works with.

    Routers added later (sinks, webhooks) take it with `Depends(get_services)` and scope
    every query by the caller's `ApiKey.scope` (tenant + environment).
    """

    settings: Settings
    store: Store
    ledger: Ledger
    directory: Directory
    configuration: Configuration
    clock: Clock
    metrics: Metrics
    buckets: TokenBuckets
    locator: ReservationLocator


async def get_services(request: Request) -> Services:
    """A dependency (async on purpose: FastAPI runs sync dependencies in a thread pool)."""
    services: Services = request.app.state.services
    return services
