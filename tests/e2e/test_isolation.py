"""Strict isolation: another tenant's or environment's resource is a 404 exactly like a
missing one (same status, same body shape and code), and nothing leaks or changes."""

from __future__ import annotations

import pytest

from tests.e2e.harness import VIDEO_CARD, Harness

OUTSIDERS = ("rival-live-admin", "acme-test-admin")


def _setup(api: Harness) -> str:
    """acme/live owns a tree, a limit, a card and a reservation; returns the reservation id."""
    api.tree(credits="50")
    api.ok("PUT", "/v1/limits/acme-cap", {"org": "acme-org", "meter": "credits",
                                          "amount": "40", "window": "month", "mode": "hard"})
    api.ok("POST", "/v1/rate-cards/acme-card/versions", VIDEO_CARD)
    res = api.ok("POST", "/v1/reservations", {"org": "acme-org", "project": "studio",
                                              "user": "ana", "items": [{"ref": "a",
                                                                        "amount": "5"}]})
    return str(res["id"])


def _calls(res_id: str, missing: bool) -> list[tuple[str, str, object]]:
    """Every route that names a resource; `missing` swaps in ids nobody has."""
    org = "ghost-org" if missing else "acme-org"
    res = "res_00000000000000000000000000000000" if missing else res_id
    card = "ghost-card" if missing else "acme-card"
    return [
        ("GET", f"/v1/orgs/{org}", None),
        ("GET", f"/v1/orgs/{org}/projects", None),
        ("GET", f"/v1/orgs/{org}/projects/studio", None),
        ("PUT", f"/v1/orgs/{org}/projects/studio", {"name": "x"}),
        ("GET", f"/v1/orgs/{org}/projects/studio/users", None),
        ("GET", f"/v1/orgs/{org}/projects/studio/users/ana", None),
        ("PUT", f"/v1/orgs/{org}/projects/studio/users/ana", {}),
        ("GET", f"/v1/orgs/{org}/projects/studio/users/ana/status", None),
        ("GET", f"/v1/orgs/{org}/projects/studio/status", None),
        ("GET", f"/v1/orgs/{org}/status", None),
        ("GET", f"/v1/orgs/{org}/grants", None),
        ("POST", f"/v1/orgs/{org}/grants", {"amount": "1"}),
        ("GET", f"/v1/orgs/{org}/balance", None),
        ("GET", f"/v1/limits?org={org}", None),
        ("PUT", "/v1/limits/x-cap", {"org": org, "meter": "credits", "amount": "1",
                                     "window": "day"}),
        ("POST", "/v1/reservations", {"org": org, "items": [{"ref": "a", "amount": "1"}]}),
        ("GET", f"/v1/reservations/{res}", None),
        ("POST", f"/v1/reservations/{res}/commit", {"items": [{"ref": "a", "amount": "1"}]}),
        ("POST", f"/v1/reservations/{res}/release", None),
        ("GET", f"/v1/rate-cards/{card}", None),
        ("POST", "/v1/quotes", {"org": org, "usage": {"meter": "video", "model": "veo-3",
                                                      "seconds": 1}}),
        ("POST", "/v1/usage", {"events": [{"id": "iso-1", "org": org, "amount": "1"}]}),
        ("GET", f"/v1/usage?org={org}", None),
    ]


def _shape(body: dict[str, object]) -> tuple[object, ...]:
    error = body["error"]
    assert isinstance(error, dict)
    return (sorted(error), error["type"], error["code"], error["param"])


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_every_route_answers_an_outsider_exactly_as_for_a_missing_resource(
        api: Harness, outsider: str) -> None:
    res_id = _setup(api)
    before = api.ok("GET", "/v1/orgs/acme-org/balance")
    for (method, path, body), (m_method, m_path, m_body) in zip(
            _calls(res_id, missing=False), _calls(res_id, missing=True), strict=True):
        theirs = api.call(method, path, body, who=outsider)
        # The same call by the owner against ids that do not exist.
        ghost = api.call(m_method, m_path, m_body)
        assert theirs.status_code == 404, f"{method} {path}: {theirs.status_code} {theirs.text}"
        assert ghost.status_code == 404, f"{m_method} {m_path}: {ghost.status_code}"
        assert _shape(theirs.json()) == _shape(ghost.json()), f"{method} {path}"
        # The message only echoes the ids the caller sent: swapped, it is the ghost's message.
        mine = theirs.json()["error"]["message"]
        for real, fake in ((res_id, "res_00000000000000000000000000000000"),
                           ("acme-org", "ghost-org"), ("acme-card", "ghost-card")):
            mine = mine.replace(real, fake)
        assert mine == ghost.json()["error"]["message"], f"{method} {path}"
    assert api.ok("GET", "/v1/orgs/acme-org/balance") == before
    assert api.ok("GET", f"/v1/reservations/{res_id}")["status"] == "held"
    assert api.ok("GET", "/v1/orgs/acme-org/projects/studio")["name"] == "Studio"


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_lists_and_settings_never_show_another_scopes_data(api: Harness, outsider: str) -> None:
    _setup(api)
    api.ok("PUT", "/v1/settings", {"default_rate_card": "acme-card"})
    assert api.ok("GET", "/v1/orgs", who=outsider)["data"] == []
    assert api.ok("GET", "/v1/limits", who=outsider)["data"] == []
    assert api.ok("GET", "/v1/settings", who=outsider)["default_rate_card"] is None
    assert api.ok("GET", "/v1/usage", who=outsider)["data"] == []


def test_the_same_ids_in_two_tenants_are_two_separate_resources(api: Harness) -> None:
    api.tree(credits="10")
    api.tree(credits="3", who="rival-live-admin")
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["granted"] == "10.000000000"
    assert api.ok("GET", "/v1/orgs/acme-org/balance",
                  who="rival-live-admin")["granted"] == "3.000000000"
