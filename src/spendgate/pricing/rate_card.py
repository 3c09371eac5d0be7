"""Rate cards: named, with immutable versions scheduled by `effective_at`.

A version is a list of prices, compiled once into a lookup keyed by (meter, quantity) whose
candidates are grouped by the dimension keys they match, most specific first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spendgate.domain.clock import ms_to_rfc3339, rfc3339_to_ms
from spendgate.errors import InvalidRequest, InvalidUsage, NotFound
from spendgate.pricing._fields import InvalidRateCard, mapping
from spendgate.pricing.price import Price

_CARD_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

# One group of candidates: the dimension keys they match on, and a table from the matched
# values to the price (single-key groups are keyed by the bare value, the common case).
_Group = tuple[tuple[str, ...], str | None, dict[object, Price]]


@dataclass(frozen=True, slots=True)
class RateCardVersion:
    card: str
    version: int
    effective_at_ms: int
    prices: tuple[Price, ...]
    # meter → quantity → candidate groups, most specific first (see _compile).
    index: Mapping[str, Mapping[str, tuple[_Group, ...]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Invariant: at most one price of each specificity can match any usage.
        if not self.prices:
            raise InvalidRateCard("prices", "must be a non-empty list of prices")
        _refuse_ambiguity(self.prices, "prices")
        object.__setattr__(self, "index", _compile(self.prices))

    @classmethod
    def create(
        cls, card: str, version: int, effective_at_ms: int, prices: object, param: str = "prices"
    ) -> RateCardVersion:
        """Validate API price objects into a version (ambiguous matches are refused)."""
        if not isinstance(card, str) or not _CARD_NAME.match(card):
            raise InvalidRateCard("card", "must match [A-Za-z0-9_.:-]{1,128}")
        if not isinstance(prices, list) or not prices:
            raise InvalidRateCard(param, "must be a non-empty list of prices")
        parsed = tuple(Price.from_dict(p, f"{param}[{i}]") for i, p in enumerate(prices))
        _refuse_ambiguity(parsed, param)
        return cls(card, version, effective_at_ms, parsed)

    @classmethod
    def from_dict(cls, obj: object, param: str = "") -> RateCardVersion:
        """Read the API/storage shape `{"card", "version", "effective_at", "prices"}`."""
        prefix = f"{param}." if param else ""
        data = mapping(obj, param or "version")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidRateCard(f"{prefix}version", "must be a positive integer")
        card = data.get("card")
        if not isinstance(card, str):
            raise InvalidRateCard(f"{prefix}card", "must be a string")
        effective_at = _time(data.get("effective_at"), f"{prefix}effective_at")
        return cls.create(card, version, effective_at, data.get("prices"), f"{prefix}prices")

    def to_dict(self) -> dict[str, object]:
        return {
            "card": self.card,
            "version": self.version,
            "effective_at": ms_to_rfc3339(self.effective_at_ms),
            "prices": [p.to_dict() for p in self.prices],
        }

    def price_for(
        self, meter: str, quantity: str, dimensions: Mapping[str, str], field: str = "usage"
    ) -> Price | None:
        """The most specific price for this quantity; None when the meter has no such quantity."""
        quantities = self.index.get(meter)
        if quantities is None:
            raise self.unknown_meter(meter, field)
        groups = quantities.get(quantity)
        if groups is None:
            return None
        price = pick(groups, dimensions)
        if price is None:
            raise self.no_match(meter, quantity, dimensions, field)
        return price

    def unknown_meter(self, meter: str, field: str = "usage") -> InvalidUsage:
        return InvalidUsage(
            f"rate card {self.card!r} v{self.version} has no prices for meter {meter!r}",
            param=f"{field}.meter",
        )

    def no_match(
        self, meter: str, quantity: str, dimensions: Mapping[str, str], field: str = "usage"
    ) -> InvalidUsage:
        """No price matches and there is no default: name the dimension when there is one."""
        groups = self.index.get(meter, {}).get(quantity, ())
        keys_seen = {k for keys, _, _ in groups for k in keys}
        name = next(iter(keys_seen)) if len(keys_seen) == 1 else quantity
        shown = ", ".join(f"{k}={v}" for k, v in dimensions.items()) or "no dimensions"
        return InvalidUsage(
            f"rate card {self.card!r} v{self.version} has no price for {meter}.{quantity} "
            f"with {shown}, and no default price for it",
            param=f"{field}.{name}",
        )


@dataclass(frozen=True, slots=True)
class RateCard:
    name: str
    versions: tuple[RateCardVersion, ...]

    def version_at(self, at_ms: int) -> RateCardVersion:
        """The version in force at `at_ms`: latest effective_at <= at, ties to the higher number."""
        in_force = [v for v in self.versions if v.effective_at_ms <= at_ms]
        if not in_force:
            raise NotFound("rate card version", f"{self.name} at {ms_to_rfc3339(at_ms)}")
        return max(in_force, key=lambda v: (v.effective_at_ms, v.version))

    def to_dict(self) -> dict[str, object]:
        return {"card": self.name, "versions": [v.to_dict() for v in self.versions]}


def validate_new_version(
    card: str,
    prices_json: object,
    effective_at_ms: int | None,
    existing: Sequence[RateCardVersion],
    now_ms: int,
) -> RateCardVersion:
    """Schedule the next version of `card`: number max+1, never effective in the past."""
    when = now_ms if effective_at_ms is None else effective_at_ms
    if when < now_ms:
        raise InvalidRateCard(
            "effective_at",
            f"is in the past ({ms_to_rfc3339(when)} < now {ms_to_rfc3339(now_ms)}): a new "
            "version can only be scheduled from now on; omit it to mean now",
        )
    for v in existing:
        if v.card != card:
            raise InvalidRequest(f"version {v.version} belongs to card {v.card!r}", param="card")
        if when < v.effective_at_ms:
            raise InvalidRateCard(
                "effective_at",
                f"is before version {v.version}'s effective_at ({ms_to_rfc3339(v.effective_at_ms)})"
                ": schedule a version at or after it to supersede it",
            )
    number = max((v.version for v in existing), default=0) + 1
    return RateCardVersion.create(card, number, when, prices_json)


def _time(value: object, param: str) -> int:
    try:
        return rfc3339_to_ms(value, param)
    except InvalidRequest as exc:
        raise InvalidRateCard(param, "must be an RFC 3339 timestamp with a time zone") from exc


def pick(groups: tuple[_Group, ...], dimensions: Mapping[str, str]) -> Price | None:
    """The first price whose match the dimensions satisfy, groups being most specific first.

    Validation guarantees at most one match per specificity, so the first found is the one.
    """
    for keys, single, table in groups:
        if single is not None:
            value = dimensions.get(single)
            if value is None:
                continue
            price = table.get(value)
        elif keys:
            price = table.get(tuple([dimensions.get(k) for k in keys]))
        else:
            price = table[()]
        if price is not None:
            return price
    return None


def _refuse_ambiguity(prices: Sequence[Price], param: str) -> None:
    """Refuse two prices of one quantity with equally many match keys that one usage could
    satisfy together (their shared keys agree). Linear in the prices per pair of key sets."""
    # (meter, quantity, specificity) → key set → matched values → index of the first price
    levels: dict[tuple[str, str, int], dict[tuple[str, ...], dict[tuple[str, ...], int]]] = {}
    clashes: list[tuple[int, int]] = []
    for i, price in enumerate(prices):
        keys = tuple(sorted(price.match))
        groups = levels.setdefault((price.meter, price.quantity, len(keys)), {})
        values = tuple(price.match[k] for k in keys)
        first = groups.setdefault(keys, {}).setdefault(values, i)
        if first != i:
            clashes.append((i, first))
    for groups in levels.values():
        keysets = list(groups)
        for a, keys_a in enumerate(keysets):
            for keys_b in keysets[a + 1:]:
                shared = [k for k in keys_a if k in keys_b]
                on_a: dict[tuple[str, ...], int] = {}
                for values, i in groups[keys_a].items():
                    on_a.setdefault(tuple(values[keys_a.index(k)] for k in shared), i)
                for values, j in groups[keys_b].items():
                    i = on_a.get(tuple(values[keys_b.index(k)] for k in shared), -1)
                    if i >= 0:
                        clashes.append((max(i, j), min(i, j)))
    if clashes:
        i, j = min(clashes)
        price, other = prices[i], prices[j]
        what = (
            "the same match" if dict(price.match) == dict(other.match)
            else f"a match as specific ({price.specificity} "
            f"key{'s' if price.specificity != 1 else ''}) that one usage could satisfy "
            "together with it"
        )
        raise InvalidRateCard(
            f"{param}[{i}].match",
            f"is ambiguous: {param}[{j}] prices {price.meter}.{price.quantity} with "
            f"{what}; make one of them more specific",
        )


def _compile(prices: Sequence[Price]) -> dict[str, dict[str, tuple[_Group, ...]]]:
    by_quantity: dict[tuple[str, str], dict[tuple[str, ...], dict[object, Price]]] = {}
    for price in prices:
        keys = tuple(sorted(price.match))
        groups = by_quantity.setdefault((price.meter, price.quantity), {})
        table = groups.setdefault(keys, {})
        value: object = price.match[keys[0]] if len(keys) == 1 else tuple(
            price.match[k] for k in keys
        )
        # Kept when equal prices repeat (validated versions never have two).
        table.setdefault(value, price)
    index: dict[str, dict[str, tuple[_Group, ...]]] = {}
    for (meter, quantity), groups in by_quantity.items():
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        index.setdefault(meter, {})[quantity] = tuple(
            (keys, keys[0] if len(keys) == 1 else None, table) for keys, table in ordered
        )
    return index
