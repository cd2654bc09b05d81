"""Radial tables exported from GPAW: normalization, shells, and the shipped copy."""

import numpy as np
import pytest

from hts_z2.hamiltonian.overlap import OverlapBasis, OverlapCalculator
from hts_z2.hamiltonian.twocenter import simpson_weights
from hts_z2.model.checkpoint import OVERLAP_BASIS
from hts_z2.model.predictor import DEFAULT_MODEL, models_dir
from hts_z2.reference.basis_export import element_functions, export_overlap_basis
from hts_z2.reference.gpaw_scf import GpawError


@pytest.fixture(scope="module")
def exported() -> OverlapBasis:
    return export_overlap_basis([83, 34])


def test_single_zeta_orbitals_have_unit_paw_norm(exported):
    """GPAW's pseudo orbitals are not normalized themselves (Bi 6s: 1.33); the PAW
    overlap operator restores the norm of the atomic valence eigenstates: the diagonal
    of S of an isolated atom is 1 for the single-zeta s and p orbitals."""
    assert exported.elements[83].orbital_l == (0, 1, 2, 0, 1, 2, 2)  # GPAW's dzp order
    calc = OverlapCalculator(exported)
    r = exported.dr * np.arange(exported.elements[83].orbitals.shape[1])
    w = simpson_weights(len(r), exported.dr) * r**2
    assert (exported.elements[83].orbitals[0] ** 2 @ w) > 1.3
    for z in (83, 34):
        R, S = calc.overlap(np.eye(3) * 30.0, np.zeros((1, 3)), np.array([z]))
        assert R.tolist() == [[0, 0, 0]]
        assert np.allclose(S[0].diagonal()[:4], 1.0, atol=1e-3)
        assert np.allclose(exported.elements[z].dO, exported.elements[z].dO.T)


def test_shipped_tables_are_what_gpaw_exports(exported):
    shipped = OverlapBasis.load(models_dir() / DEFAULT_MODEL / OVERLAP_BASIS)
    assert shipped.name == exported.name == "gpaw-dzp-pbe"
    for z in (83, 34):
        a, b = shipped.elements[z], exported.elements[z]
        assert a.orbital_l == b.orbital_l and a.projector_l == b.projector_l
        assert np.allclose(a.orbitals, b.orbitals, atol=1e-6)
        assert np.allclose(a.projectors, b.projectors, rtol=1e-6, atol=1e-6)
        assert np.allclose(a.dO, b.dO)


def test_unknown_basis_is_a_clear_error():
    with pytest.raises(GpawError, match="no PAW setup or 'nonexistent' basis"):
        element_functions("Bi", basis="nonexistent")


def test_szp_solve_shells_drop_exactly_the_second_zeta():
    """GPAW's dzp order is sz shells, dz shells, polarization: Bi (6s 6p 5d) x 2 + d."""
    from hts_z2.reference.basis_export import shell_kinds, solve_shells

    assert shell_kinds("Se") == ((0, "sz"), (1, "sz"), (0, "dz"), (1, "dz"), (2, "pol"))
    bi, se = (0, 1, 2, 0, 1, 2, 2), (0, 1, 0, 1, 2)
    assert solve_shells({83: bi, 34: se}, "szp") == {34: (0, 1, 4), 83: (0, 1, 2, 6)}
    assert solve_shells({83: bi}, "full") == {}
    with pytest.raises(ValueError, match="unknown solve basis"):
        solve_shells({83: bi}, "sz")
    with pytest.raises(ValueError, match="differ from the dataset's"):
        solve_shells({83: se}, "szp")
    with pytest.raises(GpawError):
        shell_kinds("Se", "no-such-basis")
