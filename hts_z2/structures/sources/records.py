"""The record every structure source yields, and how a record is re-read from its reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Structure

SOURCES = ("demo", "gnome", "mp", "files")
"""Names of the structure sources."""


@dataclass
class StructureRecord:
    """One material as read from a source, before any physics.

    Attributes
    ----------
    material_id : str
        Identifier within the source (GNoME ``MaterialId``, ``mp-149``, file stem, demo id).
    source : str
        One of :data:`SOURCES`.
    structure : Structure or None
        The crystal; None when it is not loaded yet (see ``locator``) or could not be read.
    formula : str or None
        Reduced formula.
    elements : list of str or None
        Element symbols (from metadata when the structure is not loaded yet).
    nsites : int or None
        Sites in the cell.
    spacegroup : int or None
        International number, when the source provides it.
    locator : str or None
        Where to re-read the structure (file path, zip member); None when it is inline.
    meta : dict
        Source-specific metadata (GNoME summary columns, MP fields, ...).
    error : str or None
        Why the record could not be read; such records are stored as ``failed``.
    """

    material_id: str
    source: str
    structure: Structure | None = None
    formula: str | None = None
    elements: list[str] | None = None
    nsites: int | None = None
    spacegroup: int | None = None
    locator: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        if self.structure is not None:
            self.fill_from_structure(self.structure)

    def fill_from_structure(self, structure: Structure) -> None:
        """Set the structure and derive the missing formula, elements and nsites."""
        self.structure = structure
        comp = structure.composition
        self.formula = self.formula or comp.reduced_formula
        self.elements = self.elements or sorted(el.symbol for el in comp.elements)
        self.nsites = self.nsites or len(structure)

    def to_ref(self, inline: bool = False) -> dict[str, Any]:
        """A small JSON-able reference a remote job can re-read the record from.

        Parameters
        ----------
        inline : bool
            Embed the structure (``as_dict``) instead of relying on ``locator``.
        """
        ref: dict[str, Any] = {
            "material_id": self.material_id,
            "source": self.source,
            "locator": self.locator,
            "formula": self.formula,
            "elements": self.elements,
            "nsites": self.nsites,
            "spacegroup": self.spacegroup,
            "meta": self.meta,
        }
        if inline or self.locator is None:
            ref["structure"] = None if self.structure is None else self.structure.as_dict()
        return ref

    @classmethod
    def from_ref(cls, ref: dict[str, Any]) -> StructureRecord:
        """Inverse of :meth:`to_ref`; the structure stays unloaded unless it was inline."""
        structure = ref.get("structure")
        return cls(
            material_id=ref["material_id"],
            source=ref["source"],
            structure=None if structure is None else Structure.from_dict(structure),
            formula=ref.get("formula"),
            elements=ref.get("elements"),
            nsites=ref.get("nsites"),
            spacegroup=ref.get("spacegroup"),
            locator=ref.get("locator"),
            meta=dict(ref.get("meta") or {}),
        )
