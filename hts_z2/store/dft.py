"""First-principles results, cached by (structure fingerprint, method, settings key).

Collection ``dft_results`` beside ``z2_results`` in the same store (embedded montydb or
MongoDB). A finished result is never replaced by a failed or skipped one, so a re-run
that fails (a node lost mid-SCF) cannot erase what was computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hts_z2.schemas.dft import DFT_COLLECTION, DftResult
from hts_z2.store.results import ResultStore, open_store

DFT_INDEXES: tuple = (
    ((("fingerprint", 1), ("method", 1), ("settings_key", 1)), {"unique": True, "name": "key"}),
    ((("material_id", 1),), {"name": "material_id"}),
    ((("label", 1),), {"name": "label"}),
    ((("formula", 1),), {"name": "formula"}),
)
"""Index definitions of ``dft_results`` (mirrored in ``database/indexes.json``)."""


class DftStore:
    """Cache of :class:`DftResult` documents.

    Parameters
    ----------
    results : a :class:`ResultStore` opened on collection ``dft_results``.
    """

    def __init__(self, results: ResultStore):
        self.results = results

    @property
    def location(self) -> str:
        return self.results.location

    def get(self, fingerprint: str, method: str, settings_key: str) -> DftResult | None:
        """The stored result under this key (any status), or None."""
        key = {"fingerprint": fingerprint, "method": method, "settings_key": settings_key}
        for doc in self.results.find(key, limit=1):
            return DftResult(**doc)
        return None

    def cached(
        self, fingerprint: str, method: str, settings_key: str, requested: str = "parity"
    ) -> DftResult | None:
        """A finished (``done``) result under this key that answers ``requested`` topology
        methods (default ``parity``, the label of record's; an ``auto`` result answers every
        request), or None."""
        found = self.get(fingerprint, method, settings_key)
        if found is None or found.status != "done":
            return None
        return found if found.requested in (requested, "auto") else None

    def put(self, result: DftResult) -> bool:
        """Store a result unless it would replace a better one: a finished result is never
        replaced by a failed one, nor an ``auto`` result by a narrower request. Returns
        whether it was written."""
        with self.results.exclusive():
            old = self.get(**result.key())
            if old is not None and old.status == "done":
                if result.status != "done":
                    return False
                if old.requested == "auto" and result.requested != "auto":
                    return False
            self.results.replace(result.key(), result.to_mongo())
        return True

    def put_many(self, results: Iterable[DftResult]) -> int:
        """:meth:`put` each; returns how many were written."""
        return sum(self.put(r) for r in results)

    def find(self, criteria: dict[str, Any] | None = None, limit: int = 0) -> Iterator[DftResult]:
        """Stored results matching a MongoDB filter."""
        for doc in self.results.find(criteria, limit=limit):
            yield DftResult(**doc)

    def for_material(self, material_id: str) -> list[DftResult]:
        """Every stored result of one material id."""
        return list(self.find({"material_id": material_id}))

    def count(self, criteria: dict[str, Any] | None = None) -> int:
        return self.results.count(criteria)

    def close(self) -> None:
        self.results.close()

    def __enter__(self) -> DftStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_dft_store(location: str | Path | None = None, **kwargs: Any) -> DftStore:
    """Open the first-principles cache in the result store at ``location`` (see
    :func:`hts_z2.store.open_store`); committed label-of-record results it does not hold yet
    are added (never replacing a result it has)."""
    store = DftStore(open_store(location, collection=DFT_COLLECTION, indexes=DFT_INDEXES,
                                **kwargs))
    committed = label_of_record_results()
    held = {(d["fingerprint"], d["settings_key"]) for d in store.results.find(
        {"method": {"$in": sorted({r.method for r in committed})}},
        projection={"fingerprint": 1, "settings_key": 1})}
    store.put_many(r for r in committed if (r.fingerprint, r.settings_key) not in held)
    return store


def label_of_record_results() -> list[DftResult]:
    """The committed plane-wave results of the embedded set
    (``hts_z2/data/label_of_record/results.json.gz``)."""
    from hts_z2.reference.planewave.record import RESULTS, load_results

    if not RESULTS.is_file():
        raise FileNotFoundError(f"the package lacks its label-of-record data ({RESULTS})")
    return list(load_results().values())
