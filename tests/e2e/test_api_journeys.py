"""User journeys through the HTTP API, in-process, on every store."""

from __future__ import annotations

from tests.e2e.harness import VIDEO_CARD, Harness


def test_put_creates_with_201_then_updates_with_200(api: Harness) -> None:
    first = api.call("PUT", "/v1/orgs/acme-org", {"name": "Acme"})
    again = api.call("PUT", "/v1/orgs/acme-org", {"name": "Acme Inc"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert api.ok("GET", "/v1/orgs/acme-org")["name"] == "Acme Inc"


def test_unknown_parents_are_404_including_a_user_under_the_wrong_project(api: Harness) -> None:
    api.tree()
    api.ok("PUT", "/v1/orgs/acme-org/projects/other", {})
    assert api.call("PUT", "/v1/orgs/nope/projects/p", {}).status_code == 404
    assert api.call("PUT", "/v1/orgs/acme-org/projects/nope/users/u", {}).status_code == 404
    wrong = api.call("GET", "/v1/orgs/acme-org/projects/other/users/ana")
    assert wrong.status_code == 404
    assert wrong.json()["error"]["type"] == "not_found"
    reserve = api.call("POST", "/v1/reservations", {
        "org": "acme-org", "project": "other", "user": "ana",
        "items": [{"ref": "a", "amount": "1"}]})
    assert reserve.status_code == 404
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["held"] == "0.000000000"


def test_reserve_commit_moves_the_hold_to_spend_and_releases_the_rest(api: Harness) -> None:
    api.tree(credits="10")
    res = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "project": "studio", "user": "ana",
        "items": [{"ref": "shot-1", "amount": "2.5"}, {"ref": "shot-2", "amount": "1"}]},
        who="acme-live-service")
    assert res["status"] == "held"
    assert [i["amount"] for i in res["items"]] == ["2.500000000", "1.000000000"]
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["available"] == "6.500000000"
    done = api.ok("POST", f"/v1/reservations/{res['id']}/commit",
                  {"items": [{"ref": "shot-1", "amount": "3"}]}, who="acme-live-service")
    assert done["status"] == "committed"
    assert done["items"][0]["charged"] == "3.000000000"
    balance = api.ok("GET", "/v1/orgs/acme-org/balance", who="acme-live-read")
    assert (balance["spent"], balance["held"], balance["available"]) == (
        "3.000000000", "0.000000000", "7.000000000")
    again = api.call("POST", f"/v1/reservations/{res['id']}/release", who="acme-live-service")
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"


def test_denial_is_a_normal_answer_and_holds_nothing(api: Harness) -> None:
    api.tree(credits="1")
    res = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "items": [{"ref": "a", "amount": "0.5"}, {"ref": "b", "amount": "2"}]})
    assert res["status"] == "denied"
    assert res["items"][1]["denied_by"] == {"level": "org", "reason": "insufficient_funds"}
    partial = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "policy": "partial",
        "items": [{"ref": "a", "amount": "0.5"}, {"ref": "b", "amount": "2"}]})
    assert partial["status"] == "partial"
    assert [i["status"] for i in partial["items"]] == ["held", "denied"]
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["held"] == "0.500000000"


def test_usage_items_are_priced_by_the_rate_card_and_fallbacks_downgrade(api: Harness) -> None:
    api.tree(credits="6")
    missing = api.call("POST", "/v1/reservations", {
        "org": "acme-org", "items": [{"ref": "v", "usage": {
            "meter": "video", "model": "veo-3", "seconds": 8}}]})
    assert missing.status_code == 422
    assert missing.json()["error"]["param"] == "items[0].usage"
    api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD)
    api.ok("PUT", "/v1/settings", {"default_rate_card": "list",
                                   "fallbacks": {"veo-3": ["veo-3-fast"]}})
    res = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "items": [{"ref": "v", "usage": {
            "meter": "video", "model": "veo-3", "seconds": 8}}]})
    # veo-3 costs 4 credits, veo-3-fast 1.6: the first fits, then only the fallback.
    assert (res["items"][0]["option"], res["items"][0]["amount"]) == (0, "4.000000000")
    second = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "items": [{"ref": "v", "usage": {
            "meter": "video", "model": "veo-3", "seconds": 8}}]})
    assert second["status"] == "held"
    assert second["items"][0]["option"] == 1
    assert second["items"][0]["usage"]["model"] == "veo-3-fast"
    assert second["items"][0]["amount"] == "1.600000000"
    committed = api.ok("POST", f"/v1/reservations/{res['id']}/commit", {"items": [
        {"ref": "v", "usage": {"meter": "video", "model": "veo-3", "seconds": 6}}]})
    assert committed["items"][0]["charged"] == "3.000000000"
    assert committed["items"][0]["rate_card_version"] == 1


