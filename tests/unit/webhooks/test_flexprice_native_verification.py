from __future__ import annotations

import hashlib

import pytest

from spendgate.webhooks import (
    BadSignature,
    MissingHeaders,
    NativePolicy,
    SourceNotAllowed,
    verify_flexprice_native,
)
from tests.unit.webhooks.vendors import FLEXPRICE_PAYMENT, NOW_MS, body_of

BODY = body_of(FLEXPRICE_PAYMENT)
POLICY = NativePolicy.of(["10.0.0.0/24", "2001:db8::/64"], "X-Spendgate-Secret",
                         ["shared-secret-1"])
HEADERS = {"Content-Type": "application/json", "X-Spendgate-Secret": "shared-secret-1"}


def test_unsigned_deliveries_are_refused_unless_the_tenant_allowed_them() -> None:
    with pytest.raises(BadSignature):
        verify_flexprice_native(HEADERS, BODY, source_ip="10.0.0.5", policy=None, now_ms=NOW_MS)


def test_an_allowed_source_with_the_shared_secret_is_accepted() -> None:
    delivery = verify_flexprice_native(HEADERS, BODY, source_ip="10.0.0.5", policy=POLICY,
                                       now_ms=NOW_MS)
    assert delivery.event_type == "invoice.update.payment"
    assert delivery.delivery_id == "sha256:" + hashlib.sha256(BODY).hexdigest()


def test_an_allowed_ipv6_source_is_accepted() -> None:
    assert verify_flexprice_native(HEADERS, BODY, source_ip="2001:db8::7", policy=POLICY,
                                   now_ms=NOW_MS)


def test_a_source_outside_the_allow_list_is_refused() -> None:
    with pytest.raises(SourceNotAllowed) as refused:
        verify_flexprice_native(HEADERS, BODY, source_ip="10.0.1.5", policy=POLICY,
                                now_ms=NOW_MS)
    assert refused.value.code == "source_not_allowed"


def test_a_wrong_shared_secret_is_refused() -> None:
    headers = {**HEADERS, "X-Spendgate-Secret": "shared-secret-2"}
    with pytest.raises(BadSignature):
        verify_flexprice_native(headers, BODY, source_ip="10.0.0.5", policy=POLICY,
                                now_ms=NOW_MS)


def test_a_missing_shared_secret_header_is_refused() -> None:
    with pytest.raises(MissingHeaders):
        verify_flexprice_native({}, BODY, source_ip="10.0.0.5", policy=POLICY, now_ms=NOW_MS)


def test_a_policy_needs_sources_a_header_and_a_secret() -> None:
    with pytest.raises(ValueError):
        NativePolicy.of([], "X-Spendgate-Secret", ["s"])
    with pytest.raises(ValueError):
        NativePolicy.of(["10.0.0.0/8"], "X-Spendgate-Secret", [""])


def test_the_same_body_gets_the_same_delivery_id_so_resends_dedup() -> None:
    first = verify_flexprice_native(HEADERS, BODY, source_ip="10.0.0.5", policy=POLICY,
                                    now_ms=NOW_MS)
    again = verify_flexprice_native(HEADERS, BODY, source_ip="10.0.0.6", policy=POLICY,
                                    now_ms=NOW_MS + 60_000)
    assert first.delivery_id == again.delivery_id
