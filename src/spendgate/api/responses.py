"""JSON responses rendered with orjson (Decimal as its exact text), with optional headers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

REPLAYED_HEADER = "Idempotent-Replayed"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None,
                  *, replayed: bool = False) -> Response:
    out = dict(headers or {})
    if replayed:
        out[REPLAYED_HEADER] = "true"
    return Response(dumps(body), status_code=status, headers=out,
                    media_type="application/json")
