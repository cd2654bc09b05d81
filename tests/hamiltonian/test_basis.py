"""Orbital bases: shell specifications and sub-bases (kept shells)."""

import numpy as np
import pytest

from hts_z2.hamiltonian.basis import kept_orbitals, parse_shells, structure_orbitals


def test_parse_shells_counts_each_l():
    assert parse_shells("2s2p1d") == (0, 0, 1, 1, 2)
    with pytest.raises(ValueError, match="bad shell"):
        parse_shells("2x")


def test_kept_orbitals_selects_whole_shells_in_basis_order():
    # dzp of a p-block element: s, p (single zeta), s, p (second zeta), d polarization
    shells = (0, 1, 0, 1, 2)
    assert kept_orbitals(shells).tolist() == list(range(13))
    assert kept_orbitals(shells, (0, 1, 4)).tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 12]
    assert kept_orbitals(shells, (4, 0)).tolist() == [0, 8, 9, 10, 11, 12]  # order of the basis
    assert kept_orbitals(shells, ()).size == 0
    with pytest.raises(ValueError, match="outside a basis of 5 shells"):
        kept_orbitals(shells, (5,))


def test_structure_orbitals_offsets_each_atom():
    shells = [(0, 1), (0,), (0, 1)]  # 4 + 1 + 4 orbitals
    kept = [
        kept_orbitals(shells[0], (1,)),
        kept_orbitals(shells[1]),
        kept_orbitals(shells[2], (0,)),
    ]
    assert structure_orbitals(shells, kept).tolist() == [1, 2, 3, 4, 5]
    assert structure_orbitals([], []).size == 0
    full = structure_orbitals(shells, [kept_orbitals(s) for s in shells])
    np.testing.assert_array_equal(full, np.arange(9))
