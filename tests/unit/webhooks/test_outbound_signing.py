from __future__ import annotations

import base64
import time

import pytest
import svix.webhooks
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from spendgate.errors import InvalidRequest
from spendgate.webhooks import verify_standard
from spendgate.webhooks.outbound import (
    check_secret,
    generate_secret,
    org_suspended,
    sign,
)


def _now_s() -> int:
    return time.time_ns() // 1_000_000_000


def _signed() -> tuple[str, bytes, dict[str, str]]:
    secret = generate_secret()
    event = org_suspended(org="acme", reason="payment_failed", ref="invoice:1",
                          now_ms=_now_s() * 1000)
    body = event.body()
    return secret, body, sign(secret, event.id, _now_s(), body)


def test_the_standardwebhooks_library_verifies_our_signature() -> None:
    secret, body, headers = _signed()
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "org.suspended"
    assert payload["data"] == {"org": "acme", "reason": "payment_failed", "ref": "invoice:1"}


def test_the_svix_library_verifies_our_signature() -> None:
    secret, body, headers = _signed()
    svix.webhooks.Webhook(secret).verify(body, headers)  # raises when it does not verify


def test_the_svix_library_refuses_a_tampered_body() -> None:
    secret, body, headers = _signed()
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(secret).verify(body.replace(b"acme", b"evil"), headers)


def test_our_own_inbound_verifier_accepts_our_outbound_signature() -> None:
    secret, body, headers = _signed()
    delivery = verify_standard(headers, body, [secret], now_ms=_now_s() * 1000)
    assert delivery.event_type == "org.suspended"


def test_during_rotation_both_secrets_sign_and_either_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    body = b'{"type":"ping"}'
    headers = sign([new, old], "evt_1", _now_s(), body)
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_generated_secrets_are_whsec_and_32_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert generate_secret() != secret
    assert check_secret(secret) == secret


SHORT = "whsec_" + base64.b64encode(b"short").decode()


@pytest.mark.parametrize("bad", ["nope", "whsec_!!!", SHORT])
def test_a_given_secret_must_be_whsec_with_enough_bytes(bad: str) -> None:
    with pytest.raises(InvalidRequest):
        check_secret(bad)
