"""Self-hosted Flexprice's native deliveries: unsigned, so only allow-listed and shared-secret.

Flexprice sends fixed configured headers and no signature. We accept such a delivery only
when the sink explicitly allows it, the peer address is in the allow list, and a configured
header carries one of the shared secrets (constant-time). The body has no id or timestamp:
the dedup key is the body's SHA-256, and there is no replay window.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, body_digest, parse_payload
from spendgate.webhooks.errors import BadSignature, MissingHeaders, SourceNotAllowed
from spendgate.webhooks.headers import as_headers

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class NativePolicy:
    """A tenant's explicit opt-in to unsigned Flexprice deliveries."""

    allowed_sources: tuple[Network, ...]
    header: str  # e.g. "X-Spendgate-Secret", configured in Flexprice's webhook.tenants.*.headers
    secrets: tuple[str, ...] = field(repr=False)

    @classmethod
    def of(cls, sources: Sequence[str], header: str, secrets: Sequence[str]) -> NativePolicy:
        networks = tuple(ipaddress.ip_network(s, strict=False) for s in sources)
        if not networks or not header or not any(secrets):
            raise ValueError("unsigned deliveries need source networks, a header and a secret")
        return cls(networks, header, tuple(s for s in secrets if s))


def verify_flexprice_native(
    headers: Mapping[str, str],
    body: bytes,
    *,
    source_ip: str,
    policy: NativePolicy | None,
    now_ms: int,
) -> VerifiedDelivery:
    """Accept an unsigned Flexprice delivery only under an explicit `policy`.

    `source_ip` is the TCP peer as the app's trusted proxy configuration resolves it;
    never a raw X-Forwarded-For value.
    """
    if policy is None:
        raise BadSignature("unsigned deliveries are not allowed for this sink")
    try:
        peer = ipaddress.ip_address(source_ip)
    except ValueError as exc:
        raise SourceNotAllowed(f"source address {source_ip!r} is not an IP address") from exc
    if not any(peer in net for net in policy.allowed_sources if net.version == peer.version):
        raise SourceNotAllowed(f"source address {source_ip} is not in the allow list")
    offered = as_headers(headers).first(policy.header)
    if offered is None:
        raise MissingHeaders([policy.header])
    matched = False
    for secret in policy.secrets:
        matched |= hmac.compare_digest(secret.encode("utf-8"), offered.encode("utf-8"))
    if not matched:
        raise BadSignature(f"{policy.header} does not match the shared secret")

    payload = parse_payload(body)
    kind = payload.get("event_type")
    return VerifiedDelivery(
        delivery_id=body_digest(body),
        event_type=kind if isinstance(kind, str) else "",
        payload=payload,
        received_ms=now_ms,
        scheme=Scheme.FLEXPRICE_NATIVE,
    )
