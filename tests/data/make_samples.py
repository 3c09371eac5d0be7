# ruff: noqa: E501, UP031 - sample rows read best one per line
"""Rebuild the sample provider exports and matching usage events in this folder.

    python tests/data/make_samples.py

One truth table (seeded, so the output is stable) drives both sides: every provider row is
split into usage events whose quantities and credits sum back exactly (1 credit = $0.01).
"""
import json
import random
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
from spendgate.metering.events import UsageEvent

OUT = Path(__file__).resolve().parent
rnd = random.Random(20251101)
DAYS = [datetime(2025, 11, d, tzinfo=UTC) for d in (1, 2, 3)]
def sec(d): return int(d.timestamp())
events = []
def add_events(org, project, model, meter, day, quantities, requests, credits_nano_total, user="u-1"):
    # split quantities over `requests` events, exactly
    base_ms = sec(day) * 1000
    qs = {k: [v // requests] * requests for k, v in quantities.items()}
    for k, v in quantities.items():
        qs[k][0] += v - (v // requests) * requests
    cr = [credits_nano_total // requests] * requests
    cr[0] += credits_nano_total - sum(cr)
    for i in range(requests):
        eid = f"evt_{model}_{org}_{project}_{day:%m%d}_{len(events):05d}"
        events.append(UsageEvent(
            id=eid, tenant="acme-tenant", env="live", org=org, project=project, user=user,
            meter=meter, timestamp_ms=base_ms + 3_600_000 * (1 + i % 20) + i,
            credits_nano=cr[i], quantities={k: Decimal(v[i]) for k, v in qs.items()},
            dimensions={"model": model}, rate_card="default", rate_card_version=1,
        ))

# ---------- OpenAI completions ----------
oa_rows = {d: [] for d in DAYS}
oa_cost = {d: [] for d in DAYS}
specs = [  # project_id, api_key_id, provider model, spendgate model, org, project, in $/1M, out $/1M
    ("proj_studio", "key_studio_web", "gpt-4o-2024-08-06", "gpt-4o", "acme", "studio", 250, 1000),
    ("proj_studio", "key_studio_web", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "acme", "studio", 15, 60),
    ("proj_support", "key_support_bot", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "acme", "support", 15, 60),
    ("proj_shared", "key_globex_batch", "gpt-4o-2024-08-06", "gpt-4o", "globex", "batch", 250, 1000),
]
for day in DAYS:
    for pid, key, pmodel, smodel, org, proj, pin, pout in specs:
        inp = rnd.randrange(40_000, 400_000, 100)
        cached = rnd.randrange(0, inp // 2, 100)
        out = rnd.randrange(10_000, 90_000, 100)
        reqs = rnd.randint(2, 6)
        oa_rows[day].append({
            "object": "organization.usage.completions.result", "input_tokens": inp,
            "output_tokens": out, "input_cached_tokens": cached, "input_audio_tokens": 0,
            "output_audio_tokens": 0, "num_model_requests": reqs, "project_id": pid,
            "user_id": None, "api_key_id": key, "model": pmodel, "batch": None,
        })
        # cents-per-million prices (so costs are exact): cost in USD
        cost_in = Decimal(inp) * pin / Decimal(100_000_000)
        cost_out = Decimal(out) * pout / Decimal(100_000_000)
        # 1 credit = 0.01 USD -> credits = cost * 100 ; nano = cost * 1e11
        total_nano = int((cost_in + cost_out) * 100 * 10**9)
        add_events(org, proj, smodel, "llm", day,
                   {"input_tokens": inp - cached, "cached_input_tokens": cached, "output_tokens": out},
                   reqs, total_nano)
        oa_cost[day].append((pid, f"{pmodel}, input", cost_in))
        oa_cost[day].append((pid, f"{pmodel}, output", cost_out))

def bucket(day, results, key="results"):
    return {"object": "bucket", "start_time": sec(day), "end_time": sec(day) + 86400, key: results}

pages = [
    {"object": "page", "data": [bucket(DAYS[0], oa_rows[DAYS[0]]), bucket(DAYS[1], oa_rows[DAYS[1]])],
     "has_more": True, "next_page": "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="},
    {"object": "page", "data": [bucket(DAYS[2], oa_rows[DAYS[2]])], "has_more": False, "next_page": None},
]
(OUT / "openai_usage_completions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages))

# ---------- OpenAI images ----------
img_pages = {"object": "page", "data": [], "has_more": False, "next_page": None}
for day in DAYS:
    n = rnd.randint(2, 5)
    img_pages["data"].append(bucket(day, [{
        "object": "organization.usage.images.result", "images": n, "num_model_requests": n,
        "size": "1024x1024", "source": "image.generation", "project_id": "proj_studio",
        "user_id": None, "api_key_id": "key_studio_web", "model": "dall-e-3"}]))
    add_events("acme", "studio", "dall-e-3", "image", day, {"count": n}, n, n * 4 * 10**9)
    oa_cost[day].append(("proj_studio", "dall-e-3, image", Decimal(n) * Decimal("0.04")))
(OUT / "openai_usage_images.json").write_text(json.dumps(img_pages, indent=2) + "\n")

# ---------- OpenAI costs (one JSON page, amounts as JSON numbers) ----------
lines = ["{", '  "object": "page",', '  "data": [']
for i, day in enumerate(DAYS):
    res = []
    for pid, item, cost in oa_cost[day]:
        res.append('        {"object": "organization.costs.result", "amount": {"value": %s, "currency": "usd"}, "line_item": "%s", "project_id": "%s", "api_key_id": null}' % (cost.normalize() if cost != cost.to_integral_value() else f"{cost}.0", item, pid))
    lines.append('    {"object": "bucket", "start_time": %d, "end_time": %d, "results": [' % (sec(day), sec(day) + 86400))
    lines.append(",\n".join(res))
    lines.append("    ]}" + ("," if i < len(DAYS) - 1 else ""))
lines += ["  ],", '  "has_more": false,', '  "next_page": null', "}"]
(OUT / "openai_costs.json").write_text("\n".join(lines) + "\n")

# ---------- Anthropic messages usage + cost report ----------
an_specs = [  # workspace, api key, model, smodel, org, project, in, cw5m, cread, out price cents/M
    ("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "apikey_01Rj2N8SVvo6BePZj99NhmiT", "claude-sonnet-4-20250514", "claude-sonnet-4", "acme", "studio", 300, 375, 30, 1500),
    (None, "apikey_01SupportBotKey000000000", "claude-3-5-haiku-20241022", "claude-haiku-3.5", "acme", "support", 80, 100, 8, 400),
]
an_pages = []
an_cost_buckets = []
for day in DAYS:
    results = []
    costs = []
    for ws, key, pmodel, smodel, org, proj, p_in, p_cw, p_cr, p_out in an_specs:
        unc = rnd.randrange(20_000, 300_000, 10)
        c5 = rnd.randrange(0, 20_000, 10)
        c1 = rnd.randrange(0, 5_000, 10) if pmodel.startswith("claude-sonnet") else 0
        cr = rnd.randrange(0, 200_000, 10)
        out = rnd.randrange(5_000, 60_000, 10)
        results.append({
            "uncached_input_tokens": unc,
            "cache_creation": {"ephemeral_1h_input_tokens": c1, "ephemeral_5m_input_tokens": c5},
            "cache_read_input_tokens": cr, "output_tokens": out,
            "server_tool_use": {"web_search_requests": 0}, "api_key_id": key,
            "workspace_id": ws, "model": pmodel, "service_tier": "standard",
            "context_window": "0-200k"})
        reqs = rnd.randint(2, 5)
        cents = {
            "uncached_input_tokens": Decimal(unc) * p_in / 10**6,
            "cache_creation.ephemeral_5m_input_tokens": Decimal(c5) * p_cw / 10**6,
            "cache_creation.ephemeral_1h_input_tokens": Decimal(c1) * p_in * 2 / 10**6,
            "cache_read_input_tokens": Decimal(cr) * p_cr / 10**6,
            "output_tokens": Decimal(out) * p_out / 10**6,
        }
        total_cents = sum(cents.values())
        add_events(org, proj, smodel, "llm", day,
                   {"input_tokens": unc, "cached_input_tokens": cr, "cache_write_tokens": c5 + c1, "output_tokens": out},
                   reqs, int(total_cents * 10**9))  # 1 credit = 1 cent
        for token_type, amount in cents.items():
            if amount == 0:
                continue
            costs.append({"amount": str(amount.normalize()) if amount != amount.to_integral_value() else str(int(amount)),
                          "context_window": "0-200k", "cost_type": "tokens", "currency": "USD",
                          "description": f"{pmodel} Usage - {token_type}", "model": pmodel,
                          "service_tier": "standard", "token_type": token_type, "workspace_id": ws})
    iso = day.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = datetime.fromtimestamp(sec(day) + 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    an_pages.append({"starting_at": iso, "ending_at": end, "results": results})
    an_cost_buckets.append({"starting_at": iso, "ending_at": end, "results": costs})
(OUT / "anthropic_usage_messages.json").write_text(json.dumps(
    {"data": an_pages, "has_more": False, "next_page": None}, indent=2) + "\n")
(OUT / "anthropic_cost_report.json").write_text(json.dumps(
    {"data": an_cost_buckets, "has_more": False, "next_page": None}, indent=2) + "\n")

# ---------- generic CSV: a video generation provider ----------
rows = ["date,project,model,resolution,duration_seconds,generations,cost,currency"]
for day in DAYS:
    for project, model, smodel, res, per_sec in (("studio-team", "gen4_turbo", "gen-4-turbo", "720p", Decimal("0.05")),
                                                   ("studio-team", "gen4_aleph", "gen-4-aleph", "1080p", Decimal("0.15"))):
        gens = rnd.randint(2, 6)
        secs = gens * rnd.choice((5, 10))
        cost = per_sec * secs
        rows.append(f"{day:%Y-%m-%d},{project},{model},{res},{secs},{gens},{cost},USD")
        add_events("acme", "studio", smodel, "video", day, {"seconds": secs}, gens, int(cost * 100 * 10**9))
(OUT / "videogen_usage.csv").write_text("\n".join(rows) + "\n")

events.sort(key=lambda e: (e.timestamp_ms, e.id))
with open(OUT / "metered_events.jsonl", "w") as fh:
    for e in events:
        fh.write(json.dumps(e.to_dict()) + "\n")
print(len(events), "events")
