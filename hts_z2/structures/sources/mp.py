"""Materials Project structures through ``mp-api``, queried in chunks.

The query is split by heavy element (one ``summary.search`` per element), so every call
returns a bounded set and records are yielded as they arrive; ids seen in an earlier
element's query are not repeated. GNoME materials hosted by MP are excluded with
``include_gnome=False`` when a GNoME source is screened as well (the server filters them by
batch id; a document that still carries a GNoME batch id is dropped too). ``FIELDS`` are
fields the summary endpoint serves: mp-api refuses a query for any other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymatgen.analysis.magnetism import Ordering
from pymatgen.core import Element, Structure

from hts_z2.structures.chemistry import HEAVY_Z, MAGNETIC_ELEMENTS
from hts_z2.structures.sources.records import StructureRecord

FIELDS = (
    "material_id",
    "formula_pretty",
    "elements",
    "nsites",
    "symmetry",
    "structure",
    "energy_above_hull",
    "band_gap",
    "is_metal",
    "ordering",
)
GNOME_BATCH = "gnome"


class MPError(RuntimeError):
    """The Materials Project cannot be queried (no key, offline, API error)."""


class SummarySearch(Protocol):
    """What this module needs of ``MPRester().materials.summary``."""

    def search(self, **kwargs: Any) -> list[Any]: ...


@dataclass
class MPQuery:
    """Filters of an MP campaign (defaults follow the heavy-element screening).

    Attributes
    ----------
    heavy_elements : elements one of which every material must contain; default all
        non-magnetic elements with Z > 70 (one query each).
    exclude_elements : never returned (default the magnetic elements).
    max_sites : upper bound of ``num_sites``.
    max_energy_above_hull : eV/atom.
    is_metal : pass False to let MP drop its own metals (None: no filter).
    magnetic_ordering : MP's ``ordering`` ("NM" keeps non-magnetic materials), passed to
        the client as pymatgen's ``Ordering``, the type mp-api's ``search`` takes.
    include_gnome : also return the GNoME materials MP hosts.
    chunk_size : documents per API page.
    """

    heavy_elements: Sequence[str] | None = None
    exclude_elements: Sequence[str] = field(default_factory=lambda: sorted(MAGNETIC_ELEMENTS))
    max_sites: int | None = 24
    max_energy_above_hull: float | None = 0.1
    is_metal: bool | None = None
    magnetic_ordering: str | None = "NM"
    include_gnome: bool = True
    chunk_size: int = 1000

    def elements_to_query(self) -> list[str]:
        """The heavy elements, one query each."""
        if self.heavy_elements:
            return list(self.heavy_elements)
        excluded = set(self.exclude_elements)
        heavy = (Element.from_Z(z).symbol for z in range(HEAVY_Z + 1, 95))
        return [el for el in heavy if el not in excluded]

    def search_kwargs(self, element: str) -> dict[str, Any]:
        """Keyword arguments of ``summary.search`` for the materials containing ``element``."""
        kwargs: dict[str, Any] = {
            "elements": [element],
            "exclude_elements": list(self.exclude_elements) or None,
            "num_sites": None if self.max_sites is None else (1, self.max_sites),
            "energy_above_hull": (
                None if self.max_energy_above_hull is None else (0.0, self.max_energy_above_hull)
            ),
            "is_metal": self.is_metal,
            "magnetic_ordering": None if self.magnetic_ordering is None
            else Ordering(self.magnetic_ordering),  # the client reads its .value
            "include_gnome": self.include_gnome,
            "chunk_size": self.chunk_size,
            "fields": list(FIELDS),
        }
        return {k: v for k, v in kwargs.items() if v is not None}


def connect(api_key: str | None = None) -> SummarySearch:
    """``MPRester(api_key).materials.summary``; the key defaults to ``MP_API_KEY``.

    Raises
    ------
    MPError
        When mp-api is not installed or no key is available.
    """
    key = api_key or os.environ.get("MP_API_KEY")
    if not key:
        raise MPError("no Materials Project API key: set MP_API_KEY or pass --mp-api-key")
    try:
        from mp_api.client import MPRester
    except ImportError as err:
        raise MPError("the MP source needs mp-api: pip install 'hts-z2[mp]'") from err
    try:
        return MPRester(key, mute_progress_bars=True).materials.summary
    except Exception as err:
        raise MPError(f"cannot connect to the Materials Project: {_clean(err, key)}") from err


def _get(doc: Any, name: str) -> Any:
    return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)


def _clean(err: Exception, key: str | None) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text.replace(key, "***") if key else text


def doc_record(doc: Any) -> StructureRecord:
    """A record from one summary document (object or dict)."""
    structure = _get(doc, "structure")
    if isinstance(structure, dict):
        structure = Structure.from_dict(structure)
    symmetry = _get(doc, "symmetry")
    number = _get(symmetry, "number") if symmetry is not None else None
    ordering = _get(doc, "ordering")
    meta = {
        "energy_above_hull": _get(doc, "energy_above_hull"),
        "band_gap": _get(doc, "band_gap"),
        "is_metal": _get(doc, "is_metal"),
        "ordering": None if ordering is None else str(getattr(ordering, "value", ordering)),
        "batch_id": _get(doc, "batch_id"),
    }
    elements = _get(doc, "elements")
    return StructureRecord(
        material_id=str(_get(doc, "material_id")),
        source="mp",
        structure=structure,
        formula=_get(doc, "formula_pretty"),
        elements=None if elements is None else sorted(str(e) for e in elements),
        nsites=_get(doc, "nsites"),
        spacegroup=None if number is None else int(number),
        meta=meta,
    )


def iter_mp(
    query: MPQuery | None = None,
    summary: SummarySearch | None = None,
    api_key: str | None = None,
) -> Iterator[StructureRecord]:
    """Records of the MP materials matching ``query``, one heavy element at a time.

    Parameters
    ----------
    query : MPQuery, optional
        Filters (defaults: heavy, non-magnetic, stable-ish, at most 24 sites).
    summary : object with ``search(**kwargs)``, optional
        ``MPRester(...).materials.summary`` or a stand-in; default :func:`connect`.
    api_key : str, optional
        Overrides ``MP_API_KEY``.

    Raises
    ------
    MPError
        No key, mp-api missing, or the API cannot be reached (the key is never shown).
    """
    query = query or MPQuery()
    summary = summary if summary is not None else connect(api_key)
    key = api_key or os.environ.get("MP_API_KEY")
    seen: set[str] = set()
    for element in query.elements_to_query():
        try:
            docs = summary.search(**query.search_kwargs(element))
        except MPError:
            raise
        except Exception as err:
            raise MPError(
                f"Materials Project query for {element} failed (offline?): {_clean(err, key)}"
            ) from err
        for doc in docs:
            record = doc_record(doc)
            if record.material_id in seen:
                continue
            seen.add(record.material_id)
            if not query.include_gnome and str(record.meta.get("batch_id") or "").startswith(
                GNOME_BATCH
            ):
                continue
            yield record
