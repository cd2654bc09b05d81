"""The embedded literature set as a structure source."""

from __future__ import annotations

from collections.abc import Iterator

from hts_z2.structures.embedded import get_embedded, load_embedded
from hts_z2.structures.sources.records import StructureRecord


def iter_demo(ids: list[str] | None = None) -> Iterator[StructureRecord]:
    """Records of the embedded set (all, or the given ids in that order).

    Parameters
    ----------
    ids : list of str, optional
        Embedded ids such as ``"Bi2Se3-R-3m"``; an unknown id raises ``KeyError``.
    """
    entries = load_embedded() if not ids else [get_embedded(i) for i in ids]
    for entry in entries:
        yield StructureRecord(
            material_id=entry.id,
            source="demo",
            structure=entry.structure,
            formula=entry.formula,
            spacegroup=entry.spacegroup,
            locator=entry.id,
            meta={"category": entry.category, "expected_label": entry.expected_label},
        )


def load_demo(record: StructureRecord) -> None:
    """Fill ``record.structure`` from the embedded set (``locator`` is the embedded id)."""
    record.fill_from_structure(get_embedded(record.locator or record.material_id).structure)
