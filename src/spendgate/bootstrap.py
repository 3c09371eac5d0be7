"""The only place that picks adapters: Settings -> store, ledger, app.

    runtime = build(Settings.from_env())
    uvicorn.run(runtime.app, ...)
    runtime.close()
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI

from spendgate.api.app import create_app
from spendgate.api.idempotency import prune
from spendgate.config import Settings
from spendgate.domain.clock import Clock, SystemClock
from spendgate.ledger.engine import Ledger
from spendgate.stores import Store, open_store
from spendgate.tenancy import Configuration, Directory

log = logging.getLogger("spendgate.bootstrap")

# Routers that live in other capabilities; each module exposes `router` (an APIRouter).
# A module not installed yet is skipped, so the core API runs without them.
OPTIONAL_ROUTERS: tuple[str, ...] = ("spendgate.api.sinks", "spendgate.api.webhooks",
                                     "spendgate.api.reconciliations", "spendgate.api.meters")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    ledger: Ledger
    directory: Directory
    configuration: Configuration
    app: FastAPI
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: Any = None

    def start_background(self, *, workers: bool = True) -> None:
        """The ledger's expiry sweeper, the hourly idempotency clean-up, and (when `workers`
        and the module is present) `spendgate.workers.Workers`: sink delivery, webhooks."""
        self.ledger.start_sweeper(self.settings.sweeper_interval_s)
        threading.Thread(target=self._prune_loop, daemon=True,
                         name="spendgate-idempotency-prune").start()
        if workers:
            self._workers = background_workers(self)
            if self._workers is not None:
                self._workers.start()

    def _prune_loop(self) -> None:
        while True:
            try:
                cut = self.ledger.clock.now_ms() - self.settings.idempotency_ttl_s * 1000
                prune(self.store, cut)
            except Exception:  # the next round tries again
                log.warning("idempotency clean-up failed", exc_info=True)
            if self._stop.wait(3600):
                return

    def close(self) -> None:
        self._stop.set()
        if self._workers is not None:
            self._workers.stop()
        self.ledger.close()
        self.store.close()


def background_workers(runtime: Runtime) -> Any:
    """Sink delivery and webhook loops from `spendgate.workers`, if that module exists; their
    metrics join the app's registry. The ledger sweeper already runs, so theirs does not."""
    try:
        from spendgate.workers import Workers
    except ImportError as exc:
        if getattr(exc, "name", None) != "spendgate.workers":
            # Present but broken: the API still serves; the log says why delivery is off.
            log.error("background workers unavailable: %s", exc)
        return None
    services = runtime.app.state.services
    return Workers(runtime.store, runtime.ledger, sweep=False,
                   registry=services.metrics.registry)


def open_database(settings: Settings) -> Store:
    return open_store(settings.database_url.value)


def optional_routers(modules: Sequence[str] = OPTIONAL_ROUTERS) -> list[APIRouter]:
    found = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                log.error("router %s cannot be imported; its routes are off: %s", name, exc)
            continue
        except Exception as exc:  # a broken router must not take the core API down with it
            log.error("router %s cannot be imported; its routes are off: %s", name, exc)
            continue
        found.append(module.router)
    return found


def build(settings: Settings, *, clock: Clock | None = None,
          routers: Sequence[APIRouter] | None = None) -> Runtime:
    clock = clock or SystemClock()
    store = open_database(settings)
    ledger = Ledger(store, clock)
    directory = Directory(store, clock, cache_s=settings.config_cache_s)
    configuration = Configuration(store, ttl_s=settings.config_cache_s)
    app = create_app(ledger, settings, directory=directory, configuration=configuration,
                     clock=clock, routers=optional_routers() if routers is None else routers)
    return Runtime(settings, store, ledger, directory, configuration, app)
