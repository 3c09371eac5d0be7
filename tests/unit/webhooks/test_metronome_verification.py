from __future__ import annotations

import pytest

from spendgate.webhooks import BadSignature, MissingHeaders, StaleTimestamp, verify_metronome
from tests.unit.webhooks.vendors import (
    METRONOME_ALERT,
    METRONOME_SECRET,
    MINUTE_MS,
    NOW_MS,
    body_of,
    metronome_headers,
)

BODY = body_of(METRONOME_ALERT)


def test_a_delivery_signed_by_metronome_is_accepted_with_the_envelope_id() -> None:
    delivery = verify_metronome(metronome_headers(BODY), BODY, [METRONOME_SECRET], now_ms=NOW_MS)
    assert delivery.delivery_id == "445b849e-1366-4580-a6cc-f488e27c059f"
    assert delivery.event_type == "alerts.low_remaining_credit_balance_reached"
    assert delivery.signed_ms == NOW_MS


def test_the_plain_date_header_is_accepted_when_x_metronome_date_is_absent() -> None:
    headers = metronome_headers(BODY, date_header="Date")
    assert verify_metronome(headers, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_tampered_body_is_refused() -> None:
    tampered = BODY.replace(b"5000", b"9000")
    with pytest.raises(BadSignature):
        verify_metronome(metronome_headers(BODY), tampered, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(BadSignature):
        verify_metronome(metronome_headers(BODY, secret="not-the-secret"), BODY,
                         [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_date_changed_after_signing_is_refused() -> None:
    headers = metronome_headers(BODY)
    headers["X-Metronome-Date"] = headers["X-Metronome-Date"].replace("00:00:00", "00:00:01")
    with pytest.raises(BadSignature):
        verify_metronome(headers, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_date_older_than_five_minutes_is_refused() -> None:
    old = metronome_headers(BODY, at_ms=NOW_MS - 6 * MINUTE_MS)
    with pytest.raises(StaleTimestamp):
        verify_metronome(old, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_date_more_than_five_minutes_ahead_is_refused() -> None:
    future = metronome_headers(BODY, at_ms=NOW_MS + 6 * MINUTE_MS)
    with pytest.raises(StaleTimestamp):
        verify_metronome(future, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_missing_signature_header_is_refused() -> None:
    headers = metronome_headers(BODY)
    del headers["Metronome-Webhook-Signature"]
    with pytest.raises(MissingHeaders):
        verify_metronome(headers, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_a_missing_date_header_is_refused() -> None:
    headers = metronome_headers(BODY)
    del headers["X-Metronome-Date"]
    with pytest.raises(MissingHeaders):
        verify_metronome(headers, BODY, [METRONOME_SECRET], now_ms=NOW_MS)


def test_the_previous_secret_still_verifies_during_rotation() -> None:
    headers = metronome_headers(BODY, secret="old-secret")
    assert verify_metronome(headers, BODY, [METRONOME_SECRET, "old-secret"], now_ms=NOW_MS)


def test_an_unparseable_date_is_refused() -> None:
    headers = metronome_headers(BODY)
    headers["X-Metronome-Date"] = "yesterday"
    with pytest.raises(BadSignature):
        verify_metronome(headers, BODY, [METRONOME_SECRET], now_ms=NOW_MS)
