"""Degenerate cells, overlapping atoms, slabs and molecules in boxes are refused quickly
with a reason; the embedded bulk crystals (layered van der Waals ones included) pass."""

import time

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from hts_z2.structures.embedded import load_embedded
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sanity import largest_vacuum, physical_problem


def test_every_embedded_crystal_is_bulk():
    for entry in load_embedded():
        assert physical_problem(entry.structure) is None, entry.id


def test_largest_vacuum_of_a_layered_crystal_and_a_slab():
    bi2se3 = next(e for e in load_embedded() if e.id == "Bi2Se3-R-3m").structure
    assert largest_vacuum(bi2se3.lattice.matrix, bi2se3.frac_coords).max() < 4.0
    slab = Structure(Lattice.hexagonal(4.14, 30.0), ["Bi", "Se"],
                     [[0, 0, 0.0], [1 / 3, 2 / 3, 0.06]])
    gaps = largest_vacuum(slab.lattice.matrix, slab.frac_coords)
    assert gaps[2] == pytest.approx(30.0 * 0.94, rel=1e-6) and gaps[:2].max() < 4.0


@pytest.mark.parametrize("structure, says", [
    (Structure(Lattice.cubic(1.0), ["Bi"], [[0, 0, 0]]), "degenerate cell"),
    (Structure(Lattice.orthorhombic(0.5, 20, 20), ["Bi"], [[0, 0, 0]]), "lattice vector of 0.50"),
    (Structure(Lattice.cubic(6.0), ["Pb", "Te"], [[0, 0, 0], [0.05, 0, 0]]), "0.30 Å apart"),
    (Structure(Lattice.hexagonal(4.14, 30.0), ["Bi", "Se"], [[0, 0, 0], [1 / 3, 2 / 3, 0.06]]),
     "a slab in a box"),
    (Structure(Lattice.cubic(1000.0), ["Bi", "Bi"], [[0, 0, 0], [0.003, 0, 0]]),
     "a molecule in a box"),
])
def test_unphysical_cells_get_a_reason_in_milliseconds(structure, says):
    t0 = time.perf_counter()
    reason = CandidateFilter().check_structure(structure)
    assert reason is not None and says in reason
    assert time.perf_counter() - t0 < 1.0


def test_a_flat_lattice_is_degenerate():
    flat = Structure(np.array([[4.0, 0, 0], [0, 4.0, 0], [2.0, 2.0, 1e-4]]), ["Bi"], [[0, 0, 0]])
    assert "degenerate cell" in physical_problem(flat)
