"""Reconciliation benchmark: 1 000 000 provider rows against 1 000 000 metered events.

    python bench/reconcile.py [--rows 1000000] [--keep DIR]

Writes an OpenAI completions export (JSON Lines, one page per day) and a JSON Lines file of
Spendgate usage events, then runs, each in its own process so peak memory is its own:
  - streaming: `spendgate.reconcile.reconcile` exactly as the CLI does (files in, report out);
  - naive: load every page and every event into lists, group them into a dict of lists, sum
    and compare (the obvious pandas-free baseline).
Both must find the same injected drifts. The last line printed is one JSON object.
Target: streaming under 10 s and under 500 MB peak.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder is sys.path[0]; sibling benchmarks (e.g. bench/http.py)
# must not shadow standard-library modules.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import orjson  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DAY_S = 86_400
START_S = 1_761_955_200  # 2025-11-01T00:00:00Z
TARGET_SECONDS = 10.0
TARGET_MB = 500.0


def shape(rows: int) -> tuple[int, int, int, int]:
    """days x projects x models x API keys per project, about `rows` provider rows."""
    days, projects, models = 25, 50, 20
    keys = max(1, rows // (days * projects * models))
    return days, projects, models, keys


def generate(directory: Path, rows: int) -> dict[str, Any]:
    days, projects, models, keys = shape(rows)
    usage = directory / "openai_usage.jsonl"
    metered = directory / "metered.jsonl"
    mapping = directory / "mapping.json"
    drifted = 0
    with open(usage, "wb") as up, open(metered, "wb") as mp:
        n = 0
        for d in range(days):
            start = START_S + d * DAY_S
            results = []
            for p in range(projects):
                for m in range(models):
                    for k in range(keys):
                        n += 1
                        inp = 1000 + (n * 7919) % 90_000
                        cached = inp // 4
                        out = 200 + (n * 104_729) % 20_000
                        results.append({
                            "object": "organization.usage.completions.result",
                            "input_tokens": inp, "output_tokens": out,
                            "input_cached_tokens": cached, "input_audio_tokens": 0,
                            "output_audio_tokens": 0, "num_model_requests": 1,
                            "project_id": f"proj_{p:03d}", "user_id": None,
                            "api_key_id": f"key_{p:03d}_{k:03d}",
                            "model": f"gpt-bench-{m:02d}-2025-01-01", "batch": None,
                        })
                        # Drift: every 997th (day, project, model) group meters 3 % fewer
                        # output tokens than the provider reports.
                        group_no = (d * projects + p) * models + m
                        metered_out = out
                        if group_no % 997 == 0:
                            metered_out = out * 97 // 100
                            drifted += k == 0
                        event = {
                            "id": f"evt_{n:08d}", "tenant": "bench", "env": "live",
                            "org": f"org_{p % 10}", "project": f"project_{p:03d}",
                            "user": None, "meter": "llm",
                            "timestamp_ms": (start + 60 * (k % 1400)) * 1000,
                            "credits": "0.001500000",
                            "quantities": {"input_tokens": str(inp - cached),
                                           "cached_input_tokens": str(cached),
                                           "output_tokens": str(metered_out)},
                            "dimensions": {"model": f"gpt-bench-{m:02d}"},
                            "kind": "usage",
                        }
                        mp.write(orjson.dumps(event) + b"\n")
            page = {"object": "page", "data": [{"object": "bucket", "start_time": start,
                                                "end_time": start + DAY_S, "results": results}],
                    "has_more": d < days - 1, "next_page": None}
            up.write(orjson.dumps(page) + b"\n")
    mapping.write_text(json.dumps({
        "tenant": "bench",
        "accounts": [{"provider": "openai", "project_id": f"proj_{p:03d}",
                      "org": f"org_{p % 10}", "project": f"project_{p:03d}"}
                     for p in range(projects)],
        "models": {"openai": {"gpt-bench-*": "placeholder"}},
    }))
    # Dated snapshot names map to the rate-card model: one exact rule per model.
    data = json.loads(mapping.read_text())
    data["models"]["openai"] = {f"gpt-bench-{m:02d}-2025-01-01": f"gpt-bench-{m:02d}"
                                for m in range(models)}
    data["scope"] = {"openai": ["gpt-bench-*"]}
    mapping.write_text(json.dumps(data))
    (directory / "rows").write_text(str(rows))
    return {"provider_rows": n, "metered_events": n, "groups": days * projects * models,
            "drifted_groups": drifted, "usage_bytes": usage.stat().st_size,
            "metered_bytes": metered.stat().st_size}


def run_streaming(directory: Path, workers: int) -> dict[str, Any]:
    from spendgate.reconcile import InputFile, JsonLinesMeteredUsage, load_mapping, reconcile

    days, _, _, _ = shape(int((directory / "rows").read_text()))
    began = time.perf_counter()
    cpu = time.process_time()
    # The CLI path: files in, report out, for the month's range (as `--from/--to` give it).
    report = reconcile(
        "openai", [InputFile.from_path(directory / "openai_usage.jsonl")],
        JsonLinesMeteredUsage([directory / "metered.jsonl"]),
        load_mapping(directory / "mapping.json"),
        from_ms=START_S * 1000, to_ms=(START_S + days * DAY_S) * 1000, workers=workers,
    )
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += children.ru_utime + children.ru_stime
    bad = sorted((g.key.period_ms, g.key.project, g.key.model) for g in report.discrepancies())
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "peak_mb": _peak_mb(), "groups": report.summary.groups,
            "discrepancies": len(bad), "found": bad[:3]}


def run_naive(directory: Path) -> dict[str, Any]:
    """Load everything, group into a dict of lists, then sum and compare."""
    began = time.perf_counter()
    cpu = time.process_time()
    mapping = json.loads((directory / "mapping.json").read_text())
    accounts = {a["project_id"]: (a["org"], a["project"]) for a in mapping["accounts"]}
    models = mapping["models"]["openai"]
    pages = [json.loads(line, parse_float=Decimal)
             for line in (directory / "openai_usage.jsonl").read_text().splitlines()]
    events = [json.loads(line, parse_float=Decimal)
              for line in (directory / "metered.jsonl").read_text().splitlines()]
    provider: dict[tuple[Any, ...], list[dict[str, int]]] = defaultdict(list)
    for page in pages:
        for bucket in page["data"]:
            day = bucket["start_time"] * 1000
            for r in bucket["results"]:
                org, project = accounts[r["project_id"]]
                key = (day, org, project, models[r["model"]], "llm")
                provider[key].append({
                    "input_tokens": r["input_tokens"] - r["input_cached_tokens"],
                    "cached_input_tokens": r["input_cached_tokens"],
                    "output_tokens": r["output_tokens"],
                    "requests": r["num_model_requests"]})
    ours: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in sorted(events, key=lambda e: e["timestamp_ms"]):
        day = e["timestamp_ms"] - e["timestamp_ms"] % 86_400_000
        key = (day, e["org"], e["project"], e["dimensions"]["model"], e["meter"])
        ours[key].append({**{k: Decimal(v) for k, v in e["quantities"].items()}, "requests": 1})
    bad = []
    for key in sorted(provider.keys() | ours.keys()):
        p = provider.get(key, [])
        o = ours.get(key, [])
        for name in ("input_tokens", "cached_input_tokens", "output_tokens", "requests"):
            pv = sum(r[name] for r in p)
            ov = sum(r.get(name, 0) for r in o)
            if pv != ov and (pv == 0 or abs(Decimal(ov - pv) / pv) > Decimal("0.01")):
                bad.append(key)
                break
    seconds = time.perf_counter() - began
    return {"seconds": round(seconds, 2), "cpu_seconds": round(time.process_time() - cpu, 2),
            "peak_mb": _peak_mb(),
            "groups": len(provider.keys() | ours.keys()), "discrepancies": len(bad)}


def _peak_mb() -> float:
    """Peak resident memory of this process plus its worker (both run at once): an upper bound."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + workers) / 1024, 1)


