"""The HTTP API: `create_app(ledger, settings)` and what routers need to plug in."""

from __future__ import annotations

from spendgate.api.app import CORE_ROUTERS, create_app
from spendgate.api.auth import require
from spendgate.api.context import Services, get_services
from spendgate.api.errors import STATUS, error_body
from spendgate.api.idempotency import idempotent_write, ledger_idem
from spendgate.api.responses import json_response

__all__ = [
    "CORE_ROUTERS",
    "STATUS",
    "Services",
    "create_app",
    "error_body",
    "get_services",
    "idempotent_write",
    "json_response",
    "ledger_idem",
    "require",
]
