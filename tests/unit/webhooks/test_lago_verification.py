from __future__ import annotations

import base64

import jwt
import pytest

from spendgate.webhooks import BadSignature, MissingHeaders, Scheme, verify_lago
from tests.unit.webhooks.vendors import (
    LAGO_HMAC_KEY,
    LAGO_INVOICE_PAID,
    NOW_MS,
    LagoKeys,
    body_of,
    lago_hmac_headers,
)

BODY = body_of(LAGO_INVOICE_PAID)


@pytest.fixture(scope="module")
def lago() -> LagoKeys:
    return LagoKeys()


@pytest.fixture(scope="module")
def impostor() -> LagoKeys:
    return LagoKeys()


def test_a_jwt_signed_delivery_is_accepted_with_the_unique_key(lago: LagoKeys) -> None:
    delivery = verify_lago(lago.jwt_headers(BODY), BODY, public_keys=[lago.public_pem],
                           now_ms=NOW_MS)
    assert delivery.delivery_id == "5f3f-uuid-1"
    assert delivery.event_type == "invoice.payment_status_updated"
    assert delivery.scheme is Scheme.LAGO_JWT


def test_the_public_key_may_be_given_as_lago_serves_it_base64_of_pem(lago: LagoKeys) -> None:
    assert verify_lago(lago.jwt_headers(BODY), BODY, public_keys=[lago.public_b64],
                       now_ms=NOW_MS)


def test_a_body_that_differs_from_the_signed_data_is_refused(lago: LagoKeys) -> None:
    tampered = BODY.replace(b"12050", b"99999")
    with pytest.raises(BadSignature):
        verify_lago(lago.jwt_headers(BODY), tampered, public_keys=[lago.public_pem],
                    now_ms=NOW_MS)


def test_a_token_signed_by_another_key_is_refused(lago: LagoKeys, impostor: LagoKeys) -> None:
    with pytest.raises(BadSignature):
        verify_lago(impostor.jwt_headers(BODY), BODY, public_keys=[lago.public_pem],
                    now_ms=NOW_MS)


def test_a_token_forged_with_hs256_over_the_public_key_is_refused(lago: LagoKeys) -> None:
    # The classic algorithm-confusion attack: the public key is public.
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"data": BODY.decode()}).encode())
    mac = hmac.new(lago.public_pem.encode(), f"{head}.{claims}".encode(), hashlib.sha256)
    forged = f"{head}.{claims}.{b64(mac.digest())}"
    headers = {**lago.jwt_headers(BODY), "X-Lago-Signature": forged}
    with pytest.raises(BadSignature):
        verify_lago(headers, BODY, public_keys=[lago.public_pem], now_ms=NOW_MS)


def test_an_unsigned_none_token_is_refused(lago: LagoKeys) -> None:
    unsigned = jwt.encode({"data": BODY.decode()}, key="", algorithm="none")
    headers = {**lago.jwt_headers(BODY), "X-Lago-Signature": unsigned}
    with pytest.raises(BadSignature):
        verify_lago(headers, BODY, public_keys=[lago.public_pem], now_ms=NOW_MS)


def test_the_issuer_is_checked_when_configured(lago: LagoKeys) -> None:
    headers = lago.jwt_headers(BODY, issuer="https://evil.example.test")
    with pytest.raises(BadSignature):
        verify_lago(headers, BODY, public_keys=[lago.public_pem], now_ms=NOW_MS,
                    issuer="https://lago.example.test")


def test_a_missing_unique_key_is_refused(lago: LagoKeys) -> None:
    headers = lago.jwt_headers(BODY)
    del headers["X-Lago-Unique-Key"]
    with pytest.raises(MissingHeaders):
        verify_lago(headers, BODY, public_keys=[lago.public_pem], now_ms=NOW_MS)


def test_a_missing_signature_is_refused(lago: LagoKeys) -> None:
    headers = lago.jwt_headers(BODY)
    del headers["X-Lago-Signature"]
    with pytest.raises(MissingHeaders):
        verify_lago(headers, BODY, public_keys=[lago.public_pem], now_ms=NOW_MS)


def test_a_rotated_public_key_still_verifies(lago: LagoKeys, impostor: LagoKeys) -> None:
    assert verify_lago(lago.jwt_headers(BODY), BODY,
                       public_keys=[impostor.public_pem, lago.public_pem], now_ms=NOW_MS)


def test_an_hmac_signed_delivery_is_accepted() -> None:
    delivery = verify_lago(lago_hmac_headers(BODY), BODY, hmac_keys=[LAGO_HMAC_KEY],
                           now_ms=NOW_MS)
    assert delivery.scheme is Scheme.LAGO_HMAC
    assert delivery.delivery_id == "5f3f-uuid-2"


def test_an_hmac_delivery_with_a_tampered_body_is_refused() -> None:
    with pytest.raises(BadSignature):
        verify_lago(lago_hmac_headers(BODY), BODY + b" ", hmac_keys=[LAGO_HMAC_KEY],
                    now_ms=NOW_MS)


def test_an_hmac_delivery_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BadSignature):
        verify_lago(lago_hmac_headers(BODY, key="wrong"), BODY, hmac_keys=[LAGO_HMAC_KEY],
                    now_ms=NOW_MS)


def test_hmac_is_refused_when_only_a_public_key_is_configured(lago: LagoKeys) -> None:
    with pytest.raises(BadSignature):
        verify_lago(lago_hmac_headers(BODY), BODY, public_keys=[lago.public_pem],
                    now_ms=NOW_MS)


def test_an_unknown_algorithm_is_refused() -> None:
    headers = {**lago_hmac_headers(BODY), "X-Lago-Signature-Algorithm": "md5"}
    with pytest.raises(BadSignature):
        verify_lago(headers, BODY, hmac_keys=[LAGO_HMAC_KEY], now_ms=NOW_MS)


def test_lago_signs_no_time_so_an_old_delivery_still_verifies(lago: LagoKeys) -> None:
    # Replay protection for Lago is the unique-key dedup alone (see test_intake).
    a_year_later = NOW_MS + 365 * 24 * 3600 * 1000
    assert verify_lago(lago.jwt_headers(BODY), BODY, public_keys=[lago.public_pem],
                       now_ms=a_year_later)
