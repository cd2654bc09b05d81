"""Paths of the validate fixtures."""

from pathlib import Path

DATA = Path(__file__).parent / "data"
REFS = DATA / "reference"
