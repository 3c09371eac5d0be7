"""The Hold's rules, over a scripted server: what commit sends, and what leaving releases."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from spendgate.client import Gate, InternalServerError, RetryPolicy


def reservation(status: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"id": "res_1", "status": status, "items": list(items)}


class Script:
    """Answers reserve with `reserved`, records commit/release bodies, fails release if told."""

    def __init__(self, reserved: dict[str, Any], release_status: int = 200) -> None:
        self.reserved = reserved
        self.release_status = release_status
        self.sent: list[tuple[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.sent.append((path, body))
        if path == "/v1/reservations":
            return httpx.Response(200, json=self.reserved)
        if path.endswith("/release"):
            if self.release_status != 200:
                etype = "conflict" if self.release_status == 409 else "internal"
                return httpx.Response(self.release_status, json={"error": {
                    "type": etype, "code": "reservation_expired", "message": "gone"}})
            return httpx.Response(200, json={**self.reserved, "status": "released"})
        return httpx.Response(200, json={**self.reserved, "status": "committed"})

    def paths(self) -> list[str]:
        return [p.rsplit("/", 1)[-1] for p, _ in self.sent]


def gate(script: Script) -> Gate:
    return Gate("http://spendgate.test", transport=httpx.MockTransport(script),
                retry=RetryPolicy.none())


HELD = {"ref": "item", "status": "held", "option": 0, "amount": "2.000000000"}


def test_a_single_actual_is_charged_to_the_only_held_item() -> None:
    script = Script(reservation("held", HELD))
    with gate(script).reserve("acme", amount="2") as hold:
        hold.commit("1.5")
    assert script.sent[-1][1] == {"items": [{"ref": "item", "amount": "1.5"}]}
    assert script.paths() == ["reservations", "commit"]  # no release after a commit


def test_a_usage_actual_is_sent_as_usage() -> None:
    script = Script(reservation("held", HELD))
    with gate(script).reserve("acme", usage={"meter": "image", "model": "m", "count": 2}) as h:
        h.commit({"meter": "image", "model": "m", "count": 1})
    assert script.sent[-1][1] == {"items": [
        {"ref": "item", "usage": {"meter": "image", "model": "m", "count": 1}}]}


def test_a_batch_needs_a_ref_or_items_to_commit_one_actual() -> None:
    shots = [{**HELD, "ref": "a"}, {**HELD, "ref": "b"}]
    script = Script(reservation("held", *shots))
    hold = gate(script).reserve("acme", items=[{"ref": "a", "amount": "2"},
                                               {"ref": "b", "amount": "2"}])
    with pytest.raises(TypeError):
        hold.commit("1")
    hold.commit("1", ref="b")
    assert script.sent[-1][1] == {"items": [{"ref": "b", "amount": "1"}]}


def test_committing_without_an_actual_charges_the_held_options_estimate() -> None:
    held = {**HELD, "option": 1, "usage": {"meter": "video", "model": "fast", "seconds": 8}}
    script = Script(reservation("held", held))
    with gate(script).reserve("acme", usage={"meter": "video", "model": "slow",
                                             "seconds": 8}) as hold:
        hold.commit()
    assert script.sent[-1][1] == {"items": [
        {"ref": "item", "usage": {"meter": "video", "model": "fast", "seconds": 8}}]}


def test_an_expired_hold_is_not_an_error_on_the_way_out() -> None:
    script = Script(reservation("held", HELD), release_status=409)
    with gate(script).reserve("acme", amount="2"):
        pass
    assert script.paths() == ["reservations", "release"]


def test_a_failed_release_does_not_mask_the_error_that_left_the_block() -> None:
    script = Script(reservation("held", HELD), release_status=500)
    with pytest.raises(KeyError) as caught, gate(script).reserve("acme", amount="2"):
        raise KeyError("the job broke")
    assert any("releasing hold res_1 failed too" in note
               for note in getattr(caught.value, "__notes__", []))


def test_a_failed_release_after_a_quiet_block_is_raised() -> None:
    script = Script(reservation("held", HELD), release_status=500)
    with pytest.raises(InternalServerError), gate(script).reserve("acme", amount="2"):
        pass


def test_a_denied_reservation_is_left_alone() -> None:
    denied = {"ref": "item", "status": "denied", "option": None, "amount": None,
              "denied_by": {"level": "org", "reason": "insufficient_funds"}}
    script = Script(reservation("denied", denied))
    with gate(script).reserve("acme", amount="2") as hold:
        assert not hold.funded
    assert script.paths() == ["reservations"]
