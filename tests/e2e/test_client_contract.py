"""One suite, every gate: the HTTP client against a real server, and the embedded gate.

The server is the real app (bootstrap.build) under uvicorn on a free port, over SQLite; both
run on a ManualClock so expiry is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from spendgate.bootstrap import Runtime, build
from spendgate.client import (
    AsyncEmbeddedGate,
    AsyncGate,
    AuthenticationError,
    ConflictError,
    EmbeddedGate,
    Gate,
    IdempotencyMismatchError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from spendgate.client._surface import AsyncOperations, SyncOperations
from spendgate.config import Secret, Settings
from spendgate.domain.clock import ManualClock
from spendgate.ledger.engine import Ledger
from tests.services import postgres_schema

VIDEO_PRICES = [
    {"meter": "video", "quantity": "seconds", "match": {"model": "veo-3"}, "model": "per_unit",
     "unit_price": "0.4"},
    {"meter": "video", "quantity": "seconds", "match": {"model": "veo-3-fast"},
     "model": "per_unit", "unit_price": "0.15"},
    {"meter": "llm", "quantity": "input_tokens", "match": {"model": "gpt-4o"},
     "model": "per_unit", "per": "1000000", "unit_price": "2.5"},
    {"meter": "llm", "quantity": "output_tokens", "match": {"model": "gpt-4o"},
     "model": "per_unit", "per": "1000000", "unit_price": "10"},
]


def veo(seconds: int = 8, model: str = "veo-3") -> dict[str, Any]:
    return {"meter": "video", "model": model, "seconds": seconds}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    runtime: Runtime
    url: str
    secret: str
    clock: ManualClock


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("http") / "spendgate.db"
    clock = ManualClock(int(time.time() * 1000))
    runtime = build(Settings(database_url=Secret(f"sqlite:///{db}")), clock=clock)
    runtime.directory.create_tenant("studio")
    _, secret = runtime.directory.create_key("studio", "test", "admin")
    server = uvicorn.Server(uvicorn.Config(runtime.app, host="127.0.0.1", port=free_port(),
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(runtime, f"http://127.0.0.1:{port}", secret, clock)
    server.should_exit = True
    thread.join(timeout=10)
    assert not runtime.ledger.verify()
    runtime.close()


@dataclass
class Setup:
    gate: SyncOperations
    ledger: Ledger
    clock: ManualClock
    kind: str
    tmp: Path


@pytest.fixture(params=["http", "embedded",
                        pytest.param("embedded-postgres", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "http":
        served: Served = request.getfixturevalue("served")
        with Gate(served.url, served.secret) as gate:
            yield Setup(gate, served.runtime.ledger, served.clock, "http", tmp_path)
        return
    clock = ManualClock(int(time.time() * 1000))
    with contextlib.ExitStack() as stack:
        url = (stack.enter_context(postgres_schema()) if request.param == "embedded-postgres"
               else f"sqlite:///{tmp_path / 'embedded.db'}")
        gate = stack.enter_context(EmbeddedGate.open(url, clock=clock))
        yield Setup(gate, gate.ledger, clock, request.param, tmp_path)
        assert not gate.verify()


def studio(gate: SyncOperations, *, credits: str = "100", user_cap: str = "10") -> str:
    """An org with prepaid credits, a project allocation, a user's daily cap, a rate card."""
    org = f"org-{uuid.uuid4().hex[:8]}"
    card = f"card-{org}"
    gate.create_rate_card_version(card, VIDEO_PRICES)
    gate.put_settings(fallbacks={"veo-3": ["veo-3-fast"]})
    gate.put_org(org, name="Northwind Studio", rate_card=card)
    gate.put_project(org, "trailer", name="Trailer")
    gate.put_user(org, "trailer", "ana")
    gate.add_grant(org, credits, reason="prepaid")
    gate.put_limit(f"{org}-trailer", org=org, project="trailer", amount="50", window="lifetime")
    gate.put_limit(f"{org}-ana", org=org, project="trailer", user="ana", amount=user_cap,
                   window="day")
    return org


# ---- the ergonomic path ---------------------------------------------------------------

