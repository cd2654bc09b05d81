import numpy as np
import pytest

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.hamiltonian.supercell import subcell_translations, supercell


@pytest.mark.parametrize(
    "P", [np.diag([2, 1, 1]), [[1, 1, 0], [0, 1, 0], [0, 0, 2]], np.diag([2, 2, 1])]
)
def test_folded_bands(P):
    """Supercell bands at K are the primitive bands at every k = K + G' (G' supercell
    reciprocal vectors modulo the primitive ones: integer n with n P^-T in the unit cell)."""
    P = np.asarray(P)
    tb = fu_kane_mele(0.3)
    sc = supercell(tb, P)
    assert sc.n_bands == tb.n_bands * round(abs(np.linalg.det(P)))
    assert sc.n_occ == tb.n_occ * round(abs(np.linalg.det(P)))
    assert sc.time_reversal_error() < 1e-13
    K = np.array([[0.13, -0.27, 0.41]])
    shifts = subcell_translations(P.T)
    ks = ((K + shifts) @ sc.reciprocal_lattice) @ tb.lattice.T / (2 * np.pi)
    E = np.sort(np.concatenate([tb.eigh(k[None])[0][0] for k in ks]))
    assert np.allclose(E, sc.eigh(K)[0][0], atol=1e-10)


def test_subcells():
    t = subcell_translations(np.diag([2, 1, 3]))
    assert len(t) == 6
    assert np.all(t[0] == 0)
    with pytest.raises(ValueError, match="non-singular"):
        supercell(wilson_dirac(2.0), np.zeros((3, 3)))
