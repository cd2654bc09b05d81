"""The candidate filter: which structures are worth a Hamiltonian and a Z2 calculation.

Defaults follow the Uni-HamGNN screening of GNoME: at least one element with Z > 70, no
magnetic elements or magnetic ordering (Z2 needs time reversal), ordered sites only, every
element inside the model's basis, and a bounded cell size. Every rejection has a reason.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pymatgen.core import Element, Structure

from hts_z2.structures.chemistry import HEAVY_Z, MAGNETIC_ELEMENTS


@dataclass(frozen=True)
class CandidateFilter:
    """Configurable candidate criteria.

    Attributes
    ----------
    heavy_z : require an element with Z above this (None: no requirement).
    exclude_magnetic : reject magnetic elements and magnetic orderings.
    magnetic_elements : the elements treated as magnetic.
    max_sites : reject cells with more sites (None: no limit).
    allow_partial_occupancy : accept disordered structures (off: Z2 needs an ordered cell).
    """

    heavy_z: int | None = HEAVY_Z
    exclude_magnetic: bool = True
    magnetic_elements: frozenset[str] = MAGNETIC_ELEMENTS
    max_sites: int | None = 24
    allow_partial_occupancy: bool = False

    def check_metadata(
        self,
        elements: Collection[str] | None,
        nsites: int | None,
        model_elements: Collection[int] | None = None,
        ordering: str | None = None,
    ) -> str | None:
        """Reason to reject from metadata alone (None = not rejected yet).

        Parameters
        ----------
        elements : element symbols, or None when unknown.
        nsites : sites in the cell, or None when unknown.
        model_elements : atomic numbers the model covers (None: no restriction).
        ordering : magnetic ordering as given by the source ("NM", "FM", ...).
        """
        if elements is not None:
            symbols = sorted(set(elements))
            try:
                numbers = {s: Element(s).Z for s in symbols}
            except ValueError as err:
                return f"unknown element: {err}"
            if self.heavy_z is not None and max(numbers.values(), default=0) <= self.heavy_z:
                return f"no element with Z > {self.heavy_z}"
            if self.exclude_magnetic:
                magnetic = [s for s in symbols if s in self.magnetic_elements]
                if magnetic:
                    return f"magnetic elements: {', '.join(magnetic)}"
            if model_elements is not None:
                outside = [s for s in symbols if numbers[s] not in model_elements]
                if outside:
                    return f"elements outside the model basis: {', '.join(outside)}"
        if self.exclude_magnetic and ordering not in (None, "", "NM", "Unknown"):
            return f"magnetic ordering {ordering}"
        if self.max_sites is not None and nsites is not None and nsites > self.max_sites:
            return f"{nsites} sites > max_sites {self.max_sites}"
        return None

    def check_structure(
        self, structure: Structure, model_elements: Collection[int] | None = None
    ) -> str | None:
        """Reason to reject a loaded structure (None = candidate): the metadata criteria,
        and :func:`~hts_z2.structures.sanity.physical_problem` (degenerate cells,
        overlapping atoms, slabs and molecules in boxes)."""
        from hts_z2.structures.sanity import physical_problem

        if not self.allow_partial_occupancy and not structure.is_ordered:
            return "partial occupancy (disordered sites)"
        symbols = sorted({el.symbol for el in structure.composition.elements})
        reason = self.check_metadata(symbols, len(structure), model_elements)
        return reason or physical_problem(structure)
