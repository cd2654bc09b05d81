"""Stored screening results: the one place that talks to the result store.

Everything else in :mod:`hts_z2.validate` works on plain result documents (dicts with
``material_id, formula, structure, model, status, gap, z2, ...``), so the comparison can
be tested, and run, without a store.
"""

from __future__ import annotations

import json
from pathlib import Path


class ResultsError(RuntimeError):
    """Stored results could not be loaded (message says why)."""


def load_results(
    db: str | None = None, results_file: Path | None = None, criteria: dict | None = None
) -> list[dict]:
    """Result documents from a JSON file (a list of documents) or from the store.

    Parameters
    ----------
    db : store URI or directory (None: the default embedded store).
    results_file : a JSON list of result documents; used instead of the store.
    criteria : query passed to the store (e.g. ``{"model.name": "..."}``).
    """
    if results_file is not None:
        try:
            docs = json.loads(Path(results_file).read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            msg = f"{results_file}: not a JSON list of result documents ({err})"
            raise ResultsError(msg) from err
        if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
            raise ResultsError(f"{results_file}: not a JSON list of result documents")
        return docs
    try:
        from hts_z2.store import open_store
    except ImportError as err:
        raise ResultsError(f"the result store is not available ({err}); use --results") from err
    try:
        store = open_store(db)
    except Exception as err:  # StoreUnavailableError, bad URI, unreachable server
        raise ResultsError(f"cannot open the result store: {err}") from err
    try:
        fetch = getattr(store, "find", None) or store.query  # ResultStore.find / contract query
        return list(fetch(criteria or {}))
    finally:
        store.close()
