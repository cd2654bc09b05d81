"""Shared test configuration: ``tests/`` is importable (``toy_model``), and no test starts a
plane-wave first-principles run unless it asks for one (``dft_allowed``): a campaign's
confirmation of an uncached candidate would otherwise run GPAW for minutes to hours."""

import os

import pytest

os.environ["HTS_Z2_DFT"] = "off"


@pytest.fixture
def dft_allowed(monkeypatch):
    """Let this test run GPAW (known-answer tests at reduced settings)."""
    monkeypatch.setenv("HTS_Z2_DFT", "on")
