"""Fixtures of the validate tests: the stored result documents and reference paths."""

import json

import pytest
from validate_paths import DATA, REFS  # noqa: F401


@pytest.fixture
def docs() -> list[dict]:
    return json.loads((DATA / "results.json").read_text())
