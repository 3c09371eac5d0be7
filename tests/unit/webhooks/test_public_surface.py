from __future__ import annotations

import spendgate.webhooks as webhooks
import spendgate.webhooks.inbound as inbound
import spendgate.webhooks.mapping as mapping
import spendgate.webhooks.outbound as outbound


def test_the_webhooks_package_exports_exactly_its_public_surface() -> None:
    assert sorted(webhooks.__all__) == sorted([
        "DEFAULT_TOLERANCE_MS", "BadSignature", "BalanceAlert", "Headers", "Ignored",
        "InboundRecord", "Inbox", "InvoiceFinalized", "MalformedPayload", "MemoryInbox",
        "MissingHeaders", "NativePolicy", "OrgResolver", "PaymentFailed", "PaymentSucceeded",
        "Receipt", "Scheme", "Signal", "SourceNotAllowed", "StaleTimestamp", "Verdict",
        "VerifiedDelivery", "WebhookRejected", "WebhookSource", "body_digest",
        "credits_for_payment", "crossed", "exceeded", "map_delivery", "new_thresholds",
        "parse_payload", "process_pending", "receive", "redact", "signals_for", "to_fire",
        "verify", "verify_flexprice_native", "verify_lago", "verify_metronome",
        "verify_standard",
    ])


def test_every_exported_name_exists() -> None:
    for module in (webhooks, inbound, mapping, outbound):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_refusals_are_invalid_requests_with_stable_codes() -> None:
    from spendgate.errors import InvalidRequest

    codes = {cls.code for cls in (webhooks.BadSignature, webhooks.StaleTimestamp,
                                  webhooks.MissingHeaders, webhooks.SourceNotAllowed,
                                  webhooks.MalformedPayload)}
    assert codes == {"bad_signature", "stale_timestamp", "missing_headers", "source_not_allowed",
                     "malformed_payload"}
    assert issubclass(webhooks.WebhookRejected, InvalidRequest)
