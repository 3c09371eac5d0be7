"""The engine against a reference model small enough to be obviously right (Hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from spendgate.domain.clock import ManualClock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.errors import Conflict
from spendgate.ledger.commands import (
    AddGrant,
    Commit,
    CommitItem,
    ItemRequest,
    PutLimit,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.stores.migrations import migrate
from spendgate.stores.sqlite.store import SqliteStore

S = Scope("model", "test")
ORG = "o"
USERS = ("a", "b")
LIMITS = {"a": 7, "b": 5}  # hard lifetime credit limits per user (whole units of 10**9 nano)
PROJECT_LIMIT = 10
U = 10**9


@dataclass
class ModelRes:
    user: str
    held: list[int]  # per item, 0 when denied
    expires: int
    status: str


@dataclass
class Model:
    granted: int = 0
    spent: int = 0
    suspended: bool = False
    used: dict[str, int] = field(default_factory=lambda: {u: 0 for u in USERS})
    res: dict[str, ModelRes] = field(default_factory=dict)

    def held(self, user: str | None = None) -> int:
        return sum(sum(r.held) for r in self.res.values()
                   if r.status in ("held", "partial") and (user is None or r.user == user))

    def expire(self, now: int) -> None:
        for r in self.res.values():
            if r.status in ("held", "partial") and r.expires <= now:
                r.status = "expired"

    def fits(self, user: str, amount: int, extra: int) -> bool:
        if self.suspended:
            return False
        if amount == 0:  # free work is never refused for money
            return True
        if amount > self.granted - self.spent - self.held() - extra:
            return False
        project_used = sum(self.used.values())
        if project_used + self.held() + extra + amount > PROJECT_LIMIT * U:
            return False
        return self.used[user] + self.held(user) + extra + amount <= LIMITS[user] * U


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = TemporaryDirectory()
        self.store = SqliteStore(Path(self.tmp.name) / "m.db", synchronous="OFF")
        migrate(self.store)
        self.clock = ManualClock()
        self.ledger = Ledger(self.store, self.clock)
        self.model = Model()

    @initialize()
    def seed(self) -> None:
        self.ledger.upsert_org(S, UpsertOrg(ORG))
        self.ledger.upsert_project(S, UpsertProject(ORG, "p"))
        self.ledger.put_limit(S, PutLimit("p", NodePath(ORG, "p"), "credits", PROJECT_LIMIT * U,
                                          "lifetime", "hard"))
        for user, cap in LIMITS.items():
            self.ledger.upsert_user(S, UpsertUser(ORG, "p", user))
            self.ledger.put_limit(S, PutLimit(user, NodePath(ORG, "p", user), "credits", cap * U,
                                              "lifetime", "hard"))

    @rule(amount=st.integers(1, 12))
    def grant(self, amount: int) -> None:
        self.ledger.add_grant(S, AddGrant(ORG, amount * U))
        self.model.granted += amount * U

    @rule(user=st.sampled_from(USERS), amounts=st.lists(st.integers(0, 4 * U), min_size=1,
                                                          max_size=4),
          policy=st.sampled_from(["all_or_nothing", "partial"]), ttl=st.sampled_from([10, 10_000]))
    def reserve(self, user: str, amounts: list[int], policy: str, ttl: int) -> None:
        m = self.model
        m.expire(self.clock.now_ms())
        res = self.ledger.reserve(S, Reserve(
            NodePath(ORG, "p", user), tuple(ItemRequest(f"i{n}", (Charge(a),))
                                            for n, a in enumerate(amounts)), ttl, policy))
        extra, funded, failed = 0, [], False
        for a in amounts:  # funded in order while they fit
            if not failed and m.fits(user, a, extra):
                extra += a
                funded.append(True)
            else:
                failed = True
                funded.append(False)
        if failed and policy == "all_or_nothing":
            funded = [False] * len(amounts)
        assert [i.status == "held" for i in res.items] == funded
        held = [a if f else 0 for a, f in zip(amounts, funded, strict=True)]
        status = "denied" if not any(funded) else ("partial" if not all(funded) else "held")
        assert res.status == status
        m.res[res.id] = ModelRes(user, held, self.clock.now_ms() + ttl, status)

    @precondition(lambda self: any(r.status in ("held", "partial")
                                   for r in self.model.res.values()))
    @rule(data=st.data(), actual=st.integers(0, 5 * U))
    def commit(self, data: st.DataObject, actual: int) -> None:
        rid = list(self.model.res)[data.draw(st.integers(0, len(self.model.res) - 1))]
        m = self.model
        m.expire(self.clock.now_ms())
        r = m.res[rid]
        try:
            self.ledger.commit(S, Commit(ORG, rid, (CommitItem("i0", Charge(actual)),)))
        except Conflict:
            assert r.status in ("committed", "released", "denied")
            return
        assert r.status in ("held", "partial", "expired")
        r.status = "committed"
        m.spent += actual
        m.used[r.user] += actual

    @precondition(lambda self: bool(self.model.res))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = list(self.model.res)[data.draw(st.integers(0, len(self.model.res) - 1))]
        m = self.model
        m.expire(self.clock.now_ms())
        try:
            self.ledger.release(S, Release(ORG, rid))
        except Conflict:
            assert m.res[rid].status not in ("held", "partial")
            return
        assert m.res[rid].status in ("held", "partial")
        m.res[rid].status = "released"

    @rule(ms=st.sampled_from([1, 20, 20_000]))
    def time_passes(self, ms: int) -> None:
        self.clock.advance(ms)

    @rule(flag=st.booleans())
    def suspend(self, flag: bool) -> None:
        self.ledger.upsert_org(S, UpsertOrg(ORG, status="suspended" if flag else "active"))
        self.model.suspended = flag

    @invariant()
    def balances_match_the_model(self) -> None:
        m = self.model
        m.expire(self.clock.now_ms())
        bal = self.ledger.balance(S, ORG)
        assert (bal.held, bal.spent, bal.granted) == (m.held(), m.spent, m.granted)
        for st_ in self.ledger.status(S, NodePath(ORG, "p", "a")) + self.ledger.status(
                S, NodePath(ORG, "p", "b")):
            if st_.limit.path.user:
                assert st_.used == m.used[st_.limit.path.user]
                assert st_.held == m.held(st_.limit.path.user)

    def teardown(self) -> None:
        assert self.ledger.verify() == []
        self.ledger.close()
        self.store.close()
        self.tmp.cleanup()


LedgerMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestLedgerAgainstModel = LedgerMachine.TestCase
