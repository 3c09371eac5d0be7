"""Pricings per second on a realistic mix, beside a naive all-Decimal implementation.

    python bench/pricing.py [--seconds 1.5] [--usages 20000]

The mix uses the example card (examples/rate-card.yaml): 70 % LLM calls over eight models
(two to five token quantities each), 12 % images, 10 % video, 4 % transcription and 4 %
pass-through. It measures `quote` on parsed usages (the ledger's hot path), `Usage.parse` +
`quote` from JSON objects (an HTTP request's path), and the baseline: for each quantity, scan
every price, pick the most specific match, and compute in Decimal, the way a first version
would. Both must agree on every credit. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from spendgate.pricing import Usage, load_rate_card, quote  # noqa: E402
from spendgate.pricing.rate_card import RateCardVersion  # noqa: E402

TARGET = 200_000
LLM_MODELS = ["gpt-5", "gpt-5-mini", "gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5",
              "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.5-flash"]


def realistic_mix(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.70:
            model = rng.choice(LLM_MODELS)
            usage: dict[str, Any] = {"meter": "llm", "model": model,
                                     "input_tokens": rng.randint(50, 30_000),
                                     "output_tokens": rng.randint(1, 4_000)}
            if rng.random() < 0.5 and not model.startswith("gemini"):
                usage["cached_input_tokens"] = rng.randint(1_000, 50_000)
            if model.startswith("claude") and rng.random() < 0.2:
                usage["cache_write_tokens"] = rng.randint(1_000, 10_000)
            if model in ("gpt-5", "gpt-5-mini", "gemini-2.5-pro", "gemini-2.5-flash"):
                usage["reasoning_tokens"] = rng.randint(0, 8_000)
        elif roll < 0.82:
            model, quality = rng.choice([("gpt-image-1", "low"), ("gpt-image-1", "medium"),
                                         ("gpt-image-1", "high"), ("dall-e-3", "standard"),
                                         ("dall-e-3", "hd"), ("imagen-4", "standard"),
                                         ("imagen-4-fast", "standard")])
            usage = {"meter": "image", "model": model, "quality": quality,
                     "count": rng.randint(1, 4)}
        elif roll < 0.92:
            model, resolution = rng.choice([("veo-3", "1080p"), ("veo-3-fast", "720p"),
                                            ("sora-2", "720p"), ("sora-2-pro", "720p"),
                                            ("sora-2-pro", "1024p")])
            usage = {"meter": "video", "model": model, "resolution": resolution,
                     "seconds": rng.choice([4, 6, 8, 10, 12])}
        elif roll < 0.96:
            usage = {"meter": "audio", "model": rng.choice(["whisper-1", "gpt-4o-mini-transcribe"]),
                     "seconds": rng.randint(1, 3_600)}
        else:
            cost = Decimal(rng.randint(1, 2_000_000)).scaleb(-6)
            usage = {"meter": "passthrough", "currency": "USD", "provider": "replicate",
                     "quantities": {"provider_cost": f"{cost:f}"}}
        out.append(usage)
    return out


class NaiveCard:
    """The baseline: prices kept as JSON, scanned on every call, Decimal arithmetic."""

    def __init__(self, prices: Sequence[Mapping[str, Any]]) -> None:
        self.prices = [dict(p) for p in prices]

    def quote_nano(self, usage: Mapping[str, Any]) -> int:
        quantities = {k: Decimal(v) for k, v in usage.get("quantities", {}).items()}
        dimensions: dict[str, str] = {}
        for key, value in usage.items():
            if key in ("meter", "quantities"):
                continue
            if isinstance(value, str):
                dimensions[key] = value
            else:
                quantities[key] = Decimal(value)
        total = Decimal(0)
        with localcontext() as ctx:
            ctx.prec = 60
            for name, units in quantities.items():
                best, best_keys = None, -1
                for price in self.prices:
                    if price["meter"] != usage["meter"] or price["quantity"] != name:
                        continue
                    match = price.get("match") or {}
                    if all(dimensions.get(k) == v for k, v in match.items()) and len(
                        match
                    ) > best_keys:
                        best, best_keys = price, len(match)
                if best is None:
                    raise LookupError(name)
                total += self._line(best, units)
        return int(total.scaleb(9))

    @staticmethod
    def _line(price: Mapping[str, Any], units: Decimal) -> Decimal:
        if units == 0:
            return Decimal(0)
        if price["model"] == "per_unit":
            charge = units * Decimal(price["unit_price"]) / Decimal(price.get("per") or 1)
        elif price["model"] == "percentage":
            charge = units * Decimal(price["rate"]) + Decimal(price.get("fixed_price") or 0)
        else:
            raise NotImplementedError(price["model"])
        if price.get("min_per_event") is not None:
            charge = max(charge, Decimal(price["min_per_event"]))
        if price.get("max_per_event") is not None:
            charge = min(charge, Decimal(price["max_per_event"]))
        return charge.quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)


def rate(run: Callable[[], int], seconds: float, repeats: int = 3) -> float:
    """Best of `repeats` runs of at least `seconds` each: items per second."""
    best = 0.0
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while True:
            done += run()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, done / elapsed)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--usages", type=int, default=20_000)
    args = parser.parse_args(argv)

    [version] = load_rate_card(ROOT / "examples" / "rate-card.yaml")
    raw = realistic_mix(args.usages)
    parsed = [Usage.parse(u) for u in raw]
    naive = NaiveCard([p.to_dict() for p in version.prices])
    lines = sum(len(u.quantities) for u in parsed)

    ours = [quote(version, u).credits_nano for u in parsed]
    theirs = [naive.quote_nano(u) for u in raw]
    if ours != theirs:
        raise SystemExit("the fast and the naive pricing disagree")

    def hot(v: RateCardVersion = version) -> int:
        for usage in parsed:
            quote(v, usage)
        return len(parsed)

    def from_json(v: RateCardVersion = version) -> int:
        for usage in raw:
            quote(v, Usage.parse(usage))
        return len(raw)

    def baseline() -> int:
        for usage in raw:
            naive.quote_nano(usage)
        return len(raw)

    quotes_per_s = rate(hot, args.seconds)
    parse_quotes_per_s = rate(from_json, args.seconds)
    naive_per_s = rate(baseline, args.seconds)
    lines_per_quote = lines / len(parsed)

    print(f"mix: {len(parsed)} usages, {len(version.prices)} prices, "
          f"{lines_per_quote:.2f} lines a quote, total {sum(ours) / 1e9:,.2f} credits")
    print(f"{'':34}{'quotes/s':>12}{'lines/s':>14}")
    print(f"{'quote (compiled, int nano)':34}{quotes_per_s:12,.0f}"
          f"{quotes_per_s * lines_per_quote:14,.0f}")
    print(f"{'Usage.parse + quote':34}{parse_quotes_per_s:12,.0f}"
          f"{parse_quotes_per_s * lines_per_quote:14,.0f}")
    print(f"{'baseline: naive all-Decimal scan':34}{naive_per_s:12,.0f}"
          f"{naive_per_s * lines_per_quote:14,.0f}")
    print(f"speedup over the baseline: {quotes_per_s / naive_per_s:.1f}x; "
          f"target {TARGET:,} quotes/s: {'met' if quotes_per_s >= TARGET else 'NOT met'}")
    print(json.dumps({
        "bench": "pricing",
        "quotes_per_s": round(quotes_per_s),
        "lines_per_s": round(quotes_per_s * lines_per_quote),
        "parse_and_quote_per_s": round(parse_quotes_per_s),
        "baseline_naive_decimal_quotes_per_s": round(naive_per_s),
        "speedup": round(quotes_per_s / naive_per_s, 1),
        "lines_per_quote": round(lines_per_quote, 2),
        "usages": len(parsed),
        "prices": len(version.prices),
        "target_quotes_per_s": TARGET,
        "target_met": quotes_per_s >= TARGET,
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
