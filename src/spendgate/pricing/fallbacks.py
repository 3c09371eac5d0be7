"""Downgrade chains: `{"veo-3": ["veo-3-fast"], "1080p": ["720p"]}` turn one usage into options.

The ledger holds the first affordable option, so a chain turns a refusal into a downgrade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spendgate.errors import InvalidRequest
from spendgate.pricing.usage import Usage

MAX_CHAIN = 16


def expand_fallbacks(usage: Usage, chains: Mapping[str, Sequence[str]]) -> list[Usage]:
    """The usage itself first, then one option per fallback of each dimension value it has.

    Each option replaces one dimension value (in the usage's dimension order, then chain
    order) and keeps the rest; duplicates are dropped.
    """
    options = [usage]
    seen = {tuple(sorted(usage.dimensions.items()))}
    for name, value in usage.dimensions.items():
        for fallback in chains.get(value, ()):
            option = usage.replace(name, fallback)
            key = tuple(sorted(option.dimensions.items()))
            if key not in seen:
                seen.add(key)
                options.append(option)
    return options


def parse_fallbacks(obj: object, field: str = "fallbacks") -> dict[str, list[str]]:
    """The settings shape: each dimension value maps to its fallbacks, best first."""
    if not isinstance(obj, Mapping):
        raise InvalidRequest(f"{field} must be an object", param=field)
    chains: dict[str, list[str]] = {}
    for value, fallbacks in obj.items():
        param = f"{field}.{value}"
        if not isinstance(value, str) or not value:
            raise InvalidRequest(f"{field} keys must be non-empty strings", param=field)
        if not isinstance(fallbacks, list) or not fallbacks or len(fallbacks) > MAX_CHAIN:
            raise InvalidRequest(
                f"{param} must be a list of 1 to {MAX_CHAIN} fallback values", param=param
            )
        for i, fallback in enumerate(fallbacks):
            if not isinstance(fallback, str) or not fallback:
                raise InvalidRequest(f"{param}[{i}] must be a non-empty string",
                                     param=f"{param}[{i}]")
            if fallback == value or fallback in fallbacks[:i]:
                raise InvalidRequest(
                    f"{param}[{i}] repeats {fallback!r}: a chain lists distinct values",
                    param=f"{param}[{i}]",
                )
        chains[value] = list(fallbacks)
    return chains
