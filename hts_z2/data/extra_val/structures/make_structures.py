"""Write the primitive cells of the validation-only compounds (``hts_z2/data/extra_val``).

Run from this directory: ``python make_structures.py``. Lattice constants (Å) and
Wyckoff positions are experimental room-temperature values where the compound is known,
else those of its structure type; the reference labels come from the DFT of these cells.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

hexagonal, cubic, tetragonal = Lattice.hexagonal, Lattice.cubic, Lattice.tetragonal


def cells() -> dict[str, Structure]:
    """Name (formula-space group) -> conventional cell."""
    s = Structure.from_spacegroup
    return {
        "Bi2Te2Se-R-3m": s(166, hexagonal(4.28, 29.86), ["Bi", "Te", "Se"],
                           [[0, 0, 0.3960], [0, 0, 0.2115], [0, 0, 0]]),
        "Sb2Te2Se-R-3m": s(166, hexagonal(4.19, 29.90), ["Sb", "Te", "Se"],
                           [[0, 0, 0.3950], [0, 0, 0.2120], [0, 0, 0]]),
        "TlBiS2-R-3m": s(166, hexagonal(4.11, 21.91), ["Tl", "Bi", "S"],
                         [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2600]]),
        "YPdBi-F-43m": s(216, cubic(6.64), ["Y", "Pd", "Bi"],
                         [[0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0, 0, 0]]),
        "HgS-F-43m": s(216, cubic(5.852), ["Hg", "S"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
        "CdTe-P6_3mc": s(186, hexagonal(4.57, 7.50), ["Cd", "Te"],
                         [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.375]]),
        "Cs3Sb-Fm-3m": s(225, cubic(9.14), ["Sb", "Cs", "Cs"],
                         [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]]),
        "Na3Sb-P6_3mmc": s(194, hexagonal(5.37, 9.52), ["Na", "Na", "Sb"],
                           [[0, 0, 0.25], [1 / 3, 2 / 3, 0.583], [1 / 3, 2 / 3, 0.25]]),
        "Ag2O-Pn-3m": s(224, cubic(4.72), ["O", "Ag"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
        "K2O-Fm-3m": s(225, cubic(6.436), ["O", "K"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
        "Rb2Te-Fm-3m": s(225, cubic(8.45), ["Te", "Rb"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
        "Cs2O-R-3m": s(166, hexagonal(4.256, 18.99), ["O", "Cs"], [[0, 0, 0], [0, 0, 0.2578]]),
        "ZrTe2-P-3m1": s(164, hexagonal(3.95, 6.63), ["Zr", "Te"],
                         [[0, 0, 0], [1 / 3, 2 / 3, 0.26]]),
        "YBi-Fm-3m": s(225, cubic(6.26), ["Y", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "NaBi-P4mmm": s(123, tetragonal(3.46, 4.80), ["Na", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "KI-Fm-3m": s(225, cubic(7.07), ["K", "I"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "Na2Te-Fm-3m": s(225, cubic(7.31), ["Te", "Na"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
    }  # fmt: skip


def main() -> None:
    for name, cell in cells().items():
        prim = cell.get_primitive_structure()
        d = prim.distance_matrix + 99.0 * np.eye(len(prim))
        print(f"{name:16s} {len(prim):2d} atoms, shortest distance {d.min():.3f} Å")
        prim.to(filename=f"{name}.cif")


if __name__ == "__main__":
    main()
