"""One contract, every store: the ledger behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spendgate.domain.clock import ManualClock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.money import parse_credits
from spendgate.domain.reservations import Charge
from spendgate.errors import Conflict, IdempotencyMismatch, InvalidRequest, NotFound
from spendgate.ledger.commands import (
    AddGrant,
    Commit,
    CommitItem,
    DirectUsage,
    Idem,
    ItemRequest,
    PutLimit,
    RecordUsage,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store

S = Scope("acme-inc", "live")
ANA = NodePath("acme", "studio", "ana")
DAY_MS = 86_400_000


def c(text: str) -> int:
    return parse_credits(text, allow_zero=True, allow_negative=True)


def item(ref: str, *amounts: str) -> ItemRequest:
    return ItemRequest(ref, tuple(Charge(c(a)) for a in amounts))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(store_url: str, clock: ManualClock) -> Iterator[Ledger]:
    store = open_store(store_url)
    engine = Ledger(store, clock)
    engine.upsert_org(S, UpsertOrg("acme", name="Acme"))
    engine.upsert_project(S, UpsertProject("acme", "studio"))
    engine.upsert_user(S, UpsertUser("acme", "studio", "ana"))
    engine.add_grant(S, AddGrant("acme", c("10")))
    yield engine
    assert engine.verify() == [], "every test leaves a ledger whose journal matches its balances"
    engine.close()
    store.close()


def reserve(ledger: Ledger, *items: ItemRequest, policy: str = "all_or_nothing",
            path: NodePath = ANA, ttl_ms: int = 60_000):  # type: ignore[no-untyped-def]
    return ledger.reserve(S, Reserve(path, tuple(items), ttl_ms, policy))


def test_a_reservation_holds_on_the_wallet_and_commit_turns_it_into_spend(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "2.5"))
    assert res.status == "held"
    assert ledger.balance(S, "acme").held == c("2.5")
    done = ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("2"))),)))
    assert done.status == "committed"
    bal = ledger.balance(S, "acme")
    assert (bal.held, bal.spent, bal.available) == (0, c("2"), c("8"))


def test_commit_above_the_hold_and_into_overdraft_is_still_recorded(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "1"))
    ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("12"))),)))
    bal = ledger.balance(S, "acme")
    assert bal.spent == c("12") and bal.debt == c("2") and bal.available == c("-2")
    denied = reserve(ledger, item("b", "0.1"))
    assert denied.status == "denied"
    assert denied.items[0].denied_by is not None
    assert denied.items[0].denied_by.reason == "insufficient_funds"


def test_a_new_grant_pays_back_overdraft_first(ledger: Ledger) -> None:
    ledger.record_usage(S, RecordUsage("acme", (DirectUsage("ev-1", ANA, Charge(c("13"))),)))
    assert ledger.balance(S, "acme").debt == c("3")
    ledger.add_grant(S, AddGrant("acme", c("5")))
    bal = ledger.balance(S, "acme")
    assert bal.debt == 0 and bal.available == c("2")


def test_all_or_nothing_batch_holds_nothing_when_one_item_is_unfundable(ledger: Ledger) -> None:
    res = reserve(ledger, *(item(f"shot-{i}", "3") for i in range(6)))
    assert res.status == "denied"
    assert all(i.status == "denied" for i in res.items)
    assert all(i.denied_by is not None and i.denied_by.reason == "insufficient_funds"
               for i in res.items)
    assert ledger.balance(S, "acme").held == 0


def test_partial_batch_funds_items_in_order_while_they_fit(ledger: Ledger) -> None:
    res = reserve(ledger, *(item(f"shot-{i}", "3") for i in range(6)), policy="partial")
    assert res.status == "partial"
    assert [i.status for i in res.items] == ["held"] * 3 + ["denied"] * 3
    assert ledger.balance(S, "acme").held == c("9")


def test_first_affordable_option_wins_as_a_downgrade(ledger: Ledger) -> None:
    res = reserve(ledger, item("video", "40", "12", "4"))
    assert res.status == "held" and res.items[0].option == 2
    assert ledger.balance(S, "acme").held == c("4")


def test_a_hard_limit_on_the_user_refuses_with_its_level_and_id(ledger: Ledger) -> None:
    ledger.put_limit(S, PutLimit("ana-day", ANA, "credits", c("3"), "day", "hard"))
    assert reserve(ledger, item("a", "2")).status == "held"
    res = reserve(ledger, item("b", "2"))
    denied = res.items[0].denied_by
    assert denied is not None
    assert (denied.level, denied.reason, denied.limit_id) == ("user", "limit_exceeded", "ana-day")


def test_a_soft_limit_never_blocks(ledger: Ledger) -> None:
    ledger.put_limit(S, PutLimit("soft", ANA, "credits", c("1"), "day", "soft"))
    assert reserve(ledger, item("a", "5")).status == "held"


def test_a_project_limit_counts_every_user_below_it(ledger: Ledger) -> None:
    ledger.upsert_user(S, UpsertUser("acme", "studio", "bo"))
    ledger.put_limit(S, PutLimit("studio", NodePath("acme", "studio"), "credits", c("5"),
                                 "lifetime", "hard"))
    assert reserve(ledger, item("a", "3")).status == "held"
    res = reserve(ledger, item("b", "3"), path=NodePath("acme", "studio", "bo"))
    assert res.items[0].denied_by is not None
    assert res.items[0].denied_by.level == "project"


def test_meter_limits_count_quantities_not_credits(ledger: Ledger) -> None:
    ledger.put_limit(S, PutLimit("video", ANA, "video_seconds", 60 * 10**9, "day", "hard"))
    eight = Charge(c("0.5"), {"video_seconds": 8 * 10**9})
    held = [reserve(ledger, ItemRequest(f"s{i}", (eight,))).status for i in range(8)]
    assert held == ["held"] * 7 + ["denied"]


def test_daily_window_resets_at_utc_midnight(ledger: Ledger, clock: ManualClock) -> None:
    ledger.put_limit(S, PutLimit("day", ANA, "credits", c("2"), "day", "hard"))
    res = reserve(ledger, item("a", "2"))
    ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("2"))),)))
    assert reserve(ledger, item("b", "1")).status == "denied"
    clock.advance(DAY_MS)
    assert reserve(ledger, item("c", "1")).status == "held"


def test_a_new_limit_counts_what_was_already_spent_in_its_window(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "2"))
    ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("2"))),)))
    lim, created = ledger.put_limit(S, PutLimit("day", ANA, "credits", c("3"), "day", "hard"))
    assert created and lim.used == c("2")
    assert reserve(ledger, item("b", "1.5")).status == "denied"


def test_suspended_org_refuses_with_reason_suspended(ledger: Ledger) -> None:
    ledger.upsert_org(S, UpsertOrg("acme", status="suspended"))
    res = reserve(ledger, item("a", "1"))
    assert res.items[0].denied_by is not None
    assert (res.items[0].denied_by.level, res.items[0].denied_by.reason) == ("org", "suspended")
    ledger.upsert_org(S, UpsertOrg("acme", status="active"))
    assert reserve(ledger, item("b", "1")).status == "held"


def test_items_not_named_in_a_commit_are_released(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "2"), item("b", "3"))
    ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("1"))),)))
    bal = ledger.balance(S, "acme")
    assert (bal.held, bal.spent) == (0, c("1"))


def test_release_returns_the_hold(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "4"))
    assert ledger.release(S, Release("acme", res.id)).status == "released"
    assert ledger.balance(S, "acme").available == c("10")


def test_settling_twice_is_a_conflict(ledger: Ledger) -> None:
    res = reserve(ledger, item("a", "1"))
    ledger.release(S, Release("acme", res.id))
    with pytest.raises(Conflict):
        ledger.release(S, Release("acme", res.id))
    with pytest.raises(Conflict):
        ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("1"))),)))
    assert ledger.balance(S, "acme").spent == 0


def test_an_expired_hold_returns_its_amount_and_reads_as_expired(
        ledger: Ledger, clock: ManualClock) -> None:
    res = reserve(ledger, item("a", "4"), ttl_ms=1000)
    clock.advance(1001)
    assert ledger.balance(S, "acme").held == 0, "expiry is applied on read"
    assert ledger.get_reservation(S, res.id).status == "expired"
    with pytest.raises(Conflict):
        ledger.release(S, Release("acme", res.id))


def test_a_commit_after_expiry_is_still_recorded(ledger: Ledger, clock: ManualClock) -> None:
    res = reserve(ledger, item("a", "4"), ttl_ms=1000)
    clock.advance(5000)
    done = ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("3"))),)))
    assert done.status == "committed"
    bal = ledger.balance(S, "acme")
    assert (bal.held, bal.spent) == (0, c("3"))


def test_the_sweeper_expires_holds_nobody_reads(ledger: Ledger, clock: ManualClock) -> None:
    reserve(ledger, item("a", "4"), ttl_ms=1000)
    clock.advance(2000)
    assert ledger.sweep() == 1
    with ledger.store.read() as tx:
        assert tx.load_book(S, "acme").wallet_held == 0


def test_grants_burn_by_priority_then_earliest_expiry(ledger: Ledger, clock: ManualClock) -> None:
    now = clock.now_ms()
    late = ledger.add_grant(S, AddGrant("acme", c("5"), priority=50, expires_ms=now + 9 * DAY_MS))
    soon = ledger.add_grant(S, AddGrant("acme", c("5"), priority=50, expires_ms=now + DAY_MS))
    ledger.record_usage(S, RecordUsage("acme", (DirectUsage("u1", ANA, Charge(c("6"))),)))
    remaining = {g.id: g.remaining for g in ledger.grants(S, "acme")}
    assert remaining[soon.id] == 0 and remaining[late.id] == c("4")


def test_expired_grants_no_longer_fund_reservations(ledger: Ledger, clock: ManualClock) -> None:
    ledger.add_grant(S, AddGrant("acme", c("100"), expires_ms=clock.now_ms() + 1000))
    assert ledger.balance(S, "acme").available == c("110")
    clock.advance(1000)
    assert ledger.balance(S, "acme").available == c("10")


def test_an_idempotent_replay_returns_the_first_answer_and_changes_nothing(
        ledger: Ledger) -> None:
    idem = Idem("key-1", "fp-1")
    cmd = Reserve(ANA, (item("a", "1"),), 60_000)
    first = ledger.execute(S, cmd, idem)
    again = ledger.execute(S, cmd, idem)
    assert again.replayed and not first.replayed
    assert again.value == first.value
    assert ledger.balance(S, "acme").held == c("1")


def test_a_reused_key_with_another_request_is_refused(ledger: Ledger) -> None:
    ledger.execute(S, Reserve(ANA, (item("a", "1"),), 60_000), Idem("key-2", "fp-a"))
    with pytest.raises(IdempotencyMismatch):
        ledger.execute(S, Reserve(ANA, (item("a", "2"),), 60_000), Idem("key-2", "fp-b"))
    assert ledger.balance(S, "acme").held == c("1")


def test_duplicate_usage_event_ids_are_counted_once(ledger: Ledger) -> None:
    ev = DirectUsage("evt-9", ANA, Charge(c("1")))
    assert ledger.record_usage(S, RecordUsage("acme", (ev, ev))) == (1, 1)
    assert ledger.record_usage(S, RecordUsage("acme", (ev,))) == (0, 1)
    assert ledger.balance(S, "acme").spent == c("1")


@pytest.mark.parametrize("path, kind", [
    (NodePath("nope", "studio", "ana"), "org"),
    (NodePath("acme", "nope", "ana"), "project"),
    (NodePath("acme", "studio", "nope"), "user"),
])
def test_unknown_nodes_are_not_found_and_change_nothing(
        ledger: Ledger, path: NodePath, kind: str) -> None:
    with pytest.raises(NotFound) as err:
        reserve(ledger, item("a", "1"), path=path)
    assert err.value.kind == kind
    assert ledger.balance(S, "acme").held == 0


def test_a_user_under_the_wrong_project_is_not_found(ledger: Ledger) -> None:
    ledger.upsert_project(S, UpsertProject("acme", "other"))
    with pytest.raises(NotFound):
        reserve(ledger, item("a", "1"), path=NodePath("acme", "other", "ana"))


def test_unknown_reservations_and_items_are_refused(ledger: Ledger) -> None:
    with pytest.raises(NotFound):
        ledger.release(S, Release("acme", "res_missing"))
    res = reserve(ledger, item("a", "1"))
    with pytest.raises(InvalidRequest):
        ledger.commit(S, Commit("acme", res.id, (CommitItem("zzz", Charge(1)),)))
    with pytest.raises(InvalidRequest):
        ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(1)),
                                                 CommitItem("a", Charge(1)))))
    assert ledger.get_reservation(S, res.id).status == "held"


def test_another_environment_sees_nothing(ledger: Ledger) -> None:
    with pytest.raises(NotFound):
        ledger.balance(Scope("acme-inc", "test"), "acme")
    with pytest.raises(NotFound):
        ledger.balance(Scope("other-tenant", "live"), "acme")


def test_a_limit_id_belongs_to_one_org(ledger: Ledger) -> None:
    ledger.upsert_org(S, UpsertOrg("globex"))
    ledger.put_limit(S, PutLimit("cap", NodePath("acme"), "credits", c("5"), "day", "hard"))
    with pytest.raises(Conflict):
        ledger.put_limit(S, PutLimit("cap", NodePath("globex"), "credits", c("5"), "day", "hard"))


def test_commit_writes_one_usage_event_per_committed_item(ledger: Ledger) -> None:
    usage = {"meter": "llm", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 800}
    res = reserve(ledger, item("a", "1"), item("b", "1"))
    ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("0.5"), usage=usage)),)))
    with ledger.store.read() as tx:
        rows = tx.all("SELECT event_id, meter, credits FROM usage_events")
    assert rows == [(f"{res.id}.0", "llm", c("0.5"))]


def test_a_negative_adjustment_gives_credits_back_overdraft_first(ledger: Ledger) -> None:
    ledger.put_limit(S, PutLimit("day", ANA, "credits", c("100"), "day", "hard"))
    ledger.record_usage(S, RecordUsage("acme", (DirectUsage("u1", ANA, Charge(c("12"))),)))
    assert ledger.balance(S, "acme").debt == c("2")
    ledger.record_usage(S, RecordUsage("acme", (
        DirectUsage("adj-1", ANA, Charge(c("-3")), kind="adjustment"),)))
    bal = ledger.balance(S, "acme")
    assert (bal.debt, bal.spent, bal.available) == (0, c("9"), c("1"))
    [status] = ledger.status(S, ANA)
    assert status.used == c("9")


def test_a_refund_beyond_what_was_spent_is_refused_and_changes_nothing(ledger: Ledger) -> None:
    ledger.record_usage(S, RecordUsage("acme", (DirectUsage("u1", ANA, Charge(c("1"))),)))
    with pytest.raises(InvalidRequest):
        ledger.record_usage(S, RecordUsage("acme", (
            DirectUsage("adj-2", ANA, Charge(c("-5")), kind="adjustment"),)))
    with pytest.raises(InvalidRequest):
        ledger.record_usage(S, RecordUsage("acme", (DirectUsage("u2", ANA, Charge(c("-1"))),)))
    assert ledger.balance(S, "acme").spent == c("1")


def test_a_long_run_keeps_only_open_reservations_in_memory(ledger: Ledger) -> None:
    for _ in range(50):
        res = reserve(ledger, item("a", "0.01"))
        ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(c("0.01"))),)))
    still_open = reserve(ledger, item("b", "0.01"))
    books = [b for cache in ledger.committer._caches for b in cache.values()]
    assert [list(b.reservations) for b in books] == [[still_open.id]]
    # A settled reservation is read back from the store when it is needed again.
    with pytest.raises(Conflict):
        ledger.commit(S, Commit("acme", res.id, (CommitItem("a", Charge(1)),)))
