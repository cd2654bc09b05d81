"""Is a structure a bulk crystal the physics can treat? Fast checks (milliseconds) that
turn degenerate cells, overlapping atoms, slabs and molecules in boxes into reasons, before
any graph, Hamiltonian or k-point grid is built for them."""

from __future__ import annotations

import numpy as np

MIN_VOLUME_PER_ATOM = 2.0
"""Å^3 per atom below which a cell is degenerate (dense metals have ~10-30)."""
MIN_DISTANCE = 0.7
"""Å; atoms (or an atom and its periodic image) closer than this overlap."""
MAX_VACUUM = 7.0
"""Å of empty space along a lattice direction above which a cell is a slab, a wire or a
molecule in a box (van der Waals gaps of layered crystals are 2.5-4 Å between planes)."""


def largest_vacuum(lattice: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Widest empty slab between atomic planes along each lattice direction (Å).

    lattice : [3, 3] rows are the lattice vectors (Å); frac : [n, 3] fractional positions.
    Returns [3]: for direction i, the largest gap between consecutive planes of constant
    fractional coordinate i (periodic), times the spacing of those planes.
    """
    spacing = 1.0 / np.linalg.norm(np.linalg.inv(lattice).T, axis=1)  # [3] d-spacing
    out = np.zeros(3)
    for i in range(3):
        x = np.sort(np.mod(frac[:, i], 1.0))
        gaps = np.diff(np.concatenate([x, [x[0] + 1.0]]))
        out[i] = gaps.max() * spacing[i]
    return out


def physical_problem(structure) -> str | None:
    """Why a pymatgen ``Structure`` is not a bulk crystal to screen, or None."""
    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    n = len(structure)
    volume = abs(float(np.linalg.det(lattice)))
    if n == 0:
        return "no atoms in the cell"
    if not np.isfinite(lattice).all() or volume / n < MIN_VOLUME_PER_ATOM:
        return (f"degenerate cell: {volume:.3g} Å³ for {n} atom(s) (a bulk crystal has "
                f"≥ {MIN_VOLUME_PER_ATOM:g} Å³ per atom)")
    shortest = min(float(np.linalg.norm(v)) for v in lattice)
    if shortest < MIN_DISTANCE:
        return f"a lattice vector of {shortest:.2f} Å: every atom overlaps its image"
    if n > 1:
        d = structure.distance_matrix
        d = d + np.eye(n) * 1e9
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] < MIN_DISTANCE:
            return (f"atoms {structure[int(i)].specie} and {structure[int(j)].specie} are "
                    f"{d[i, j]:.2f} Å apart (overlapping; shortest bonds are ≥ 1.5 Å in "
                    "heavy-element crystals)")
    vacuum = largest_vacuum(lattice, np.asarray(structure.frac_coords, dtype=float))
    empty = [f"{'abc'[i]} ({v:.1f} Å)" for i, v in enumerate(vacuum) if v > MAX_VACUUM]
    if empty:
        kind = "a slab" if len(empty) == 1 else "a wire" if len(empty) == 2 else "a molecule"
        return (f"vacuum along {', '.join(empty)}: {kind} in a box, not a bulk crystal "
                "(bulk Z2 needs a 3D-periodic solid)")
    return None
