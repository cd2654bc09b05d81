"""Loader for the embedded structure set shipped in ``hts_z2/data/structures/embedded.json``.

The file is generated from ``hts_z2.structures.catalog`` (``python -m
hts_z2.structures.catalog``). Every call returns fresh ``Structure`` objects, so callers may
modify what they get without affecting later loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from pymatgen.core import Structure

__all__ = ["EmbeddedEntry", "get_embedded", "load_embedded", "read_records"]


@dataclass(frozen=True)
class EmbeddedEntry:
    """One literature structure of the embedded set.

    Attributes
    ----------
    id : str
        Slug such as ``"Bi2Se3-R-3m"``.
    formula : str
        Reduced formula.
    structure : Structure
        Primitive cell (Å), built from the conventional ``lattice_parameters``.
    spacegroup : int
        International space-group number.
    source : str
        Literature citation of the lattice parameters and positions.
    category : str
        ``"TI"``, ``"TCI"``, ``"trivial"``, ``"semimetal"`` or ``"metal"``.
    expected_label : str or None
        Z2 label established in the literature, e.g. ``"STI (1;000)"``; weak indices refer
        to the stored primitive cell. None where not established or not applicable.
    notes : str
        Free-text remarks (caveats, related references).
    lattice_parameters : tuple of float
        Conventional (a, b, c, alpha, beta, gamma) used to build the structure, Å and degrees.
    conditions : str
        ``"ambient"``, or where the stored phase exists (high-temperature phases).
    """

    id: str
    formula: str
    structure: Structure = field(compare=False)
    spacegroup: int
    source: str
    category: str
    expected_label: str | None
    notes: str
    lattice_parameters: tuple[float, float, float, float, float, float]
    conditions: str = "ambient"


def read_records() -> list[dict[str, Any]]:
    """Raw JSON records of the embedded set, in file order."""
    resource = files("hts_z2") / "data" / "structures" / "embedded.json"
    text = resource.read_text(encoding="utf-8")
    return json.loads(text)["entries"]


def _entry(record: dict[str, Any]) -> EmbeddedEntry:
    lp = record["lattice_parameters"]
    return EmbeddedEntry(
        id=record["id"],
        formula=record["formula"],
        structure=Structure.from_dict(record["structure"]),
        spacegroup=int(record["spacegroup"]),
        source=record["source"],
        category=record["category"],
        expected_label=record["expected_label"],
        notes=record["notes"],
        lattice_parameters=(lp["a"], lp["b"], lp["c"], lp["alpha"], lp["beta"], lp["gamma"]),
        conditions=record.get("conditions", "ambient"),
    )


def load_embedded() -> list[EmbeddedEntry]:
    """All entries of the embedded structure set, in catalogue order.

    Returns
    -------
    list of EmbeddedEntry
        Fresh objects on every call.
    """
    return [_entry(record) for record in read_records()]


def get_embedded(id: str) -> EmbeddedEntry:
    """One entry by id.

    Parameters
    ----------
    id : str
        Entry id, e.g. ``"Bi2Se3-R-3m"``.

    Returns
    -------
    EmbeddedEntry

    Raises
    ------
    KeyError
        If no entry has that id; the message lists the available ids.
    """
    records = read_records()
    for record in records:
        if record["id"] == id:
            return _entry(record)
    available = ", ".join(record["id"] for record in records)
    raise KeyError(f"no embedded structure {id!r}; available: {available}")