def _child(mode: str, directory: Path, workers: int = 1) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--keep", str(directory),
         "--workers", str(workers)],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    parser.add_argument("--child", choices=("streaming", "naive"), default=None)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes for the streaming run (provider import in a worker)")
    args = parser.parse_args()
    if args.child:
        result = (run_streaming(args.keep, args.workers) if args.child == "streaming"
                  else run_naive(args.keep))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="sg-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        data = generate(directory, args.rows)
        print(f"generated {data['provider_rows']:,} provider rows "
              f"({data['usage_bytes'] / 1e6:.0f} MB) and {data['metered_events']:,} metered "
              f"events ({data['metered_bytes'] / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.1f} s; {data['drifted_groups']} drifted groups")
        streaming = _child("streaming", directory, args.workers)
        single = _child("streaming", directory, 1) if args.workers > 1 else None
        naive = None if args.skip_naive else _child("naive", directory)
    print(f"{'':22}{'seconds':>9}{'cpu s':>9}{'peak MB':>9}{'groups':>8}{'found':>7}")
    runs = ((f"streaming, {args.workers} proc", streaming), ("streaming, 1 proc", single),
            ("naive (load all)", naive))
    for name, r in runs:
        if r is not None:
            print(f"{name:22}{r['seconds']:>9}{r['cpu_seconds']:>9}{r['peak_mb']:>9}"
                  f"{r['groups']:>8}{r['discrepancies']:>7}")
    keys = ("seconds", "cpu_seconds", "peak_mb", "discrepancies")
    ok = (streaming["seconds"] < TARGET_SECONDS and streaming["peak_mb"] < TARGET_MB
          and streaming["discrepancies"] == data["drifted_groups"])
    print(json.dumps({
        "benchmark": "reconcile", "provider_rows": data["provider_rows"],
        "metered_events": data["metered_events"], "groups": data["groups"],
        "drifted_groups": data["drifted_groups"], "cpus": os.cpu_count(),
        "workers": args.workers,
        "streaming": {k: streaming[k] for k in keys},
        "streaming_1_process": None if single is None else {k: single[k] for k in keys},
        "naive": None if naive is None else {k: naive[k] for k in keys},
        "target": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB}, "pass": ok,
    }))


if __name__ == "__main__":
    main()
