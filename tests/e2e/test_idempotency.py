"""Idempotency-Key on every state-changing call: ten identical requests at once have one
effect and get identical answers; the key with another body is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import VIDEO_CARD, Harness

Effect = Callable[[Harness], Any]


def _balance(field: str) -> Effect:
    return lambda api: api.ok("GET", "/v1/orgs/acme-org/balance")[field]


def _reservation(api: Harness) -> str:
    res = api.ok("POST", "/v1/reservations", {"org": "acme-org",
                                              "items": [{"ref": "a", "amount": "2"}]})
    return str(res["id"])


def _audit_rows(api: Harness) -> int:
    with api.runtime.store.read() as tx:
        return int(tx.one("SELECT COUNT(*) FROM audit_log")[0])


# name -> (method, path or path factory, body, effect observed after)
CASES: dict[str, tuple[str, Any, object, Effect]] = {
    "put org": ("PUT", "/v1/orgs/new-org", {"name": "N"},
                lambda api: len(api.ok("GET", "/v1/orgs")["data"])),
    "put project": ("PUT", "/v1/orgs/acme-org/projects/p2", {"name": "P"},
                    lambda api: len(api.ok("GET", "/v1/orgs/acme-org/projects")["data"])),
    "put user": ("PUT", "/v1/orgs/acme-org/projects/studio/users/bo", {},
                 lambda api: len(api.ok("GET",
                                        "/v1/orgs/acme-org/projects/studio/users")["data"])),
    "grant": ("POST", "/v1/orgs/acme-org/grants", {"amount": "7"}, _balance("granted")),
    "limit": ("PUT", "/v1/limits/cap", {"org": "acme-org", "meter": "credits", "amount": "5",
                                        "window": "day"},
              lambda api: len(api.ok("GET", "/v1/limits")["data"])),
    "reserve": ("POST", "/v1/reservations", {"org": "acme-org",
                                             "items": [{"ref": "a", "amount": "3"}]},
                _balance("held")),
    "commit": ("POST", lambda api: f"/v1/reservations/{_reservation(api)}/commit",
               {"items": [{"ref": "a", "amount": "1.5"}]}, _balance("spent")),
    "release": ("POST", lambda api: f"/v1/reservations/{_reservation(api)}/release", None,
                _balance("held")),
    "rate card version": ("POST", "/v1/rate-cards/list/versions", VIDEO_CARD,
                          lambda api: len(api.ok("GET", "/v1/rate-cards/list")["versions"])),
    "settings": ("PUT", "/v1/settings", {"default_ttl_seconds": 99}, _audit_rows),
    "usage": ("POST", "/v1/usage", {"events": [{"id": "u-1", "org": "acme-org",
                                                "amount": "1"}]}, _balance("spent")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_identical_requests_at_once_have_one_effect_and_one_answer(
        api: Harness, case: str) -> None:
    api.tree(credits="100")
    method, path, body, effect = CASES[case]
    url = path(api) if callable(path) else path
    answers = api.concurrently([(method, url, body, api.headers(**{"Idempotency-Key": "k-1"}))
                                for _ in range(10)])
    assert len({(r.status_code, r.text) for r in answers}) == 1, [r.text for r in answers]
    assert answers[0].status_code < 300, answers[0].text
    replays = [r.headers.get("Idempotent-Replayed") for r in answers]
    assert replays.count("true") == 9
    after_burst = effect(api)
    # Once more, later, with the same key: the same answer again and still no new effect.
    late = api.call(method, url, body, headers={"Idempotency-Key": "k-1"})
    assert (late.status_code, late.text) == (answers[0].status_code, answers[0].text)
    assert late.headers["Idempotent-Replayed"] == "true"
    assert effect(api) == after_burst
    # And a fresh key is a fresh request (proving the effect was counted once, not zero).
    if case in ("grant", "usage", "rate card version"):
        fresh_body = ({"events": [{"id": "u-2", "org": "acme-org", "amount": "1"}]}
                      if case == "usage" else body)
        api.clock.advance(10)
        api.ok(method, url, fresh_body)
        assert effect(api) != after_burst


@pytest.mark.parametrize("case", ["grant", "settings", "reserve"])
def test_the_same_key_with_another_body_is_refused_and_changes_nothing(
        api: Harness, case: str) -> None:
    api.tree(credits="100")
    method, path, body, effect = CASES[case]
    first = api.call(method, path, body, headers={"Idempotency-Key": "k-2"})
    assert first.status_code < 300
    before = effect(api)
    other = {**body, "metadata": {"x": 1}} if case != "settings" else {
        "default_ttl_seconds": 5}  # type: ignore[dict-item]
    again = api.call(method, path, other, headers={"Idempotency-Key": "k-2"})
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "idempotency_mismatch"
    assert effect(api) == before
    assert api.ok("GET", "/v1/settings")["default_ttl_seconds"] in (99, 300)


def test_a_key_used_on_another_route_is_a_mismatch(api: Harness) -> None:
    api.tree()
    api.ok("POST", "/v1/orgs/acme-org/grants", {"amount": "1"})
    first = api.call("PUT", "/v1/settings", {}, headers={"Idempotency-Key": "shared"})
    assert first.status_code == 200
    again = api.call("POST", "/v1/orgs/acme-org/grants", {"amount": "1"},
                     headers={"Idempotency-Key": "shared"})
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "idempotency_mismatch"
    assert api.ok("GET", "/v1/orgs/acme-org/balance")["granted"] == "101.000000000"
