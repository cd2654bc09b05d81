"""Shared test configuration: ``tests/`` is importable (``toy_model``)."""