def test_committing_inside_the_block_charges_the_actual_usage(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    with gate.reserve(org, "trailer", "ana", usage=veo(8)) as hold:
        assert hold.funded and hold.option == 0
        assert hold.reservation.item("item").amount == "3.200000000"
        assert gate.balance(org).held == "3.200000000"
        hold.commit(veo(5))  # the job rendered 5 s, not 8
    assert hold.status == "committed"
    assert hold.reservation.item("item").charged == "2.000000000"
    balance = gate.balance(org)
    assert (balance.spent, balance.held, balance.available) == (
        "2.000000000", "0.000000000", "98.000000000")


def test_an_exception_inside_the_block_releases_the_hold_and_propagates(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    with pytest.raises(RuntimeError, match="provider timed out"), \
            gate.reserve(org, "trailer", "ana", amount="4") as hold:
        assert gate.balance(org).held == "4.000000000"
        raise RuntimeError("provider timed out")
    assert gate.get_reservation(hold.id).status == "released"
    assert gate.balance(org).held == "0.000000000"


def test_leaving_the_block_without_a_commit_releases_the_hold(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    with gate.reserve(org, "trailer", "ana", amount=Decimal("1.5")) as hold:
        pass
    assert hold.status == "released"
    assert gate.balance(org).available == "100.000000000"


def test_a_commit_without_an_actual_charges_the_estimate_of_the_held_option(
        setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate, user_cap="3")
    with gate.reserve(org, "trailer", "ana", usage=veo(8)) as hold:
        assert hold.option == 1  # veo-3 (3.2) does not fit the cap; veo-3-fast (1.2) does
        hold.commit()
    assert hold.reservation.item("item").charged == "1.200000000"


def test_a_denied_hold_is_not_funded_holds_nothing_and_exits_quietly(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate, credits="1")
    with gate.reserve(org, "trailer", "ana", amount="2") as hold:
        assert not hold.funded
        denial = hold.reservation.item("item").denied_by
        assert denial is not None
        assert (denial.level, denial.reason) == ("org", "insufficient_funds")
    assert hold.status == "denied"


# ---- batches, downgrades, expiry, idempotency -------------------------------------------

def test_generate_all_is_refused_atomically_then_funded_partially(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)  # ana may spend 10 today; a veo-3 shot of 8 s costs 3.2
    shots = [{"ref": f"shot-{n}", "usage": veo(8)} for n in range(1, 7)]
    refused = gate.reserve(org, "trailer", "ana", items=shots, policy="all_or_nothing")
    assert refused.status == "denied"
    assert all(not i.held for i in refused.reservation.items)
    assert gate.balance(org).held == "0.000000000"
    with gate.reserve(org, "trailer", "ana", items=shots, policy="partial") as batch:
        assert batch.status == "partial"
        assert batch.reservation.held_refs == ("shot-1", "shot-2", "shot-3")
        fourth = batch.reservation.item("shot-4").denied_by
        assert fourth is not None
        assert (fourth.level, fourth.reason, fourth.limit_id) == (
            "user", "limit_exceeded", f"{org}-ana")
        assert gate.balance(org).held == "9.600000000"
        batch.commit(items=[{"ref": "shot-1", "usage": veo(8)},
                            {"ref": "shot-2", "usage": veo(6)}])  # shot-3 failed: released
    assert gate.balance(org).spent == "5.600000000"
    assert gate.balance(org).held == "0.000000000"


def test_explicit_options_are_tried_in_order_and_the_answer_names_the_one_held(
        setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate, user_cap="2")
    hold = gate.reserve(org, "trailer", "ana",
                        options=[{"usage": veo(8)}, {"usage": veo(8, "veo-3-fast")},
                                 {"amount": "0.5"}])
    assert hold.option == 1
    assert hold.reservation.item("item").amount == "1.200000000"
    hold.release()


def test_a_crashed_jobs_hold_expires_and_reads_back_expired(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    crashed = gate.reserve(org, "trailer", "ana", amount="3", ttl_seconds=1)
    assert gate.balance(org).held == "3.000000000"
    setup.clock.advance(1_500)
    assert gate.get_reservation(crashed.id).status == "expired"
    assert gate.balance(org).held == "0.000000000"
    with pytest.raises(ConflictError) as caught:
        crashed.release()
    assert caught.value.code == "reservation_expired"
    # Usage that happened is recorded even after the hold expired.
    late = gate.commit(crashed.id, items=[{"ref": "item", "amount": "2"}])
    assert late.status == "committed"
    assert gate.balance(org).spent == "2.000000000"


def test_the_same_idempotency_key_twice_has_one_effect(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    first = gate.add_grant(org, "25", idempotency_key=f"topup-{org}")
    again = gate.add_grant(org, "25", idempotency_key=f"topup-{org}")
    assert (first.replayed, again.replayed, again.id) == (False, True, first.id)
    assert gate.balance(org).granted == "125.000000000"
    one = gate.reserve(org, "trailer", "ana", amount="1", idempotency_key=f"job-{org}")
    two = gate.reserve(org, "trailer", "ana", amount="1", idempotency_key=f"job-{org}")
    assert two.id == one.id and two.reservation.replayed
    assert gate.balance(org).held == "1.000000000"
    with pytest.raises(IdempotencyMismatchError):
        gate.reserve(org, "trailer", "ana", amount="2", idempotency_key=f"job-{org}")
    one.release()


# ---- the rest of the surface -------------------------------------------------------------

def test_hierarchy_reads_and_lists(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    assert gate.put_project(org, "trailer", name="Trailer v2").created is False
    assert gate.get_org(org).name == "Northwind Studio"
    assert gate.get_project(org, "trailer").name == "Trailer v2"
    assert gate.get_user(org, "trailer", "ana").level == "user"
    assert [n.project for n in gate.list_projects(org)] == ["trailer"]
    assert [n.user for n in gate.list_users(org, "trailer")] == ["ana"]
    assert org in {n.org for n in gate.list_orgs(limit=100)}
    grants = gate.list_grants(org)
    assert [(g.amount, g.remaining, g.reason) for g in grants] == [
        ("100.000000000", "100.000000000", "prepaid")]
    with pytest.raises(NotFoundError) as caught:
        gate.get_project(org, "missing")
    assert caught.value.status == 404


def test_limits_and_status_show_used_held_and_remaining(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    gate.reserve(org, "trailer", "ana", amount="1").commit("1")
    open_hold = gate.reserve(org, "trailer", "ana", amount="2")
    by_id = {s.limit.id: s for s in gate.status(org, "trailer", "ana")}
    ana = by_id[f"{org}-ana"]
    assert (ana.used, ana.held, ana.remaining, ana.level) == (
        "1.000000000", "2.000000000", "7.000000000", "user")
    assert by_id[f"{org}-trailer"].remaining == "47.000000000"
    assert {x.id for x in gate.list_limits(org=org)} == {f"{org}-ana", f"{org}-trailer"}
    assert [s.limit.id for s in gate.status(org, "trailer")] == [f"{org}-trailer"]
    assert gate.status(org) == ()
    open_hold.release()


def test_quotes_rate_cards_and_settings(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    quote = gate.quote({"meter": "llm", "model": "gpt-4o", "input_tokens": 1200,
                        "output_tokens": 800}, org=org)
    assert quote.credits == "0.011000000"
    assert [(line.quantity, line.credits) for line in quote.lines] == [
        ("input_tokens", "0.003000000"), ("output_tokens", "0.008000000")]
    card = gate.get_rate_card(f"card-{org}")
    assert card.latest.version == 1 and len(card.latest.prices) == len(VIDEO_PRICES)
    settings = gate.get_settings()
    assert settings.fallbacks == {"veo-3": ["veo-3-fast"]}


def test_usage_ingest_counts_duplicates_and_the_report_groups_it(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    events = [{"id": f"{org}-e1", "org": org, "project": "trailer", "user": "ana",
               "usage": veo(4)},
              {"id": f"{org}-e2", "org": org, "project": "trailer", "amount": "0.25"}]
    assert (gate.ingest_usage(events).accepted, gate.ingest_usage(events).duplicates) == (2, 2)
    report = gate.query_usage(org=org, group_by=["model"])
    by_model = {r.get("model"): r["credits"] for r in report.data}
    assert by_model == {"veo-3": "1.600000000", None: "0.250000000"}
    assert report.total_credits == Decimal("1.85")
    assert gate.balance(org).spent == "1.850000000"


def test_errors_carry_the_api_error_object(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    with pytest.raises(InvalidRequestError) as caught:
        gate.add_grant(org, "1e3")
    assert caught.value.param == "amount"
    hold = gate.reserve(org, "trailer", "ana", amount="1")
    hold.release()
    with pytest.raises(ConflictError) as conflict:
        gate.release(hold.id)
    assert conflict.value.status == 409 and conflict.value.type == "conflict"


def test_a_wrong_api_key_is_an_authentication_error(served: Served) -> None:
    with Gate(served.url, "sk_test_" + "0" * 64) as gate, \
            pytest.raises(AuthenticationError) as caught:
        gate.list_orgs()
    assert caught.value.status == 401


# ---- the async twins -------------------------------------------------------------------

async def _async_hold_paths(gate: AsyncOperations, org: str) -> None:
    async with gate.reserve(org, "trailer", "ana", usage=veo(8)) as hold:
        await hold.commit(veo(4))
    assert hold.status == "committed"
    try:
        async with gate.reserve(org, "trailer", "ana", amount="2") as failing:
            raise ValueError("render crashed")
    except ValueError:
        pass
    assert (await gate.get_reservation(failing.id)).status == "released"
    async with gate.reserve(org, "trailer", "ana", amount="2") as idle:
        pass
    assert idle.status == "released"
    awaited = await gate.reserve(org, "trailer", "ana", amount="1")
    await awaited.release()
    assert (await gate.balance(org)).spent == "1.600000000"


def test_the_async_http_gate_commits_and_releases_like_the_sync_one(served: Served) -> None:
    with Gate(served.url, served.secret) as sync_gate:
        org = studio(sync_gate)

    async def run() -> None:
        async with AsyncGate(served.url, served.secret) as gate:
            await _async_hold_paths(gate, org)

    asyncio.run(run())


def test_the_async_embedded_gate_commits_and_releases_like_the_sync_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'async.db'}"
    with EmbeddedGate.open(url) as sync_gate:
        org = studio(sync_gate)

    async def run() -> None:
        async with AsyncEmbeddedGate.open(url) as gate:
            await _async_hold_paths(gate, org)

    asyncio.run(run())


def test_a_limit_id_with_dots_is_enforced_across_calls(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    gate.put_limit(f"{org}.trailer.weekly", org=org, project="trailer", amount="5",
                   window="week")
    first = gate.reserve(org, "trailer", "ana", amount="3")
    second = gate.reserve(org, "trailer", "ana", amount="3")
    assert (first.status, second.status) == ("held", "denied")
    denial = second.reservation.item("item").denied_by
    assert denial is not None and denial.limit_id == f"{org}.trailer.weekly"
    first.commit("3")
    weekly = {s.limit.id: s for s in gate.status(org, "trailer", "ana")}[f"{org}.trailer.weekly"]
    assert (weekly.used, weekly.held) == ("3.000000000", "0.000000000")


def test_concurrent_reservations_never_hold_more_than_a_hard_limit(setup: Setup) -> None:
    from concurrent.futures import ThreadPoolExecutor

    gate = setup.gate
    org = studio(gate)  # ana's daily cap is 10 credits
    with ThreadPoolExecutor(max_workers=10) as pool:
        holds = list(pool.map(lambda n: gate.reserve(org, "trailer", "ana", amount="1",
                                                     ref=f"job-{n}"), range(24)))
    held = [h for h in holds if h.funded]
    assert len(held) == 10
    assert gate.balance(org).held == "10.000000000"
    for hold in held:
        hold.release()
    assert gate.balance(org).held == "0.000000000"


def test_lists_page_by_cursor_and_iterators_follow_every_page(setup: Setup) -> None:
    gate = setup.gate
    org = studio(gate)
    users = [f"u{n:02d}" for n in range(7)]
    for user in users:
        gate.put_user(org, "trailer", user)
    first = gate.list_users(org, "trailer", limit=3)
    assert len(first) == 3 and first.has_more and first.next_cursor is not None
    second = gate.list_users(org, "trailer", limit=3, starting_after=first.next_cursor)
    assert not {n.user for n in first} & {n.user for n in second}
    everyone = [n.user for n in gate.iter_users(org, "trailer", page_size=3)]
    assert sorted(everyone) == sorted(["ana", *users])
    assert len(everyone) == len(set(everyone))


def test_the_async_iterators_follow_every_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    with EmbeddedGate.open(url) as sync_gate:
        orgs = {studio(sync_gate) for _ in range(5)}

    async def run() -> set[str]:
        async with AsyncEmbeddedGate.open(url) as gate:
            return {n.org async for n in gate.iter_orgs(page_size=2)}

    assert asyncio.run(run()) == orgs


def test_a_read_only_key_may_read_but_not_reserve(served: Served) -> None:
    _, read_key = served.runtime.directory.create_key("studio", "test", "read")
    with Gate(served.url, served.secret) as admin:
        org = studio(admin)
    with Gate(served.url, read_key) as reader:
        assert reader.balance(org).available == "100.000000000"
        with pytest.raises(PermissionDeniedError) as caught:
            reader.reserve(org, "trailer", "ana", amount="1")
    assert caught.value.status == 403


def test_grant_and_limit_lists_are_read_whole_across_pages(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    import spendgate.client._surface as surface

    monkeypatch.setattr(surface, "PAGE_SIZE", 2)
    gate = setup.gate
    org = studio(gate)
    for n in range(4):
        gate.add_grant(org, "1", priority=n)
        gate.put_limit(f"{org}-extra-{n}", org=org, amount="1", window="month")
    grants = gate.list_grants(org)
    assert len(grants) == 5 and len({g.id for g in grants}) == 5
    assert [g.priority for g in grants] == [0, 1, 2, 3, 100]  # burn order
    assert len(gate.list_limits(org=org)) == 6