def test_an_orgs_own_rate_card_wins_over_the_default(api: Harness) -> None:
    api.tree()
    api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD)
    api.ok("POST", "/v1/rate-cards/vip/versions", {"prices": [
        {"meter": "video", "quantity": "seconds", "model": "per_unit", "unit_price": "0.1"}]})
    api.ok("PUT", "/v1/settings", {"default_rate_card": "list"})
    api.ok("PUT", "/v1/orgs/acme-org", {"rate_card": "vip"})
    res = api.ok("POST", "/v1/reservations", {"org": "acme-org", "items": [
        {"ref": "v", "usage": {"meter": "video", "model": "veo-3", "seconds": 10}}]})
    assert res["items"][0]["amount"] == "1.000000000"
    assert res["items"][0]["rate_card"] == "vip"


def test_rate_card_versions_are_numbered_and_quotes_price_a_usage(api: Harness) -> None:
    first = api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD, status=201)
    assert (first["card"], first["version"]) == ("list", 1)
    api.clock.advance(1000)
    second = api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD, status=201)
    assert second["version"] == 2
    card = api.ok("GET", "/v1/rate-cards/list")
    assert [v["version"] for v in card["versions"]] == [1, 2]
    quote = api.ok("POST", "/v1/quotes", {"rate_card": "list", "usage": {
        "meter": "llm", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 800}})
    assert quote["credits"] == "0.011000000"
    assert quote["version"] == 2
    assert {line["quantity"] for line in quote["lines"]} == {"input_tokens", "output_tokens"}
    past = api.call("POST", "/v1/rate-cards/list/versions",
                    {**VIDEO_CARD, "effective_at": "2020-01-01T00:00:00Z"})
    assert past.status_code in (400, 422)
    assert past.json()["error"]["param"] == "effective_at"
    assert api.call("GET", "/v1/rate-cards/none").status_code == 404


def test_settings_keep_unsent_fields_and_reject_unknown_ones(api: Harness) -> None:
    api.ok("PUT", "/v1/settings", {"default_ttl_seconds": 60,
                                   "credit_value": {"currency": "USD", "amount": "0.01"}})
    got = api.ok("PUT", "/v1/settings", {"default_rate_card": "list"})
    assert got["default_ttl_seconds"] == 60
    assert got["credit_value"] == {"currency": "USD", "amount": "0.01"}
    bad = api.call("PUT", "/v1/settings", {"ttl": 5})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "ttl"
    assert api.ok("GET", "/v1/settings", who="acme-live-read")["default_rate_card"] == "list"


def test_holds_expire_after_their_ttl_and_reads_show_it(api: Harness) -> None:
    api.tree(credits="10")
    api.ok("PUT", "/v1/settings", {"default_ttl_seconds": 30})
    res = api.ok("POST", "/v1/reservations", {"org": "acme-org",
                                              "items": [{"ref": "a", "amount": "4"}]})
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["available"] == "6.000000000"
    api.clock.advance(31_000)
    assert api.ok("GET", f"/v1/reservations/{res['id']}")["status"] == "expired"
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["available"] == "10.000000000"
    late = api.ok("POST", f"/v1/reservations/{res['id']}/commit",
                  {"items": [{"ref": "a", "amount": "2"}]})
    assert late["status"] == "committed"
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["spent"] == "2.000000000"


def test_limits_block_admission_and_status_reports_every_limit_on_the_path(api: Harness) -> None:
    api.tree(credits="100")
    lim = api.call("PUT", "/v1/limits/ana-daily", {
        "org": "acme-org", "project": "studio", "user": "ana", "meter": "credits",
        "amount": "3", "window": "day", "mode": "hard", "thresholds": ["0.5", "1"]})
    assert lim.status_code == 201
    assert lim.json()["thresholds"] == ["0.5", "1"]
    res = api.ok("POST", "/v1/reservations", {
        "org": "acme-org", "project": "studio", "user": "ana",
        "items": [{"ref": "a", "amount": "4"}]})
    assert res["items"][0]["denied_by"] == {"level": "user", "reason": "limit_exceeded",
                                            "limit_id": "ana-daily"}
    api.ok("POST", "/v1/reservations", {"org": "acme-org", "project": "studio", "user": "ana",
                                        "items": [{"ref": "a", "amount": "2"}]})
    status = api.ok("GET", "/v1/orgs/acme-org/projects/studio/users/ana/status")
    assert [(s["id"], s["held"], s["remaining"]) for s in status["data"]] == [
        ("ana-daily", "2.000000000", "1.000000000")]
    listed = api.ok("GET", "/v1/limits?org=acme-org&project=studio&user=ana")
    assert [x["id"] for x in listed["data"]] == ["ana-daily"]
    one = api.ok("GET", "/v1/limits?org=acme-org", who="acme-live-read")["data"][0]
    assert (one["used"], one["held"], one["amount"]) == ("0.000000000", "2.000000000",
                                                         "3.000000000")


