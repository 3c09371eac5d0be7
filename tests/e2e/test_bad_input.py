"""Bad input is a 4xx error object naming the param, and changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness

BAD_AMOUNTS = ["1e3", "NaN", "", "-1", "0.0000000001", "1000000000.1", "Infinity", " 1",
               "01", "1.", ".5", "0"]
BAD_JSON_AMOUNTS: list[object] = [1, 1.5, None, True, [], {}]


def _unchanged(api: Harness) -> dict[str, object]:
    return api.ok("GET", "/v1/orgs/acme-org/balance")


@pytest.mark.parametrize("amount", [*BAD_AMOUNTS, *BAD_JSON_AMOUNTS])
def test_a_bad_grant_amount_is_refused_naming_amount(lite: Harness, amount: object) -> None:
    lite.tree()
    before = _unchanged(lite)
    r = lite.call("POST", "/v1/orgs/acme-org/grants", {"amount": amount})
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["type"] == "invalid_request"
    assert r.json()["error"]["param"] == "amount"
    assert _unchanged(lite) == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_bad_reservation_amount_is_refused_naming_the_item(lite: Harness, amount: str) -> None:
    lite.tree()
    r = lite.call("POST", "/v1/reservations", {"org": "acme-org", "items": [
        {"ref": "ok", "amount": "1"}, {"ref": "bad", "amount": amount}]})
    assert r.status_code in (400, 422)
    assert r.json()["error"]["param"] == "items[1].amount"
    assert _unchanged(lite)["held"] == "0.000000000"


@pytest.mark.parametrize("amount", ["1e3", "NaN", "-1", "0.0000000001", "2000000000"])
def test_a_bad_commit_amount_is_refused_and_the_hold_stays(lite: Harness, amount: str) -> None:
    lite.tree()
    res = lite.ok("POST", "/v1/reservations", {"org": "acme-org",
                                               "items": [{"ref": "a", "amount": "1"}]})
    r = lite.call("POST", f"/v1/reservations/{res['id']}/commit",
                  {"items": [{"ref": "a", "amount": amount}]})
    assert r.status_code in (400, 422)
    assert r.json()["error"]["param"] == "items[0].amount"
    assert lite.ok("GET", f"/v1/reservations/{res['id']}")["status"] == "held"


@pytest.mark.parametrize(("body", "param"), [
    ({"items": [{"ref": "a", "amount": "1"}]}, "org"),
    ({"org": "bad id!", "items": [{"ref": "a", "amount": "1"}]}, "org"),
    ({"org": "acme-org", "user": "ana", "items": [{"ref": "a", "amount": "1"}]}, "project"),
    ({"org": "acme-org", "items": []}, "items"),
    ({"org": "acme-org", "items": [{"ref": "a"}]}, "items[0].amount"),
    ({"org": "acme-org", "items": [{"ref": "a", "amount": "1", "usage": {}}]},
     "items[0].usage"),
    ({"org": "acme-org", "items": [{"ref": "a", "amount": "1"}, {"ref": "a",
                                                                 "amount": "1"}]},
     "items[1].ref"),
    ({"org": "acme-org", "policy": "some", "items": [{"ref": "a", "amount": "1"}]}, "policy"),
    ({"org": "acme-org", "ttl_seconds": 0, "items": [{"ref": "a", "amount": "1"}]},
     "ttl_seconds"),
    ({"org": "acme-org", "items": [{"ref": "a", "usage": {"meter": "video", "model": "m",
                                                          "seconds": 2_000_000_000}}]},
     "items[0].usage.seconds"),
    ({"org": "acme-org", "items": [{"ref": "a", "usage": {"meter": "video", "model": "m",
                                                          "seconds": -1}}]},
     "items[0].usage.seconds"),
    ({"org": "acme-org", "items": [{"ref": "a", "options": []}]}, "items[0].options"),
    ({"org": "acme-org", "colour": "red", "items": [{"ref": "a", "amount": "1"}]}, "colour"),
])
def test_a_bad_reservation_names_the_param(lite: Harness, body: dict[str, object],
                                           param: str) -> None:
    lite.tree()
    r = lite.call("POST", "/v1/reservations", body)
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["param"] == param
    assert _unchanged(lite)["held"] == "0.000000000"


def test_unknown_org_project_or_user_in_a_body_is_404(lite: Harness) -> None:
    lite.tree()
    lite.ok("PUT", "/v1/orgs/acme-org/projects/other", {})
    for path in ({"org": "ghost"}, {"org": "acme-org", "project": "ghost"},
                 {"org": "acme-org", "project": "studio", "user": "ghost"},
                 {"org": "acme-org", "project": "other", "user": "ana"}):
        r = lite.call("POST", "/v1/reservations",
                      {**path, "items": [{"ref": "a", "amount": "1"}]})
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["type"] == "not_found"
        limit = lite.call("PUT", "/v1/limits/l", {**path, "meter": "credits", "amount": "1",
                                                  "window": "day"})
        assert limit.status_code == 404
    assert lite.ok("GET", "/v1/limits")["data"] == []


def test_commit_on_a_released_reservation_is_409_and_changes_nothing(lite: Harness) -> None:
    lite.tree()
    res = lite.ok("POST", "/v1/reservations", {"org": "acme-org",
                                               "items": [{"ref": "a", "amount": "1"}]})
    lite.ok("POST", f"/v1/reservations/{res['id']}/release")
    r = lite.call("POST", f"/v1/reservations/{res['id']}/commit",
                  {"items": [{"ref": "a", "amount": "1"}]})
    assert r.status_code == 409
    assert r.json()["error"] == {"type": "conflict", "code": "reservation_released",
                                 "message": r.json()["error"]["message"], "param": None}
    assert _unchanged(lite)["spent"] == "0.000000000"


def test_committing_an_item_the_reservation_lacks_is_refused(lite: Harness) -> None:
    lite.tree()
    res = lite.ok("POST", "/v1/reservations", {"org": "acme-org",
                                               "items": [{"ref": "a", "amount": "1"}]})
    r = lite.call("POST", f"/v1/reservations/{res['id']}/commit",
                  {"items": [{"ref": "zzz", "amount": "1"}]})
    assert (r.status_code, r.json()["error"]["param"]) == (400, "items")


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b"null", b'{"amount": NaN}', b"\xff\xfe",
                                 b'"text"'])
def test_malformed_json_is_a_400_error_object(lite: Harness, raw: bytes) -> None:
    lite.tree()
    r = lite.client.request("POST", "/v1/orgs/acme-org/grants", content=raw,
                            headers={**lite.headers(), "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request"
    assert r.json()["error"]["param"] == "body"


def test_a_huge_exponent_quantity_is_refused_not_rounded(lite: Harness) -> None:
    lite.tree()
    raw = (b'{"org": "acme-org", "items": [{"ref": "a", "usage": '
           b'{"meter": "video", "model": "m", "seconds": 1.5e400}}]}')
    r = lite.client.request("POST", "/v1/reservations", content=raw,
                            headers={**lite.headers(), "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["param"] == "items[0].usage.seconds"


def test_an_over_long_idempotency_key_is_refused(lite: Harness) -> None:
    lite.tree()
    r = lite.call("POST", "/v1/orgs/acme-org/grants", {"amount": "1"},
                  headers={"Idempotency-Key": "k" * 300})
    assert (r.status_code, r.json()["error"]["param"]) == (400, "Idempotency-Key")
