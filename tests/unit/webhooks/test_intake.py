from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from spendgate.webhooks import (
    BadSignature,
    InboundRecord,
    MemoryInbox,
    MissingHeaders,
    NativePolicy,
    OrgResolver,
    PaymentSucceeded,
    Signal,
    SourceNotAllowed,
    StaleTimestamp,
    Verdict,
    WebhookRejected,
    WebhookSource,
    process_pending,
    receive,
)
from spendgate.webhooks.intake import MAX_REJECTED_BODY
from tests.unit.webhooks.vendors import (
    FLEXPRICE_PAYMENT,
    LAGO_HMAC_KEY,
    LAGO_INVOICE_PAID,
    METRONOME_ALERT,
    METRONOME_SECRET,
    MINUTE_MS,
    NOW_MS,
    OTHER_SVIX_SECRET,
    SVIX_SECRET,
    LagoKeys,
    body_of,
    lago_hmac_headers,
    metronome_headers,
    svix_headers,
)

LAGO = LagoKeys()
FLEXPRICE = WebhookSource("t1", "live", "fp", "flexprice", secrets=(SVIX_SECRET,))
METRONOME = WebhookSource("t1", "live", "mn", "metronome", secrets=(METRONOME_SECRET,))
LAGO_JWT = WebhookSource("t1", "live", "lg", "lago", public_keys=(LAGO.public_b64,))
LAGO_HMAC = WebhookSource("t1", "live", "lgh", "lago", secrets=(LAGO_HMAC_KEY,))
NATIVE = WebhookSource("t1", "live", "fpn", "flexprice", native=NativePolicy.of(
    ["127.0.0.0/8"], "X-Spendgate-Secret", ["native-secret"]))

Case = tuple[WebhookSource, bytes, dict[str, str]]


def _cases() -> dict[str, Case]:
    fp, mn, lg = body_of(FLEXPRICE_PAYMENT), body_of(METRONOME_ALERT), body_of(LAGO_INVOICE_PAID)
    return {
        "standard": (FLEXPRICE, fp, svix_headers(fp)),
        "metronome": (METRONOME, mn, metronome_headers(mn)),
        "lago_jwt": (LAGO_JWT, lg, LAGO.jwt_headers(lg)),
        "lago_hmac": (LAGO_HMAC, lg, lago_hmac_headers(lg)),
        "flexprice_native": (NATIVE, fp, {"X-Spendgate-Secret": "native-secret"}),
    }


CASES = _cases()


def orgs(_: InboundRecord) -> OrgResolver:
    return {"cus_acme": "acme"}.get


class Ledger:
    """Stands in for the ledger: applies each signal once per key, counts what it did."""

    def __init__(self) -> None:
        self.applied: dict[str, Signal] = {}
        self.calls = 0

    def apply(self, record: InboundRecord, signals: Sequence[Signal]) -> None:
        self.calls += 1
        for s in signals:
            self.applied.setdefault(f"{record.sink}:{s.key}", s)


def accepted(inbox: MemoryInbox) -> list[InboundRecord]:
    return [r for r in inbox.records if r.verdict is Verdict.ACCEPTED]


@pytest.mark.parametrize("scheme", list(CASES))
def test_a_valid_delivery_is_accepted_once_and_acted_on_once(scheme: str) -> None:
    source, body, headers = CASES[scheme]
    inbox, ledger = MemoryInbox(), Ledger()
    first = receive(source, headers, body, source_ip="127.0.0.1", now_ms=NOW_MS, inbox=inbox)
    again = receive(source, headers, body, source_ip="127.0.0.1", now_ms=NOW_MS + 1000,
                    inbox=inbox)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.delivery_id == again.delivery_id
    assert len(accepted(inbox)) == 1
    assert process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=NOW_MS) == 1
    assert process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=NOW_MS) == 0
    assert ledger.calls == 1
    assert len(ledger.applied) == 1


def _refused(source: WebhookSource, headers: dict[str, str], body: bytes,
             error: type[WebhookRejected], *, now_ms: int = NOW_MS,
             source_ip: str = "127.0.0.1") -> MemoryInbox:
    inbox, ledger = MemoryInbox(), Ledger()
    with pytest.raises(error):
        receive(source, headers, body, source_ip=source_ip, now_ms=now_ms, inbox=inbox)
    # Nothing changed: no accepted delivery, nothing to act on, the ledger untouched.
    assert accepted(inbox) == []
    assert process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=now_ms) == 0
    assert ledger.calls == 0
    [refusal] = inbox.records
    assert refusal.verdict is Verdict.REJECTED and refusal.reason == error.code
    return inbox


@pytest.mark.parametrize("scheme", [c for c in CASES if c != "flexprice_native"])
def test_a_tampered_body_changes_nothing(scheme: str) -> None:
    # Native Flexprice deliveries are unsigned: their body cannot be checked, which is why
    # they need an explicit opt-in, an address allow list and a shared secret.
    source, body, headers = CASES[scheme]
    _refused(source, headers, body.replace(b"cus_acme", b"cus_evil"), BadSignature)


@pytest.mark.parametrize("scheme", ["standard", "metronome", "lago_hmac"])
def test_a_wrong_secret_changes_nothing(scheme: str) -> None:
    source, body, headers = CASES[scheme]
    wrong = {"standard": (OTHER_SVIX_SECRET,), "metronome": ("nope",), "lago_hmac": ("nope",)}
    _refused(WebhookSource(source.tenant, source.env, source.sink, source.vendor,
                           secrets=wrong[scheme]), headers, body, BadSignature)


def test_a_wrong_public_key_changes_nothing() -> None:
    _, body, headers = CASES["lago_jwt"]
    other = LagoKeys()
    _refused(WebhookSource("t1", "live", "lg", "lago", public_keys=(other.public_pem,)),
             headers, body, BadSignature)


