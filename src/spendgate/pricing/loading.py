"""Rate cards from YAML or JSON files, validated with errors that name the bad field's path.

A file holds one card, either with all its versions or as a single version:

    card: list-prices
    versions:
      - effective_at: "2026-01-01T00:00:00Z"
        prices: [...]

Numbers in a file are read from their text, never through a binary float, so `0.15` in a
file is exactly 0.15 (the HTTP API still asks for decimal strings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import yaml

from spendgate.pricing._fields import InvalidRateCard, mapping, no_unknown_keys, text
from spendgate.pricing.rate_card import RateCard, RateCardVersion, _time

_DOCUMENT = frozenset({"card", "description", "prices_taken_at", "sources", "versions",
                       "effective_at", "prices"})
_VERSION = frozenset({"version", "effective_at", "prices", "description"})


class _ExactLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML without floats or dates: those scalars stay the text that was written."""


def _as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _as_text)
_ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number a rate card can hold")


def read_document(path: str | Path) -> object:
    """Parse a .yaml/.yml/.json file with exact numbers."""
    file = Path(path)
    raw = file.read_text(encoding="utf-8")
    try:
        if file.suffix.lower() == ".json":
            return json.loads(raw, parse_float=str, parse_constant=_refuse_constant)
        return yaml.load(raw, Loader=_ExactLoader)  # a SafeLoader subclass
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidRateCard(str(file), f"is not valid {file.suffix.lstrip('.')}: {exc}") from exc


def parse_rate_card(document: object) -> list[RateCardVersion]:
    """Validate a whole card given as data (from a file or from code); versions number 1..n."""
    data = mapping(document, "card")
    no_unknown_keys(data, _DOCUMENT, "$")
    name = text(data.get("card"), "card")
    if "versions" in data:
        if "prices" in data or "effective_at" in data:
            raise InvalidRateCard("prices", "goes inside versions[] when versions are given")
        entries = data["versions"]
        if not isinstance(entries, list) or not entries:
            raise InvalidRateCard("versions", "must be a non-empty list")
        prefix = "versions"
    else:
        entries = [{k: v for k, v in data.items() if k in ("effective_at", "prices")}]
        prefix = ""
    versions: list[RateCardVersion] = []
    for i, entry in enumerate(entries):
        at = f"{prefix}[{i}]" if prefix else ""
        dot = f"{at}." if at else ""
        item: Mapping[str, object] = mapping(entry, at or "$")
        no_unknown_keys(item, _VERSION, at or "$")
        number = item.get("version", i + 1)
        if number != i + 1:
            raise InvalidRateCard(f"{dot}version", f"must be {i + 1}: versions number 1, 2, ...")
        # A version without a time is in force from the beginning (handy for a one-version file).
        effective = 0 if item.get("effective_at") is None else _time(
            item["effective_at"], f"{dot}effective_at"
        )
        if versions and effective < versions[-1].effective_at_ms:
            raise InvalidRateCard(
                f"{dot}effective_at", "must not be before the previous version's effective_at"
            )
        versions.append(
            RateCardVersion.create(name, i + 1, effective, item.get("prices"), f"{dot}prices")
        )
    return versions


def load_rate_card(path: str | Path) -> list[RateCardVersion]:
    """Read and validate a card file; an error's `param` is the bad field's path in the file."""
    document = read_document(path)
    try:
        return parse_rate_card(document)
    except InvalidRateCard as exc:
        exc.message = f"{path}: {exc.message}"
        exc.args = (exc.message,)
        raise


def load_card(path: str | Path) -> RateCard:
    """The same file as a RateCard (name and all versions)."""
    versions = load_rate_card(path)
    return RateCard(versions[0].card, tuple(versions))
