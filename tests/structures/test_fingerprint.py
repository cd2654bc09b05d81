"""Structure fingerprints: the same cell whatever the site order or rounding, a different
key for any other cell."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from hts_z2.structures.embedded import load_embedded
from hts_z2.structures.fingerprint import cell_fingerprint, structure_fingerprint


def test_site_order_rounding_and_wrapping_do_not_matter():
    s = load_embedded()[0].structure
    key = structure_fingerprint(s)
    perm = Structure(s.lattice, s.species[::-1], s.frac_coords[::-1])
    assert structure_fingerprint(perm) == key
    noisy = Structure(s.lattice, s.species, s.frac_coords + 1e-7)
    assert structure_fingerprint(noisy) == key
    shifted = Structure(s.lattice, s.species, s.frac_coords + 1.0, coords_are_cartesian=False)
    assert structure_fingerprint(shifted) == key


def test_other_cells_differ():
    s = load_embedded()[0].structure
    key = structure_fingerprint(s)
    strained = s.copy()
    strained.apply_strain(0.01)
    assert structure_fingerprint(strained) != key
    moved = s.copy()
    moved.translate_sites([0], [0.01, 0, 0])
    assert structure_fingerprint(moved) != key
    keys = {structure_fingerprint(e.structure) for e in load_embedded()}
    assert len(keys) == len(load_embedded())


def test_refuses_bad_input():
    with pytest.raises(ValueError):
        cell_fingerprint(np.eye(3), np.zeros((2, 3)), np.array([1]))
    disordered = Structure(Lattice.cubic(4.0), [{"Bi": 0.5, "Sb": 0.5}], [[0, 0, 0]])
    with pytest.raises(ValueError, match="disordered"):
        structure_fingerprint(disordered)