def test_a_wrong_native_secret_changes_nothing() -> None:
    _, body, _ = CASES["flexprice_native"]
    _refused(NATIVE, {"X-Spendgate-Secret": "guess"}, body, BadSignature)


def test_a_native_delivery_from_outside_the_allow_list_changes_nothing() -> None:
    _, body, headers = CASES["flexprice_native"]
    _refused(NATIVE, headers, body, SourceNotAllowed, source_ip="192.0.2.1")


@pytest.mark.parametrize("scheme", ["standard", "metronome"])
def test_a_stale_timestamp_changes_nothing(scheme: str) -> None:
    source, body, headers = CASES[scheme]
    _refused(source, headers, body, StaleTimestamp, now_ms=NOW_MS + 6 * MINUTE_MS)


@pytest.mark.parametrize("scheme", ["standard", "metronome"])
def test_a_future_timestamp_changes_nothing(scheme: str) -> None:
    source, body, headers = CASES[scheme]
    _refused(source, headers, body, StaleTimestamp, now_ms=NOW_MS - 6 * MINUTE_MS)


@pytest.mark.parametrize("scheme", list(CASES))
def test_missing_headers_change_nothing(scheme: str) -> None:
    source, body, _ = CASES[scheme]
    _refused(source, {"Content-Type": "application/json"}, body, MissingHeaders)


def test_a_flexprice_sink_without_native_opt_in_refuses_unsigned_requests() -> None:
    _, body, _ = CASES["flexprice_native"]
    _refused(FLEXPRICE, {"X-Spendgate-Secret": "native-secret"}, body, MissingHeaders)


def test_lago_replays_are_stopped_by_the_unique_key_alone() -> None:
    source, body, headers = CASES["lago_jwt"]
    inbox = MemoryInbox()
    receive(source, headers, body, source_ip=None, now_ms=NOW_MS, inbox=inbox)
    replay = receive(source, headers, body, source_ip=None, now_ms=NOW_MS + 86_400_000,
                     inbox=inbox)
    assert replay.duplicate
    assert len(accepted(inbox)) == 1


def test_the_same_delivery_id_on_another_sink_is_not_a_duplicate() -> None:
    _, body, headers = CASES["standard"]
    inbox = MemoryInbox()
    other = WebhookSource("t1", "live", "fp2", "flexprice", secrets=(SVIX_SECRET,))
    receive(FLEXPRICE, headers, body, source_ip=None, now_ms=NOW_MS, inbox=inbox)
    assert not receive(other, headers, body, source_ip=None, now_ms=NOW_MS, inbox=inbox).duplicate


def test_stored_headers_hold_no_secrets() -> None:
    _, body, headers = CASES["flexprice_native"]
    inbox = MemoryInbox()
    receive(NATIVE, {**headers, "Authorization": "Bearer x", "X-Trace": "t"}, body,
            source_ip="127.0.0.1", now_ms=NOW_MS, inbox=inbox)
    [record] = inbox.records
    assert record.headers == {"x-trace": "t"}
    assert record.body == body


def test_a_refused_body_is_stored_truncated() -> None:
    inbox = MemoryInbox()
    with pytest.raises(MissingHeaders):
        receive(FLEXPRICE, {}, b"x" * (MAX_REJECTED_BODY + 10), source_ip=None, now_ms=NOW_MS,
                inbox=inbox)
    assert len(inbox.records[0].body) == MAX_REJECTED_BODY


def test_an_unknown_event_type_is_stored_and_ignored_not_an_error() -> None:
    body = body_of({"event_type": "customer.created", "customer": {"id": "cus_acme"}})
    inbox, ledger = MemoryInbox(), Ledger()
    receipt = receive(FLEXPRICE, svix_headers(body, msg_id="msg_cust"), body, source_ip=None,
                      now_ms=NOW_MS, inbox=inbox)
    assert receipt.event_type == "customer.created"
    process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=NOW_MS)
    assert [type(s).__name__ for s in ledger.applied.values()] == ["Ignored"]
    assert inbox.outcome(receipt.record_id) == "Ignored"


def test_a_payment_resent_under_a_new_delivery_id_grants_once() -> None:
    body = body_of(FLEXPRICE_PAYMENT)
    inbox, ledger = MemoryInbox(), Ledger()
    for msg in ("msg_a", "msg_b"):
        receive(FLEXPRICE, svix_headers(body, msg_id=msg), body, source_ip=None, now_ms=NOW_MS,
                inbox=inbox)
    process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=NOW_MS)
    assert ledger.calls == 2
    [grant] = ledger.applied.values()
    assert isinstance(grant, PaymentSucceeded)
    assert (grant.org, grant.amount, grant.currency) == ("acme", Decimal("50"), "USD")


def test_a_crash_before_marking_processed_replays_to_an_idempotent_ledger() -> None:
    body = body_of(FLEXPRICE_PAYMENT)
    inbox, ledger = MemoryInbox(), Ledger()
    receive(FLEXPRICE, svix_headers(body), body, source_ip=None, now_ms=NOW_MS, inbox=inbox)

    def crash_after(apply: Callable[[InboundRecord, Sequence[Signal]], None]
                    ) -> Callable[[InboundRecord, Sequence[Signal]], None]:
        def run(record: InboundRecord, signals: Sequence[Signal]) -> None:
            apply(record, signals)
            raise RuntimeError("process died")
        return run

    with pytest.raises(RuntimeError):
        process_pending(inbox, resolver=orgs, apply=crash_after(ledger.apply), now_ms=NOW_MS)
    process_pending(inbox, resolver=orgs, apply=ledger.apply, now_ms=NOW_MS)
    assert ledger.calls == 2 and len(ledger.applied) == 1
