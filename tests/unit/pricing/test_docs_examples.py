"""The worked examples in docs/pricing.md are tests: the page and the code cannot disagree."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from spendgate.domain.money import parse_credits
from spendgate.pricing import Price
from spendgate.pricing.loading import _ExactLoader

DOC = Path(__file__).resolve().parents[3] / "docs" / "pricing.md"
_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def _examples() -> list[tuple[str, dict[str, object], list[list[object]]]]:
    found = []
    for i, block in enumerate(_BLOCK.findall(DOC.read_text(encoding="utf-8"))):
        data = yaml.load(block, Loader=_ExactLoader)
        if isinstance(data, dict) and "cases" in data:
            model = data["price"]["model"]
            found.append((f"{i}-{model}", data["price"], data["cases"]))
    return found


EXAMPLES = _examples()


def test_the_docs_hold_a_worked_example_for_every_price_model() -> None:
    models = {price["model"] for _, price, _ in EXAMPLES}
    assert models == {"per_unit", "package", "graduated", "volume", "flat", "percentage"}


@pytest.mark.parametrize(("name", "raw", "cases"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_worked_example_from_the_docs(
    name: str, raw: dict[str, object], cases: list[list[object]]
) -> None:
    price = Price.from_dict(raw)
    for case in cases:
        *quantities, expected = case
        ptd, units = (Decimal(0), quantities[0]) if len(quantities) == 1 else quantities
        charged = price.charge(Decimal(str(units)), Decimal(str(ptd)))
        assert charged == parse_credits(str(expected), allow_zero=True), (name, case)
