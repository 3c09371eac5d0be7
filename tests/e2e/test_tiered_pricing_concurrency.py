"""Concurrent commits of tiered usage are charged as the period's total would be."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.harness import Harness

CARD = {"prices": [{"meter": "gen", "quantity": "units", "model": "graduated", "tiers": [
    {"up_to": "100", "unit_price": "1"}, {"up_to": None, "unit_price": "0.5"}]}]}


def test_twenty_concurrent_commits_pay_the_graduated_price_of_their_total(lite: Harness) -> None:
    h = lite
    h.tree(credits="1000")
    h.ok("POST", "/v1/rate-cards/gen/versions", CARD)
    h.ok("PUT", "/v1/settings", {"default_rate_card": "gen"})
    ids = []
    for i in range(20):
        res = h.ok("POST", "/v1/reservations", {
            "org": "acme-org", "project": "studio", "user": "ana",
            "items": [{"ref": "a", "amount": "30"}]})
        ids.append(res["id"])
        del i
    headers = h.headers()
    answers = h.concurrently([
        ("POST", f"/v1/reservations/{rid}/commit",
         {"items": [{"ref": "a", "usage": {"meter": "gen", "units": 10}}]}, headers)
        for rid in ids])
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    # 200 units: the first 100 at 1 credit, the next 100 at 0.5, whatever the interleaving.
    spent = Decimal(h.ok("GET", "/v1/orgs/acme-org/balance")["spent"])
    assert spent == Decimal(150)


def test_concurrent_priced_usage_events_pay_the_graduated_price_of_their_total(
        lite: Harness) -> None:
    h = lite
    h.tree(credits="1000")
    h.ok("POST", "/v1/rate-cards/gen/versions", CARD)
    h.ok("PUT", "/v1/settings", {"default_rate_card": "gen"})
    headers = h.headers()
    answers = h.concurrently([
        ("POST", "/v1/usage", {"events": [{"id": f"u{i}", "org": "acme-org",
                                           "usage": {"meter": "gen", "units": 25}}]}, headers)
        for i in range(8)])
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
    spent = Decimal(h.ok("GET", "/v1/orgs/acme-org/balance")["spent"])
    assert spent == Decimal(150)  # 200 units: 100 at 1 credit, 100 at 0.5
