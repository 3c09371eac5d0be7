"""The client's public names, its error objects and its refusal of inexact amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

import spendgate.client as client
from spendgate.client import _calls as calls
from spendgate.client.errors import (
    AuthenticationError,
    ConflictError,
    IdempotencyMismatchError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SpendgateAPIError,
    error_from_response,
)
from spendgate.errors import SpendgateError


def test_the_public_surface_is_pinned() -> None:
    assert sorted(client.__all__) == sorted([
        "AsyncEmbeddedGate", "AsyncGate", "AsyncHold", "AuthenticationError", "Balance",
        "ClientError", "ConflictError", "ConnectionFailed", "Denial", "EmbeddedGate", "Gate",
        "Grant", "Hold", "IdempotencyMismatchError", "InternalServerError",
        "InvalidRequestError", "Limit", "LimitStatus", "Node", "NotFoundError", "Page",
        "PendingHold", "PermissionDeniedError", "Quote", "QuoteLine", "RateCard",
        "RateCardVersion", "RateLimitedError", "Reservation", "ReservationItem", "RetryPolicy",
        "Settings", "SpendgateAPIError", "UsageIngest", "UsageReport",
    ])
    for name in client.__all__:
        assert hasattr(client, name)


@pytest.mark.parametrize(("status", "etype", "cls"), [
    (400, "invalid_request", InvalidRequestError),
    (422, "invalid_request", InvalidRequestError),
    (401, "unauthorized", AuthenticationError),
    (403, "forbidden", PermissionDeniedError),
    (404, "not_found", NotFoundError),
    (409, "conflict", ConflictError),
    (409, "idempotency_mismatch", IdempotencyMismatchError),
    (429, "rate_limited", RateLimitedError),
    (500, "internal", InternalServerError),
])
def test_each_error_type_becomes_its_own_exception_carrying_the_error_object(
        status: int, etype: str, cls: type[SpendgateAPIError]) -> None:
    body = {"error": {"type": etype, "code": "some_code", "message": "what happened",
                      "param": "items[0].amount"}}
    err = error_from_response(status, body, {"x-request-id": "req_1"})
    assert type(err) is cls
    assert isinstance(err, SpendgateError)  # one root for everything we raise on purpose
    assert (err.type, err.code, err.message, err.param, err.status, err.request_id) == (
        etype, "some_code", "what happened", "items[0].amount", status, "req_1")


def test_an_idempotency_mismatch_is_also_a_conflict() -> None:
    err = error_from_response(409, {"error": {"type": "idempotency_mismatch"}}, {})
    assert isinstance(err, ConflictError)


def test_an_answer_without_an_error_object_is_classified_by_its_status() -> None:
    assert type(error_from_response(502, "bad gateway", {})) is InternalServerError
    limited = error_from_response(429, None, {"retry-after": "4"})
    assert isinstance(limited, RateLimitedError) and limited.retry_after_s == Decimal(4)


def test_amounts_are_exact_decimal_strings_and_floats_are_refused() -> None:
    assert calls.amount_text(Decimal("12.50")) == "12.50"
    assert calls.amount_text(Decimal("1E-9")) == "0.000000001"
    assert calls.amount_text("0.000000150") == "0.000000150"
    with pytest.raises(TypeError):
        calls.amount_text(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        calls.add_grant("acme", 2.5)  # type: ignore[arg-type]


def test_usage_quantities_travel_exactly_and_never_as_floats() -> None:
    body = calls.usage_body({"meter": "video", "model": "veo-3", "seconds": Decimal("8"),
                             "extra": Decimal("2.25")})
    assert body == {"meter": "video", "model": "veo-3", "seconds": 8,
                    "quantities": {"extra": "2.25"}}
    with pytest.raises(TypeError):
        calls.usage_body({"meter": "video", "model": "veo-3", "seconds": 8.0})


def test_a_single_item_reservation_and_a_batch_build_the_same_shape() -> None:
    one = calls.reserve("acme", "studio", "ana", amount="2.5", ref="shot-1")
    batch = calls.reserve("acme", "studio", "ana", items=[{"ref": "shot-1", "amount": "2.5"}])
    assert one.body == batch.body == {"org": "acme", "project": "studio", "user": "ana",
                                      "items": [{"ref": "shot-1", "amount": "2.5"}]}
    with pytest.raises(TypeError):
        calls.reserve("acme", amount="1", usage={"meter": "x", "n": 1})


def test_ids_are_escaped_in_paths() -> None:
    assert calls.get_node("a/b", "p q").path == "/v1/orgs/a%2Fb/projects/p%20q"
