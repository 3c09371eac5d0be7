"""Lago: an RS256 JWT whose `data` claim is the body, or a base64 HMAC-SHA256 of the body.

Headers: `X-Lago-Signature`, `X-Lago-Signature-Algorithm` (`jwt` | `hmac`; absent means
`jwt`, Lago's original and default scheme) and `X-Lago-Unique-Key`, the delivery's UUID.
Neither scheme signs a time, so there is no replay window: replay protection is the
unique-key dedup alone, which is why accepted keys must be kept for good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, parse_payload
from spendgate.webhooks.errors import BadSignature, MissingHeaders
from spendgate.webhooks.headers import as_headers

SIGNATURE_HEADER = "X-Lago-Signature"
ALGORITHM_HEADER = "X-Lago-Signature-Algorithm"
UNIQUE_KEY_HEADER = "X-Lago-Unique-Key"


def verify_lago(
    headers: Mapping[str, str],
    body: bytes,
    *,
    public_keys: Sequence[str] = (),
    hmac_keys: Sequence[str] = (),
    now_ms: int,
    issuer: str | None = None,
) -> VerifiedDelivery:
    """Verify a Lago delivery: JWT with any of `public_keys`, or HMAC with any of `hmac_keys`.

    `public_keys` are PEM, or base64 of PEM as Lago's `GET /webhooks/json_public_key`
    returns it. `issuer`, when given, must equal the token's `iss` (Lago's API URL).
    """
    h = as_headers(headers)
    signature = h.first(SIGNATURE_HEADER)
    unique_key = h.first(UNIQUE_KEY_HEADER)
    missing = [n for n, v in ((SIGNATURE_HEADER, signature), (UNIQUE_KEY_HEADER, unique_key))
               if v is None]
    if missing or signature is None or unique_key is None:
        raise MissingHeaders(missing)

    algorithm = (h.first(ALGORITHM_HEADER) or "jwt").lower()
    if algorithm == "jwt":
        _verify_jwt(signature, body, public_keys, issuer)
        scheme = Scheme.LAGO_JWT
    elif algorithm == "hmac":
        _verify_hmac(signature, body, hmac_keys)
        scheme = Scheme.LAGO_HMAC
    else:
        raise BadSignature(f"unknown {ALGORITHM_HEADER}: {algorithm!r}")

    payload = parse_payload(body)
    kind = payload.get("webhook_type")
    return VerifiedDelivery(
        delivery_id=unique_key,
        event_type=kind if isinstance(kind, str) else "",
        payload=payload,
        received_ms=now_ms,
        scheme=scheme,
    )


def _verify_jwt(token: str, body: bytes, public_keys: Sequence[str], issuer: str | None) -> None:
    if not public_keys:
        raise BadSignature("no Lago public key is configured for this sink")
    for text in public_keys:
        key = load_public_key(text)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],  # never let the token choose: no HS256 with a public key
                issuer=issuer,
                options={"require": ["data"], "verify_iss": issuer is not None},
            )
        except jwt.InvalidTokenError:
            continue
        data = claims.get("data")
        if isinstance(data, str) and hmac.compare_digest(data.encode("utf-8"), body):
            return
        raise BadSignature("the token's data claim does not match the body")
    raise BadSignature("X-Lago-Signature does not verify with a configured public key")


def _verify_hmac(signature: str, body: bytes, keys: Sequence[str]) -> None:
    if not keys:
        raise BadSignature("no Lago HMAC key is configured for this sink")
    try:
        offered = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("X-Lago-Signature is not base64") from exc
    matched = False
    for key in keys:
        expected = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, offered)
    if not matched:
        raise BadSignature("X-Lago-Signature does not match a configured HMAC key")


@lru_cache(maxsize=64)
def load_public_key(text: str) -> RSAPublicKey:
    """An RSA public key from PEM text or from base64 of PEM."""
    pem = text.strip().encode("ascii", "replace")
    if not pem.startswith(b"-----BEGIN"):
        try:
            pem = base64.b64decode(pem, validate=False).strip()
        except (binascii.Error, ValueError) as exc:
            raise BadSignature("the configured Lago public key is neither PEM nor base64") from exc
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise BadSignature("the configured Lago public key is not a PEM public key") from exc
    if not isinstance(key, RSAPublicKey):
        raise BadSignature("the configured Lago public key is not an RSA key")
    return key
