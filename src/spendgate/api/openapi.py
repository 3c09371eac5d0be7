"""The OpenAPI 3.1 document: request and response shapes, and the error object everywhere.

Handlers parse bodies themselves (exact numbers, errors naming the field), so the models
here only describe the contract; `install` merges them into the generated document's
components, and `document(...)` gives a route its body, success and error responses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

Money = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]*)(\.[0-9]{1,9})?$",
                             examples=["12.5"],
                             description="Credits: plain decimal, at most 9 decimal places")]
MoneyOut = Annotated[str, Field(description="Credits with exactly 9 decimal places",
                                examples=["12.500000000"])]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
Time = Annotated[str, Field(description="RFC 3339 UTC", examples=["2026-01-01T00:00:00Z"])]
UsageObject = Annotated[dict[str, Any], Field(
    description="A usage: {\"meter\", dimensions as strings, quantities as numbers}",
    examples=[{"meter": "llm", "model": "gpt-4o", "input_tokens": 1200,
               "output_tokens": 800}])]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(_Doc):
    type: Literal["invalid_request", "unauthorized", "forbidden", "not_found", "conflict",
                  "idempotency_mismatch", "rate_limited", "internal"]
    code: str
    message: str
    param: str | None


class ErrorResponse(_Doc):
    error: ErrorDetail


class OrgRequest(_Doc):
    name: str | None = None
    metadata: dict[str, Any] | None = None
    overdraft_limit: Money | None = None
    status: Literal["active", "suspended"] | None = None
    rate_card: Ident | None = None


class ProjectRequest(_Doc):
    name: str | None = None
    metadata: dict[str, Any] | None = None
    status: Literal["active", "suspended"] | None = None


class UserRequest(_Doc):
    metadata: dict[str, Any] | None = None
    status: Literal["active", "suspended"] | None = None


class Node(BaseModel):
    object: Literal["org", "project", "user"]
    id: str
    org: str
    project: str | None = None
    user: str | None = None
    name: str | None = None
    metadata: dict[str, Any]
    status: str
    overdraft_limit: MoneyOut | None = None
    rate_card: str | None = None
    created_at: Time
    updated_at: Time


class _List(BaseModel):
    has_more: bool
    next_cursor: str | None


class NodeList(_List):
    data: list[Node]


class GrantRequest(_Doc):
    amount: Money
    priority: int | None = Field(default=None, ge=0, le=1_000_000)
    effective_at: Time | None = None
    expires_at: Time | None = None
    reason: str | None = None
    metadata: dict[str, Any] | None = None


class Grant(BaseModel):
    object: Literal["grant"]
    id: str
    amount: MoneyOut
    remaining: MoneyOut
    priority: int
    effective_at: Time
    expires_at: Time | None
    reason: str | None
    metadata: dict[str, Any]
    created_at: Time


class GrantList(_List):
    data: list[Grant]


class Balance(BaseModel):
    object: Literal["balance"]
    org: str
    granted: MoneyOut
    spent: MoneyOut
    held: MoneyOut
    available: MoneyOut
    overdraft_limit: MoneyOut
    debt: MoneyOut
    remaining: MoneyOut
    spent_lifetime: MoneyOut


class LimitRequest(_Doc):
    org: Ident
    project: Ident | None = None
    user: Ident | None = None
    meter: Ident = Field(description="\"credits\", \"<meter>\" or \"<meter>.<quantity>\"")
    amount: Money
    window: Literal["day", "week", "month", "lifetime"]
    mode: Literal["hard", "soft"] = "hard"
    thresholds: list[Money] | None = None


class Limit(BaseModel):
    object: Literal["limit"]
    id: str
    org: str
    project: str | None
    user: str | None
    meter: str
    amount: MoneyOut
    window: str
    mode: str
    thresholds: list[str]
    used: MoneyOut
    held: MoneyOut
    remaining: MoneyOut
    window_start: Time
    created_at: Time
    updated_at: Time


class LimitList(_List):
    data: list[Limit]


class Option(_Doc):
    amount: Money | None = None
    usage: UsageObject | None = None


class ReserveItem(_Doc):
    ref: Annotated[str, Field(min_length=1, max_length=128)]
    amount: Money | None = None
    usage: UsageObject | None = None
    options: list[Option] | None = Field(default=None, min_length=1, max_length=16)


class ReserveRequest(_Doc):
    org: Ident
    project: Ident | None = None
    user: Ident | None = None
    policy: Literal["all_or_nothing", "partial"] = "all_or_nothing"
    ttl_seconds: int | None = Field(default=None, ge=1, le=604800)
    items: list[ReserveItem] = Field(min_length=1, max_length=100)
    metadata: dict[str, Any] | None = None


class CommitItem(_Doc):
    ref: Annotated[str, Field(min_length=1, max_length=128)]
    amount: Money | None = None
    usage: UsageObject | None = None


class CommitRequest(_Doc):
    items: list[CommitItem] = Field(max_length=100)


class ReleaseRequest(_Doc):
    """Release takes no fields; an empty body or {} is fine."""


class DeniedBy(BaseModel):
    level: Literal["org", "project", "user"]
    reason: Literal["insufficient_funds", "limit_exceeded", "suspended"]
    limit_id: str | None = None


class ReservationItem(BaseModel):
    ref: str
    status: Literal["held", "denied"]
    option: int | None
    amount: MoneyOut | None
    held: MoneyOut | None
    charged: MoneyOut | None
    usage: dict[str, Any] | None
    rate_card: str | None
    rate_card_version: int | None
    denied_by: DeniedBy | None
    event_id: str | None


class Reservation(BaseModel):
    object: Literal["reservation"]
    id: str
    status: Literal["held", "partial", "denied", "committed", "released", "expired"]
    org: str
    project: str | None
    user: str | None
    policy: str
    created_at: Time
    expires_at: Time
    settled_at: Time | None
    held: MoneyOut
    charged: MoneyOut
    items: list[ReservationItem]
    metadata: dict[str, Any]


class LimitStatusList(BaseModel):
    data: list[Limit]


class RateCardVersionRequest(_Doc):
    effective_at: Time | None = None
    prices: list[dict[str, Any]] = Field(min_length=1)


class RateCardVersion(BaseModel):
    card: str
    version: int
    effective_at: Time
    prices: list[dict[str, Any]]


class RateCard(BaseModel):
    card: str
    versions: list[RateCardVersion]


class QuoteRequest(_Doc):
    usage: UsageObject
    org: Ident | None = None
    rate_card: Ident | None = None
    at: Time | None = None
    period_to_date: dict[str, str | int] | None = None


class QuoteLine(BaseModel):
    quantity: str
    units: str
    credits: MoneyOut
    price: dict[str, Any]


class Quote(BaseModel):
    credits: MoneyOut
    rate_card: str
    version: int
    lines: list[QuoteLine]


class CreditValue(_Doc):
    currency: str
    amount: Money


class SettingsRequest(_Doc):
    default_rate_card: Ident | None = None
    credit_value: CreditValue | None = None
    default_ttl_seconds: int | None = Field(default=None, ge=1, le=604800)
    fallbacks: dict[str, list[str]] | None = None


class Settings(BaseModel):
    default_rate_card: str | None
    credit_value: CreditValue | None
    default_ttl_seconds: int
    fallbacks: dict[str, list[str]]


class UsageEventIn(_Doc):
    id: Ident
    org: Ident
    project: Ident | None = None
    user: Ident | None = None
    timestamp: Time | None = None
    amount: Money | None = None
    usage: UsageObject | None = None


class UsageRequest(_Doc):
    events: list[UsageEventIn] = Field(min_length=1, max_length=1000)


class UsageAccepted(BaseModel):
    accepted: int
    duplicates: int


class UsageRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    events: int
    credits: MoneyOut
    quantities: dict[str, str]


class UsageReport(_List):
    data: list[UsageRow]


class Health(BaseModel):
    status: str


MODELS: tuple[type[BaseModel], ...] = (
    ErrorResponse, OrgRequest, ProjectRequest, UserRequest, Node, NodeList, GrantRequest,
    Grant, GrantList, Balance, LimitRequest, Limit, LimitList, LimitStatusList,
    ReserveRequest, CommitRequest, ReleaseRequest, Reservation, RateCardVersionRequest,
    RateCardVersion, RateCard, QuoteRequest, Quote, SettingsRequest, Settings, UsageRequest,
    UsageAccepted, UsageReport, Health,
)
# Models of routers defined outside this module (sinks, webhooks...), added with register().
EXTRA_MODELS: list[type[BaseModel]] = []


def register(*models: type[BaseModel]) -> None:
    """Make models available as components for `document(...)` references."""
    EXTRA_MODELS.extend(m for m in models if m not in EXTRA_MODELS)


_ERRORS = {
    "400": "Invalid request (the error names the field in `param`)",
    "401": "Missing or wrong API key",
    "403": "The key's role does not allow this call",
    "404": "No such resource in this tenant and environment",
    "409": "Conflict, or Idempotency-Key reused with another request",
    "422": "An amount or usage that cannot be accepted",
    "429": "Rate limited: retry after Retry-After seconds",
    "500": "Internal error: nothing changed",
    "503": "The store is unreachable: nothing changed",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def error_responses() -> dict[int | str, dict[str, Any]]:
    return {code: {"description": text, "content": _json("ErrorResponse")}
            for code, text in _ERRORS.items()}


def body_doc(model: str, *, required: bool = True) -> dict[str, Any]:
    return {"requestBody": {"required": required, "content": _json(model)}}


def document(operation: str, summary: str, body: dict[str, Any] | None, response: str, *,
             created: bool = False, status: int = 200, idempotent: bool | None = None,
             public: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Route keyword arguments: summary, body, success and error responses.

    `public` marks a route that takes no API key (e.g. inbound webhooks, signed by the
    vendor); `extra` is merged into the operation's OpenAPI object.
    """
    responses: dict[int | str, dict[str, Any]] = {
        str(status): {"description": "OK", "content": _json(response)}}
    if created:
        responses["201"] = {"description": "Created", "content": _json(response)}
    responses.update(error_responses())
    openapi_extra: dict[str, Any] = {**(body or {}), **(extra or {})}
    if public:
        openapi_extra["security"] = []
    writes = body is not None if idempotent is None else idempotent
    if writes:
        openapi_extra.setdefault("parameters", []).append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                       "pattern": "^[!-~]{1,255}$"},
            "description": "Same key and body: the first response again, with "
                           "Idempotent-Replayed: true; another body: 409.",
        })
    return {"summary": summary, "operation_id": operation.replace(" ", "_").lower(),
            "responses": responses, "openapi_extra": openapi_extra,
            "status_code": status}


def install(app: FastAPI) -> None:
    """Generate the document once, with our models as components and bearer auth."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description)
        _, defs = models_json_schema([(m, "serialization") for m in (*MODELS, *EXTRA_MODELS)],
                                     ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs.get("$defs", {}))
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
