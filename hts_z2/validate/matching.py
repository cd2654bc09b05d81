"""Match reference entries to stored results and relate their cells.

Matching: by material id; else, when the reference gives its structure, by
``pymatgen.analysis.structure_matcher.StructureMatcher`` against the stored structures of
the same reduced formula; else (table rows with only a ``formula``) by reduced formula
when that is unambiguous.

Cell check: weak indices refer to the reciprocal basis of the cell used. With the
reference cell ``a'_i = sum_j M_ij a_j`` (``M`` from ``StructureMatcher.get_transformation``)
and ``M`` integer with ``|det M| = 1``, a weak-index vector transforms like the
reciprocal lattice vector ``G = sum_j nu_j b_j``: ``nu'_i = G . a'_i / 2 pi = sum_j M_ij
nu_j (mod 2)``. Any other relation (a supercell such as conventional vs primitive, or no
relation found) leaves only ``nu0`` comparable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from hts_z2.validate.reference import Reference


@dataclass
class Match:
    """Outcome of matching one reference.

    Attributes
    ----------
    doc : the stored result document, or None.
    how : ``"material_id"``, ``"structure"`` or ``"formula"`` (None when unmatched).
    cell : ``"same"``, ``"assumed"`` (no reference structure), ``"transformed"`` or
        ``"differs"`` (only nu0 comparable).
    transform : integer matrix ``M`` (reference cell = ``M`` x stored cell), when known.
    """

    doc: dict | None = None
    how: str | None = None
    cell: str = "assumed"
    transform: np.ndarray | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _structure(doc: dict):
    from pymatgen.core import Structure

    try:
        return Structure.from_dict(doc["structure"])
    except Exception:  # missing or malformed stored structure
        return None


def _formula(doc: dict) -> str | None:
    st = _structure(doc) if doc.get("structure") else None
    return st.composition.reduced_formula if st is not None else doc.get("formula")


def _reduced(formula: str) -> str:
    from pymatgen.core import Composition

    try:
        return Composition(formula).reduced_formula
    except Exception:  # not a formula
        return formula


def _one(docs: list[dict], what: str, match: Match, how: str) -> Match:
    if len(docs) > 1:
        models = sorted({str((d.get("model") or {}).get("name")) for d in docs})
        match.errors.append(
            f"{what}: {len(docs)} stored results ({', '.join(d['material_id'] for d in docs)}; "
            f"models {', '.join(models)}); choose a model with --model"
        )
        return match
    match.doc, match.how = docs[0], how
    return match


def find_match(ref: Reference, docs: list[dict]) -> Match:
    """The stored result a reference refers to (errors recorded, never raised)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    match = Match()
    if ref.key_kind == "material_id":
        same_id = [d for d in docs if d.get("material_id") == ref.key]
        if same_id:
            _one(same_id, f"material id {ref.key}", match, "material_id")
            if match.doc is not None and ref.structure is not None:
                ours = _structure(match.doc)
                if ours is not None and not StructureMatcher().fit(ref.structure, ours):
                    match.errors.append(
                        f"the reference structure is not the stored structure of {ref.key}"
                    )
            return match
    if ref.structure is not None:
        formula = ref.structure.composition.reduced_formula
        candidates = [d for d in docs if _formula(d) == formula]
        matcher = StructureMatcher()
        fits = [d for d in candidates if (s := _structure(d)) and matcher.fit(ref.structure, s)]
        if fits:
            return _one(fits, f"structure of {ref.key}", match, "structure")
        match.errors.append(f"no stored structure matches the reference structure ({formula})")
        return match
    if ref.key_kind == "formula":
        formula = _reduced(ref.key)
        same = [d for d in docs if _formula(d) == formula]
        if not same:
            match.errors.append(f"no stored result with formula {formula}")
            return match
        _one(same, f"formula {formula}", match, "formula")
        if match.doc is not None:
            match.warnings.append(f"matched by formula only ({formula}); the cell is assumed")
        return match
    match.errors.append(
        f"unknown material id {ref.key!r} (and no structure file to match by structure)"
    )
    return match


def cell_transform(ref_structure, our_structure) -> np.ndarray | None:
    """Integer ``M`` with reference lattice = ``M`` x stored lattice (rows are vectors),
    or None when the reference cell is not a supercell (or same cell) of the stored one."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    direct = ref_structure.lattice.matrix @ np.linalg.inv(our_structure.lattice.matrix)
    if np.allclose(direct, np.rint(direct), atol=0.05) and round(np.linalg.det(direct)) != 0:
        return np.rint(direct).astype(int)  # same orientation: read M off the lattices
    matcher = StructureMatcher(primitive_cell=False, attempt_supercell=True, scale=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = matcher.get_transformation(ref_structure, our_structure)
        except ValueError:  # the stored cell is the larger one
            return None
    return None if found is None else np.rint(found[0]).astype(int)


def check_cell(ref: Reference, match: Match) -> None:
    """Fill ``match.cell`` / ``match.transform`` (see the module docstring)."""
    if match.doc is None:
        return
    ours = _structure(match.doc)
    if ref.structure is None or ours is None:
        match.cell = "assumed"
        return
    M = cell_transform(ref.structure, ours)
    if M is None or round(abs(np.linalg.det(M))) != 1:
        match.cell, match.transform = "differs", M
        size = "" if M is None else f" (|det M| = {abs(round(np.linalg.det(M)))})"
        match.warnings.append(f"cell differs{size}, only nu0 compared")
        return
    match.transform = M
    match.cell = "same" if np.array_equal(M, np.eye(3, dtype=int)) else "transformed"
