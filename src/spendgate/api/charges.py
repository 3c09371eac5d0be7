"""Turning what a request describes (credits or usage) into the Charges the ledger holds.

The rate card in force is the org's `rate_card`, else the environment's
`default_rate_card`; a usage with neither is refused (422). An item given as one `usage`
becomes options through the tenant's fallback chains, so the ledger's first-affordable
rule downgrades instead of refusing.

Prices whose charge depends on earlier usage (package, graduated, volume) are charged for
the marginal units after the org's usage of that price line this calendar month (UTC),
`P(ptd + q) - P(ptd)`: the period-to-date is read from the usage events when pricing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

from spendgate.api.schemas import ItemSpec, Priced
from spendgate.domain.hierarchy import Scope
from spendgate.domain.limits import window_start
from spendgate.domain.reservations import Charge
from spendgate.errors import InvalidUsage, SpendgateError
from spendgate.ledger.commands import ItemRequest
from spendgate.pricing import (
    RateCard,
    RateCardVersion,
    Usage,
    expand_fallbacks,
    quote,
    usage_vector,
)
from spendgate.stores.sql import loads
from spendgate.tenancy import Configuration, EnvSettings


class Pricer:
    """Prices usage for one scope and org; built per request, reads cached configuration."""

    def __init__(self, configuration: Configuration, scope: Scope, settings: EnvSettings,
                 org_card: str | None, *, org: str | None = None) -> None:
        self.configuration = configuration
        self.scope = scope
        self.settings = settings
        self.card_name = org_card or settings.default_rate_card
        self.org = org  # given: tiered prices are charged after the org's period to date
        self._card: RateCard | None = None
        # Usage this pricer already charged in this request, by (month, meter, quantity,
        # match): a later item of the same request prices after it.
        self._charged: dict[tuple[int, str, str, tuple[tuple[str, str], ...]], Decimal] = {}

    def card(self, field: str) -> RateCard:
        if self._card is not None:
            return self._card
        if self.card_name is None:
            raise InvalidUsage(
                "no rate card prices this usage: set the org's rate_card (PUT /v1/orgs/{org}) "
                "or default_rate_card (PUT /v1/settings), or give an amount instead",
                param=field)
        card = self.configuration.rate_card(self.scope, self.card_name)
        if card is None:
            raise InvalidUsage(f"rate card {self.card_name!r} has no versions yet: create one "
                               f"with POST /v1/rate-cards/{self.card_name}/versions", param=field)
        self._card = card
        return card

    def charge(self, usage: Usage, at_ms: int, field: str, *, record: bool = True) -> Charge:
        """Price `usage` at `at_ms`; `record` counts it in this request's period to date
        (a commit or an event does; a reserve's options are only candidates)."""
        card = self.card(field)
        try:
            version = card.version_at(at_ms)
        except Exception as exc:  # no version in force yet at that time
            raise InvalidUsage(f"rate card {card.name!r} has no version in force at that "
                               "time", param=field) from exc
        ptd = self.period_to_date(version, usage, at_ms) if self.org is not None else None
        priced = quote(version, usage, ptd, field=field)
        if ptd is not None and record:
            for name, key in self._lines(version, usage, at_ms).items():
                self._charged[key] = self._charged.get(key, Decimal(0)) + usage.quantities[name]
        return Charge(priced.credits_nano, usage_vector(usage), usage_document(usage),
                      version.card, version.version)

    def period_to_date(self, version: RateCardVersion, usage: Usage, at_ms: int
                       ) -> dict[str, Decimal] | None:
        """This month's usage of each tiered price line the usage touches, by quantity."""
        lines = self._lines(version, usage, at_ms)
        if not lines or self.org is None:
            return None
        totals = {name: self._charged.get(key, Decimal(0)) for name, key in lines.items()}
        with self.configuration.store.read() as tx:
            rows = tx.all("SELECT doc FROM usage_events WHERE tenant=? AND env=? AND org=? "
                          "AND meter=? AND ts_ms >= ?",
                          (self.scope.tenant, self.scope.env, self.org, usage.meter,
                           window_start("month", at_ms)))
        for (doc,) in rows:
            event = loads(doc)
            dimensions = event.get("dimensions") or {}
            for name, (_, _, _, match) in lines.items():
                value = (event.get("quantities") or {}).get(name)
                if value is not None and all(dimensions.get(k) == v for k, v in match):
                    totals[name] += Decimal(value)
        return totals

    def _lines(self, version: RateCardVersion, usage: Usage, at_ms: int
               ) -> dict[str, tuple[int, str, str, tuple[tuple[str, str], ...]]]:
        """The usage's quantities priced by a tiered price, each with its line's key."""
        month = window_start("month", at_ms)
        lines = {}
        for name in usage.quantities:
            try:
                price = version.price_for(usage.meter, name, usage.dimensions)
            except SpendgateError:
                return {}  # the quote itself will say what is wrong
            if price is not None and price.model in PERIOD_MODELS:
                lines[name] = (month, usage.meter, name, tuple(sorted(price.match.items())))
        return lines

    def of(self, choice: Priced, at_ms: int, field: str, *, record: bool = True) -> Charge:
        if choice.amount is not None:
            return Charge(choice.amount)
        assert choice.usage is not None
        return self.charge(choice.usage, at_ms, field, record=record)

    def items(self, specs: Sequence[ItemSpec], at_ms: int) -> tuple[ItemRequest, ...]:
        out = []
        for i, spec in enumerate(specs):
            if spec.expand_fallbacks and spec.options[0].usage is not None:
                usages = expand_fallbacks(spec.options[0].usage, self.settings.fallbacks)
                charges = [self.charge(u, at_ms, f"items[{i}].usage", record=False)
                           for u in usages]
            else:
                field = f"items[{i}]" if len(spec.options) == 1 else f"items[{i}].options"
                charges = [self.of(c, at_ms, f"{field}[{j}].usage" if len(spec.options) > 1
                                   else f"{field}.usage", record=False)
                           for j, c in enumerate(spec.options)]
            out.append(ItemRequest(spec.ref, tuple(charges)))
        return tuple(out)


PERIOD_MODELS = frozenset({"package", "graduated", "volume"})


def usage_document(usage: Usage) -> dict[str, object]:
    """The usage as recorded on its event: dimensions as strings, quantities as numbers."""
    out: dict[str, object] = {"meter": usage.meter, **usage.dimensions}
    for name, quantity in usage.quantities.items():
        out[name] = int(quantity) if quantity == quantity.to_integral_value() else quantity
    return out


def needs_pricing(choices: Sequence[Priced]) -> bool:
    return any(c.usage is not None for c in choices)


def org_rate_card(configuration: Configuration, scope: Scope, org: str) -> str | None:
    """The org's own rate card, if it set one (None too when the org does not exist)."""
    with configuration.store.read() as tx:
        row = tx.one("SELECT doc FROM orgs WHERE tenant=? AND env=? AND org=?",
                     (scope.tenant, scope.env, org))
    if row is None:
        return None
    card = loads(row[0]).get("rate_card")
    return card if isinstance(card, str) else None


_ORG_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_ORG_LOCKS_GUARD = threading.Lock()


@contextmanager
def pricing_in_order(scope: Scope, orgs: Iterable[str]) -> Iterator[None]:
    """Hold the orgs' pricing locks (in a fixed order) from reading the period to date until
    the charge it priced is recorded, so concurrent tiered charges see each other.

    Within one process; replicas pricing the same org at the same instant can still race.
    """
    with _ORG_LOCKS_GUARD:
        locks = [_ORG_LOCKS.setdefault((scope.tenant, scope.env, org), threading.Lock())
                 for org in sorted(set(orgs))]
    for lock in locks:
        lock.acquire()
    try:
        yield
    finally:
        for lock in reversed(locks):
            lock.release()
