"""Property-based fuzzing against the app's own OpenAPI document, in-process and bounded.

Whatever schemathesis sends: never a 5xx, every status documented, and every error in the
documented shape.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.e2e.harness import VIDEO_CARD, Harness, harness

ERROR_KEYS = {"type", "code", "message", "param"}


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Harness]:
    with harness(f"sqlite:///{tmp_path / 'fuzz.db'}", rate_limit_per_s=0) as api:
        api.tree()  # a little real data, so some generated ids hit something
        api.ok("POST", "/v1/rate-cards/list/versions", VIDEO_CARD)
        yield api


def test_no_input_makes_the_api_fail_or_break_its_contract(fuzzed: Harness) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.runtime.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    seen: dict[int, int] = {}
    for operation, mode in itertools.product(operations, list(GenerationMode)):

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            response = case.call_and_validate(
                headers=fuzzed.headers(),
                checks=[checks.not_a_server_error, checks.status_code_conformance,
                        checks.content_type_conformance, checks.response_schema_conformance],
            )
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}, body
                assert set(body["error"]) == ERROR_KEYS, body

        fuzz()
    # Both valid and invalid inputs were really sent and answered.
    assert sum(seen.values()) > 200, seen
    assert any(200 <= status < 300 for status in seen), seen
    assert seen.get(400, 0) + seen.get(422, 0) > 0, seen