def test_direct_usage_is_charged_deduplicated_and_reported(api: Harness) -> None:
    api.tree(credits="10")
    api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD)
    api.ok("PUT", "/v1/settings", {"default_rate_card": "list"})
    events = {"events": [
        {"id": "ev-1", "org": "acme-org", "project": "studio", "user": "ana", "amount": "1.5"},
        {"id": "ev-2", "org": "acme-org", "project": "studio",
         "usage": {"meter": "video", "model": "veo-3", "seconds": 4}},
    ]}
    r = api.call("POST", "/v1/usage", events, who="acme-live-service")
    assert (r.status_code, r.json()) == (202, {"accepted": 2, "duplicates": 0})
    again = api.ok("POST", "/v1/usage", events)
    assert again == {"accepted": 0, "duplicates": 2}
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["spent"] == "3.500000000"
    report = api.ok("GET", "/v1/usage?org=acme-org&group_by=model,day")
    by_model = {row["model"]: row for row in report["data"]}
    assert by_model["veo-3"]["credits"] == "2.000000000"
    assert by_model["veo-3"]["quantities"] == {"seconds": "4"}
    assert by_model[None]["credits"] == "1.500000000"
    assert by_model["veo-3"]["day"] == "2026-01-01"
    window = api.ok("GET", "/v1/usage?org=acme-org&from=2026-01-02T00:00:00Z")
    assert window["data"] == [{"events": 0, "credits": "0.000000000", "quantities": {}}] or \
        window["data"] == []


def test_usage_with_an_unknown_org_records_nothing(api: Harness) -> None:
    api.tree()
    r = api.call("POST", "/v1/usage", {"events": [
        {"id": "ok-1", "org": "acme-org", "amount": "1"},
        {"id": "bad-1", "org": "ghost", "amount": "1"}]})
    assert r.status_code == 404
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["spent"] == "0.000000000"


def test_lists_page_with_a_cursor(api: Harness) -> None:
    for i in range(5):
        api.ok("PUT", f"/v1/orgs/org-{i}", {})
    first = api.ok("GET", "/v1/orgs?limit=2")
    assert [o["id"] for o in first["data"]] == ["org-0", "org-1"]
    assert first["has_more"] is True
    second = api.ok("GET", f"/v1/orgs?limit=2&starting_after={first['next_cursor']}")
    assert [o["id"] for o in second["data"]] == ["org-2", "org-3"]
    last = api.ok("GET", f"/v1/orgs?limit=2&starting_after={second['next_cursor']}")
    assert ([o["id"] for o in last["data"]], last["has_more"], last["next_cursor"]) == (
        ["org-4"], False, None)
    bad = api.call("GET", "/v1/orgs?limit=0")
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "limit")


def test_grants_list_shows_remaining_in_burn_order(api: Harness) -> None:
    api.tree(credits="5")
    api.ok("POST", "/v1/orgs/acme-org/grants", {"amount": "2", "priority": 1,
                                                "reason": "promo"})
    api.ok("POST", "/v1/usage", {"events": [{"id": "e", "org": "acme-org", "amount": "3"}]})
    grants = api.ok("GET", "/v1/orgs/acme-org/grants")["data"]
    assert [(g["amount"], g["remaining"]) for g in grants] == [
        ("2.000000000", "0.000000000"), ("5.000000000", "4.000000000")]


def test_tiered_prices_charge_the_marginal_units_after_the_month_to_date(api: Harness) -> None:
    api.tree(credits="100")
    api.ok("POST", "/v1/rate-cards/tiers/versions", {"prices": [
        {"meter": "api", "quantity": "calls", "model": "graduated", "tiers": [
            {"up_to": "10", "unit_price": "1"}, {"up_to": None, "unit_price": "0.5"}]}]})
    api.ok("PUT", "/v1/orgs/acme-org", {"rate_card": "tiers"})
    api.ok("POST", "/v1/usage", {"events": [
        {"id": "c-1", "org": "acme-org", "usage": {"meter": "api", "calls": 8}},
        {"id": "c-2", "org": "acme-org", "usage": {"meter": "api", "calls": 4}}]})
    # 8 at 1, then 2 at 1 and 2 at 0.5.
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["spent"] == "11.000000000"
    res = api.ok("POST", "/v1/reservations", {"org": "acme-org", "items": [
        {"ref": "a", "usage": {"meter": "api", "calls": 5}}]})
    assert res["items"][0]["amount"] == "2.500000000"
    done = api.ok("POST", f"/v1/reservations/{res['id']}/commit", {"items": [
        {"ref": "a", "usage": {"meter": "api", "calls": 6}}]})
    assert done["items"][0]["charged"] == "3.000000000"
    quote = api.ok("POST", "/v1/quotes", {"org": "acme-org",
                                          "usage": {"meter": "api", "calls": 6}})
    assert quote["credits"] == "6.000000000"  # a quote prices from zero unless told
