"""The API package's small rules: public surface, the error table, keys, config, limits."""

from __future__ import annotations

import pytest

import spendgate.api
import spendgate.tenancy
from spendgate.api.errors import STATUS, error_body, status_of
from spendgate.api.pagination import page, page_request, slice_after
from spendgate.api.rate_limit import TokenBuckets
from spendgate.config import Secret, Settings, redact_url
from spendgate.errors import (
    Conflict,
    IdempotencyMismatch,
    InvalidAmount,
    InvalidRequest,
    NotFound,
    RateLimited,
    SpendgateError,
)
from spendgate.pricing import InvalidRateCard
from spendgate.tenancy import Role, digest, new_secret, parse_secret


def test_the_public_surfaces_are_pinned() -> None:
    assert spendgate.api.__all__ == [
        "CORE_ROUTERS", "STATUS", "Services", "create_app", "error_body", "get_services",
        "idempotent_write", "json_response", "ledger_idem", "require"]
    assert "Directory" in spendgate.tenancy.__all__
    assert "Configuration" in spendgate.tenancy.__all__


def test_statuses_come_from_one_table_along_the_class_tree() -> None:
    assert status_of(InvalidRequest("x")) == 400
    assert status_of(InvalidAmount("amount", "bad")) == 422
    assert status_of(InvalidRateCard("prices", "bad")) == 400
    assert status_of(NotFound("org", "o")) == 404
    assert status_of(Conflict("c")) == 409
    assert status_of(IdempotencyMismatch("k")) == 409
    assert status_of(RateLimited(2)) == 429
    assert status_of(SpendgateError("boom")) == 500
    assert all(isinstance(code, int) for code in STATUS.values())


def test_the_error_object_has_exactly_four_fields() -> None:
    assert error_body("not_found", "resource_missing", "no such org", "org") == {
        "error": {"type": "not_found", "code": "resource_missing", "message": "no such org",
                  "param": "org"}}


def test_keys_carry_their_environment_and_only_their_digest_is_kept() -> None:
    key_id, secret = new_secret("live")
    assert secret.startswith("sk_live_") and len(secret) == len("sk_live_") + 64
    assert parse_secret(secret) == ("live", key_id)
    assert parse_secret(secret.replace("sk_live_", "sk_test_")) == ("test", key_id)
    assert parse_secret("sk_live_short") is None
    assert digest(secret) != secret and len(digest(secret)) == 64


def test_roles_are_ordered_admin_over_service_over_read() -> None:
    assert Role.ADMIN.allows(Role.SERVICE) and Role.SERVICE.allows(Role.READ)
    assert not Role.READ.allows(Role.SERVICE) and not Role.SERVICE.allows(Role.ADMIN)


def test_settings_read_the_environment_and_hide_secrets() -> None:
    settings = Settings.from_env({"SPENDGATE_DATABASE_URL": "postgresql://u:pw@h/db",
                                  "SPENDGATE_PORT": "9000"})
    assert settings.port == 9000
    assert settings.database_url.value == "postgresql://u:pw@h/db"
    assert "pw" not in repr(settings) and "pw" not in str(settings.database_url)
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert Settings.from_env({}, port=1234).port == 1234
    assert repr(Secret("x")) == "Secret('**********')"
    with pytest.raises(InvalidRequest):
        Settings.from_env({"SPENDGATE_PORT": "eighty"})


def test_a_bucket_allows_its_burst_then_says_when_to_retry() -> None:
    buckets = TokenBuckets(rate_per_s=1, burst=2)
    buckets.take("k")
    buckets.take("k")
    with pytest.raises(RateLimited) as caught:
        buckets.take("k")
    assert caught.value.retry_after_s >= 1
    buckets.take("other")  # each key has its own bucket


def test_pages_say_whether_there_is_more_and_where_to_resume() -> None:
    req = page_request("2", None)
    items = ["a", "b", "c"]
    first = page(slice_after(items, req, str), req, str, str.upper)
    assert first == {"data": ["A", "B"], "has_more": True, "next_cursor": "b"}
    req2 = page_request("2", "b")
    assert page(slice_after(items, req2, str), req2, str, str.upper) == {
        "data": ["C"], "has_more": False, "next_cursor": None}
    for bad in ("0", "101", "x", "-1"):
        with pytest.raises(InvalidRequest):
            page_request(bad, None)
