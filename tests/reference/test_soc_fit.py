import numpy as np

from hts_z2.hamiltonian import orbital_table
from hts_z2.hamiltonian.soc import assemble_soc
from hts_z2.reference.soc_fit import fit_xi


def _soc_components(H: np.ndarray) -> np.ndarray:
    """B_v from a spinful H_soc = i sum_v B_v (x) sigma_v: [n_R, 3, n, n]."""
    n_R, n2, _ = H.shape
    n = n2 // 2
    blocks = H.reshape(n_R, n, 2, n, 2)
    up_dn = blocks[:, :, 0, :, 1]  # i (B_x - i B_y)
    up_up = blocks[:, :, 0, :, 0]  # i B_z
    bx = np.real(up_dn / 1j + np.conj(up_dn / 1j)) / 2
    by = np.real((up_dn / 1j - np.conj(up_dn / 1j)) / (-2j))
    return np.stack([bx, by, np.real(up_up / 1j)], axis=1)


def test_recovers_assembled_xi():
    rng = np.random.default_rng(0)
    orbitals = orbital_table([(0, 1, 2), (1, 1)])
    n = len(orbitals)
    n_shell = 5
    xi = rng.normal(size=(3, n_shell, n_shell))
    xi[0] = xi[0] + xi[0].T
    xi[2] = xi[1].T  # R set: 0, +e, -e
    l = orbitals.shell_l
    xi[:, l[:, None] != l[None, :]] = 0
    xi[:, l == 0, :] = 0
    xi[:, :, l == 0] = 0
    H = assemble_soc(np.zeros((3, n, n)), xi, orbitals)
    B = _soc_components(H)
    fit = fit_xi(B, orbitals)
    assert np.allclose(fit.xi, xi, atol=1e-12)
    assert fit.residual < 1e-12


def test_unrepresentable_part_is_residual():
    rng = np.random.default_rng(1)
    orbitals = orbital_table([(1,)])
    B = rng.normal(size=(1, 3, 3, 3))
    B = B - np.swapaxes(B, 2, 3)  # antisymmetric blocks, but not proportional to L
    fit = fit_xi(B, orbitals)
    assert 0.05 < fit.residual < 1.0


def test_components_round_trip():
    from hts_z2.hamiltonian.soc import spinful_blocks
    from hts_z2.reference.convert import components_from_spinful

    rng = np.random.default_rng(2)
    H0 = rng.normal(size=(2, 4, 4))
    B = rng.normal(size=(2, 3, 4, 4))
    H0b, Bb, dropped = components_from_spinful(spinful_blocks(H0, B))
    assert np.allclose(H0b, H0) and np.allclose(Bb, B) and dropped < 1e-14
