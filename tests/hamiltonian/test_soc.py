import numpy as np
import pytest
from scipy.linalg import block_diag

from hts_z2.hamiltonian import TightBinding, orbital_table
from hts_z2.hamiltonian.angular import PAULI, wigner_d
from hts_z2.hamiltonian.soc import (
    assemble_soc,
    expand_shell_xi,
    orbital_l_matrices,
    spin_rotation,
    spinful_blocks,
)
from hts_z2.hamiltonian.timereversal import time_reversal_error

R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 1], [0, -1, -1]])
MINUS = [0, 2, 1, 4, 3]


def _random_pair_symmetric(rng, n, scale=1.0):
    """Random real blocks with M(-R) = M(R)^T on the R set above."""
    M = np.zeros((len(R), n, n))
    M[0] = rng.normal(size=(n, n)) * scale
    M[0] = M[0] + M[0].T
    for i, j in ((1, 2), (3, 4)):
        M[i] = rng.normal(size=(n, n)) * scale
        M[j] = M[i].T
    return M


@pytest.fixture
def system():
    rng = np.random.default_rng(7)
    orbitals = orbital_table([(0, 1), (1, 2)])  # atom 0: s p, atom 1: p d
    n = len(orbitals)
    n_shell = 4
    H0 = _random_pair_symmetric(rng, n)
    xi_shell = _random_pair_symmetric(rng, n_shell, 0.3)
    return orbitals, H0, xi_shell


@pytest.mark.parametrize(("l", "levels"), [(1, [(-1.0, 2), (0.5, 4)]), (2, [(-1.5, 4), (1.0, 6)])])
def test_onsite_shell_spectrum(l, levels):
    """xi L.S on one shell: j = l + 1/2 at +xi l/2, j = l - 1/2 at -xi (l+1)/2."""
    xi = 0.8
    orbitals = orbital_table([(l,)])
    n = 2 * l + 1
    H = assemble_soc(np.zeros((1, n, n)), np.full((1, 1, 1), xi), orbitals)[0]
    E = np.linalg.eigvalsh(H)
    expected = np.concatenate([[e * xi] * g for e, g in levels])
    assert np.allclose(E, np.sort(expected), atol=1e-12)


def test_s_shells_have_no_soc(system):
    orbitals = system[0]
    L = orbital_l_matrices(orbitals)
    s = orbitals.l == 0
    assert np.allclose(L[:, s, :], 0) and np.allclose(L[:, :, s], 0)
    # different l never couple
    lp = orbitals.l == 1
    ld = orbitals.l == 2
    assert np.allclose(L[:, lp][:, :, ld], 0)


def test_spinful_kron_order():
    H0 = np.arange(4.0).reshape(1, 2, 2)
    assert np.allclose(spinful_blocks(H0)[0], np.kron(H0[0], np.eye(2)))


def test_spinful_blocks_with_soc_is_the_kron_sum():
    """``M (x) I2 + i sum_v B_v (x) sigma_v`` for random real blocks, leading axes kept."""
    rng = np.random.default_rng(3)
    M, B = rng.normal(size=(2, 4, 3, 3)), rng.normal(size=(2, 4, 3, 3, 3))
    got = spinful_blocks(M, B)
    assert got.shape == (2, 4, 6, 6)
    for idx in np.ndindex(2, 4):
        want = np.kron(M[idx], np.eye(2)) + 1j * sum(
            np.kron(B[idx][v], PAULI[v]) for v in range(3)
        )
        assert np.allclose(got[idx], want, atol=1e-14)


def test_hermitian_and_time_reversal(system):
    orbitals, H0, xi_shell = system
    H = assemble_soc(H0, xi_shell, orbitals)
    assert np.allclose(H[MINUS], np.conj(np.swapaxes(H, 1, 2)), atol=1e-13)
    assert time_reversal_error(H) < 1e-13
    tb = TightBinding(np.eye(3) * 5, R, H, n_occ=4)
    assert tb.time_reversal_error() < 1e-13
    k = np.random.default_rng(0).random((4, 3))
    Hk = tb.hk(k)
    Hmk = tb.hk(-k)
    T = np.kron(np.eye(len(orbitals)), np.array([[0, 1], [-1, 0]]))
    assert np.allclose(T @ Hk.conj() @ T.T, Hmk, atol=1e-12)


def test_soc_breaks_spin_degeneracy_only_with_xi(system):
    orbitals, H0, xi_shell = system
    H = assemble_soc(H0, np.zeros_like(xi_shell), orbitals)
    assert np.allclose(H, spinful_blocks(H0))
    H = assemble_soc(H0, xi_shell, orbitals)
    assert not np.allclose(H, spinful_blocks(H0))


def test_su2_covariance(system):
    """Rotating orbitals by Wigner-D and spins by SU(2) commutes with the assembly."""
    orbitals, H0, xi_shell = system
    rotvec = np.array([0.3, -1.1, 0.7])
    D = block_diag(*[wigner_d(int(l), rotvec) for l in orbitals.shell_l])
    U = np.kron(D, spin_rotation(rotvec))
    H0_rot = D @ H0 @ D.T
    lhs = assemble_soc(H0_rot, xi_shell, orbitals)
    rhs = U @ assemble_soc(H0, xi_shell, orbitals) @ U.conj().T
    assert np.allclose(lhs, rhs, atol=1e-12)


def test_su2_covariance_fails_for_spin_only_rotation(system):
    """Guard: rotating only the spin does not commute (so the test above can fail)."""
    orbitals, H0, xi_shell = system
    U = np.kron(np.eye(len(orbitals)), spin_rotation(np.array([0.3, -1.1, 0.7])))
    H = assemble_soc(H0, xi_shell, orbitals)
    assert not np.allclose(U @ H @ U.conj().T, H, atol=1e-6)


def test_expand_shell_xi(system):
    orbitals, _, xi_shell = system
    xi = expand_shell_xi(xi_shell, orbitals)
    i = np.flatnonzero((orbitals.shell == 1) & (orbitals.m == 0))[0]
    j = np.flatnonzero((orbitals.shell == 3) & (orbitals.m == -2))[0]
    assert xi[1, i, j] == xi_shell[1, 1, 3]


def test_shape_mismatch(system):
    orbitals, H0, xi_shell = system
    with pytest.raises(ValueError, match="orbital table"):
        assemble_soc(H0[:, :3, :3], xi_shell, orbitals)
