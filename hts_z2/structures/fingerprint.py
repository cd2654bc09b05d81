"""A structure fingerprint: the same cell, up to the order of its sites, gives the same key.

First-principles results are cached under it. The key is deliberately strict: weak Z2
indices refer to the reciprocal basis of the cell computed, so a different setting or
supercell of the same crystal is a different calculation. Lattice vectors are rounded to
1e-3 Å and fractional coordinates (wrapped into [0, 1)) to 1e-4, so that a structure read
back from a file with fewer digits keeps its key.
"""

from __future__ import annotations

import hashlib

import numpy as np

LATTICE_DECIMALS = 3
COORD_DECIMALS = 4


def cell_fingerprint(lattice: np.ndarray, frac: np.ndarray, numbers: np.ndarray) -> str:
    """sha256 (hex, 24 characters) of a rounded, site-order-independent cell.

    Parameters
    ----------
    lattice : [3, 3] rows are lattice vectors (Å).
    frac : [n_atoms, 3] fractional coordinates.
    numbers : [n_atoms] atomic numbers.
    """
    lattice = np.round(np.asarray(lattice, dtype=float), LATTICE_DECIMALS) + 0.0
    frac = np.round(np.mod(np.asarray(frac, dtype=float), 1.0), COORD_DECIMALS) % 1.0 + 0.0
    numbers = np.asarray(numbers, dtype=int)
    if frac.shape != (len(numbers), 3) or lattice.shape != (3, 3):
        raise ValueError(f"bad cell: lattice {lattice.shape}, frac {frac.shape}")
    sites = sorted(
        (int(z), *(f"{x:.{COORD_DECIMALS}f}" for x in row))
        for z, row in zip(numbers, frac, strict=True)
    )
    text = ";".join(f"{x:.{LATTICE_DECIMALS}f}" for x in lattice.ravel())
    text += "|" + ";".join(",".join(map(str, s)) for s in sites)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def structure_fingerprint(structure) -> str:
    """:func:`cell_fingerprint` of a pymatgen ``Structure`` (ordered)."""
    if not structure.is_ordered:
        raise ValueError("a disordered structure has no fingerprint")
    return cell_fingerprint(
        structure.lattice.matrix, structure.frac_coords, np.array(structure.atomic_numbers)
    )
