from __future__ import annotations

import pytest

from spendgate.webhooks import (
    BadSignature,
    MalformedPayload,
    MissingHeaders,
    StaleTimestamp,
    verify_standard,
)
from tests.unit.webhooks.vendors import (
    FLEXPRICE_PAYMENT,
    MINUTE_MS,
    NOW_MS,
    OTHER_SVIX_SECRET,
    SVIX_SECRET,
    body_of,
    svix_headers,
)

BODY = body_of(FLEXPRICE_PAYMENT)


def test_a_delivery_signed_by_svix_is_accepted_with_its_message_id() -> None:
    delivery = verify_standard(svix_headers(BODY), BODY, [SVIX_SECRET], now_ms=NOW_MS)
    assert delivery.delivery_id == "msg_2abc"
    assert delivery.event_type == "invoice.update.payment"
    assert delivery.payload["invoice"] == FLEXPRICE_PAYMENT["invoice"]
    assert delivery.signed_ms == NOW_MS


def test_unbranded_webhook_headers_are_accepted_too() -> None:
    headers = svix_headers(BODY, prefix="webhook")
    assert verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS).delivery_id == "msg_2abc"


def test_header_names_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in svix_headers(BODY).items()}
    assert verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS).event_type


def test_a_tampered_body_is_refused() -> None:
    tampered = BODY.replace(b'"50"', b'"5000"')
    with pytest.raises(BadSignature):
        verify_standard(svix_headers(BODY), tampered, [SVIX_SECRET], now_ms=NOW_MS)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(BadSignature) as refused:
        verify_standard(svix_headers(BODY, secret=OTHER_SVIX_SECRET), BODY, [SVIX_SECRET],
                        now_ms=NOW_MS)
    assert refused.value.code == "bad_signature"


def test_a_timestamp_older_than_five_minutes_is_refused() -> None:
    old = svix_headers(BODY, at_ms=NOW_MS - 5 * MINUTE_MS - 1000)
    with pytest.raises(StaleTimestamp) as refused:
        verify_standard(old, BODY, [SVIX_SECRET], now_ms=NOW_MS)
    assert refused.value.code == "stale_timestamp"


def test_a_timestamp_more_than_five_minutes_ahead_is_refused() -> None:
    future = svix_headers(BODY, at_ms=NOW_MS + 5 * MINUTE_MS + 1000)
    with pytest.raises(StaleTimestamp):
        verify_standard(future, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_a_timestamp_just_inside_the_window_is_accepted() -> None:
    edge = svix_headers(BODY, at_ms=NOW_MS - 5 * MINUTE_MS)
    assert verify_standard(edge, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_the_tolerance_can_be_narrowed() -> None:
    late = svix_headers(BODY, at_ms=NOW_MS - 2 * MINUTE_MS)
    with pytest.raises(StaleTimestamp):
        verify_standard(late, BODY, [SVIX_SECRET], now_ms=NOW_MS, tolerance_ms=MINUTE_MS)


@pytest.mark.parametrize("dropped", ["svix-id", "svix-timestamp", "svix-signature"])
def test_a_missing_header_is_refused_by_name(dropped: str) -> None:
    headers = svix_headers(BODY)
    del headers[dropped]
    with pytest.raises(MissingHeaders) as refused:
        verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS)
    assert dropped in refused.value.names


def test_no_headers_at_all_is_refused() -> None:
    with pytest.raises(MissingHeaders):
        verify_standard({}, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_the_previous_secret_still_verifies_during_rotation() -> None:
    headers = svix_headers(BODY, secret=OTHER_SVIX_SECRET)
    assert verify_standard(headers, BODY, [SVIX_SECRET, OTHER_SVIX_SECRET], now_ms=NOW_MS)


def test_one_matching_signature_among_several_is_enough() -> None:
    ours = svix_headers(BODY)["svix-signature"]
    theirs = svix_headers(BODY, secret=OTHER_SVIX_SECRET)["svix-signature"]
    headers = {**svix_headers(BODY), "svix-signature": f"{theirs} v1a,AAAA {ours}"}
    assert verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_a_signature_of_another_version_is_not_accepted_as_v1() -> None:
    value = svix_headers(BODY)["svix-signature"].replace("v1,", "v1a,")
    headers = {**svix_headers(BODY), "svix-signature": value}
    with pytest.raises(BadSignature):
        verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_garbage_in_the_signature_header_is_a_bad_signature_not_a_crash() -> None:
    headers = {**svix_headers(BODY), "svix-signature": "v1 v1,%%% ,,"}
    with pytest.raises(BadSignature):
        verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_a_non_numeric_timestamp_is_refused() -> None:
    headers = {**svix_headers(BODY), "svix-timestamp": "1767225600.5"}
    with pytest.raises(BadSignature):
        verify_standard(headers, BODY, [SVIX_SECRET], now_ms=NOW_MS)


def test_without_a_configured_secret_nothing_verifies() -> None:
    with pytest.raises(BadSignature):
        verify_standard(svix_headers(BODY), BODY, [], now_ms=NOW_MS)


def test_a_signed_body_that_is_not_a_json_object_is_refused() -> None:
    body = b"[1, 2, 3]"
    with pytest.raises(MalformedPayload):
        verify_standard(svix_headers(body), body, [SVIX_SECRET], now_ms=NOW_MS)


def test_fractional_numbers_in_payloads_are_decimals_never_floats() -> None:
    body = b'{"event_type":"x","amount":12.50}'
    delivery = verify_standard(svix_headers(body), body, [SVIX_SECRET], now_ms=NOW_MS)
    assert str(delivery.payload["amount"]) == "12.50"
    assert not isinstance(delivery.payload["amount"], float)
