"""Structure sources: the embedded demo set, GNoME, the Materials Project and local files.

Every source yields :class:`StructureRecord` objects one at a time. GNoME records arrive
without their structure (metadata first, so that the filter can reject most of them without
parsing a CIF); :func:`load_structures` fills what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hts_z2.structures.sources.records import SOURCES, StructureRecord

__all__ = ["SOURCES", "SourceSpec", "StructureRecord", "iter_source", "load_structures"]


@dataclass
class SourceSpec:
    """What to read: a source name, its paths/ids and source options.

    Attributes
    ----------
    kind : one of ``demo``, ``gnome``, ``mp``, ``files``.
    paths : files/directories (``files``), the release directory (``gnome``, first path) or
        embedded ids (``demo``; empty = all).
    ids : restrict ``gnome`` to these material ids.
    mp : keyword arguments of :class:`~hts_z2.structures.sources.mp.MPQuery`.
    limit : stop after this many records (None = all).
    """

    kind: str = "demo"
    paths: list[str] = field(default_factory=list)
    ids: list[str] | None = None
    mp: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCES:
            raise ValueError(f"unknown source {self.kind!r}; choose from {', '.join(SOURCES)}")
        if self.kind in ("gnome", "files") and not self.paths:
            raise ValueError(f"source {self.kind!r} needs at least one path")


def _records(spec: SourceSpec, mp_summary: Any = None) -> Iterator[StructureRecord]:
    if spec.kind == "demo":
        from hts_z2.structures.sources.demo import iter_demo

        return iter_demo(spec.paths or None)
    if spec.kind == "gnome":
        from hts_z2.structures.sources.gnome import iter_gnome

        return iter_gnome(spec.paths[0], spec.ids)
    if spec.kind == "files":
        from hts_z2.structures.sources.local import iter_files

        return iter_files(spec.paths)
    from hts_z2.structures.sources.mp import MPQuery, iter_mp

    return iter_mp(MPQuery(**spec.mp), summary=mp_summary)


def iter_source(spec: SourceSpec, mp_summary: Any = None) -> Iterator[StructureRecord]:
    """Stream the records of a source (at most ``spec.limit``).

    Parameters
    ----------
    spec : SourceSpec
    mp_summary : optional stand-in for ``MPRester().materials.summary`` (tests).
    """
    for n, record in enumerate(_records(spec, mp_summary)):
        if spec.limit is not None and n >= spec.limit:
            return
        yield record


def load_structures(records: Iterable[StructureRecord]) -> None:
    """Fill the missing structures in place; failures set ``record.error``, never raise."""
    pending = [r for r in records if r.structure is None and r.error is None]
    gnome = [r for r in pending if r.source == "gnome"]
    if gnome:
        from hts_z2.structures.sources.gnome import load_gnome

        load_gnome(gnome)
    for record in pending:
        if record.source == "gnome":
            continue
        try:
            if record.source == "demo":
                from hts_z2.structures.sources.demo import load_demo

                load_demo(record)
            elif record.source == "files":
                from hts_z2.structures.sources.local import load_file

                load_file(record)
            else:
                record.error = "structure missing from the reference"
        except Exception as err:
            record.error = f"cannot re-read {record.material_id}: {str(err)[:300]}"
