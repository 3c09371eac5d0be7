from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spendgate.metering.events import UsageEvent
from spendgate.reconcile import InputFile, ProviderMapping, load_mapping

DATA = Path(__file__).resolve().parents[2] / "data"
OPENAI_FILES = ("openai_usage_completions.jsonl", "openai_usage_images.json", "openai_costs.json")
ANTHROPIC_FILES = ("anthropic_usage_messages.json", "anthropic_cost_report.json")


def data_files(*names: str) -> list[InputFile]:
    return [InputFile.from_path(DATA / name) for name in names]


def read_pages(name: str) -> list[dict[str, Any]]:
    """A sample export as a list of pages (JSON or JSON Lines)."""
    text = (DATA / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def write_pages(path: Path, pages: list[dict[str, Any]]) -> InputFile:
    path.write_text("".join(json.dumps(page) + "\n" for page in pages))
    return InputFile.from_path(path)


def sample_events() -> list[UsageEvent]:
    lines = (DATA / "metered_events.jsonl").read_text().splitlines()
    return [UsageEvent.from_dict(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture
def mapping() -> ProviderMapping:
    return load_mapping(DATA / "mapping.yaml")


@pytest.fixture
def events() -> list[UsageEvent]:
    return sample_events()
