"""One pure verifier per vendor scheme: (headers, raw body, secrets, now) → VerifiedDelivery."""

from __future__ import annotations

from spendgate.webhooks.inbound._window import DEFAULT_TOLERANCE_MS, check_window
from spendgate.webhooks.inbound.flexprice_native import NativePolicy, verify_flexprice_native
from spendgate.webhooks.inbound.lago import load_public_key, verify_lago
from spendgate.webhooks.inbound.metronome import verify_metronome
from spendgate.webhooks.inbound.standard import verify_standard

__all__ = [
    "DEFAULT_TOLERANCE_MS",
    "NativePolicy",
    "check_window",
    "load_public_key",
    "verify_flexprice_native",
    "verify_lago",
    "verify_metronome",
    "verify_standard",
]
