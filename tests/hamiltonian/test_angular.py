import numpy as np
import pytest
import torch
from e3nn import o3
from scipy.spatial.transform import Rotation

from hts_z2.hamiltonian.angular import PAULI, angular_momentum, complex_to_real, wigner_d


@pytest.mark.parametrize("l", [0, 1, 2, 3])
def test_commutators_and_casimir(l):
    Lx, Ly, Lz = angular_momentum(l)
    assert np.allclose(Lx @ Ly - Ly @ Lx, 1j * Lz, atol=1e-12)
    assert np.allclose(Ly @ Lz - Lz @ Ly, 1j * Lx, atol=1e-12)
    assert np.allclose(Lz @ Lx - Lx @ Lz, 1j * Ly, atol=1e-12)
    L2 = Lx @ Lx + Ly @ Ly + Lz @ Lz
    assert np.allclose(L2, l * (l + 1) * np.eye(2 * l + 1), atol=1e-12)


@pytest.mark.parametrize("l", [0, 1, 2, 3])
def test_real_basis_matrices_are_imaginary_hermitian(l):
    L = angular_momentum(l)
    assert np.allclose(L.real, 0)
    assert np.allclose(L, np.conj(np.swapaxes(L, 1, 2)))
    C = complex_to_real(l)
    assert np.allclose(C.conj().T @ C, np.eye(2 * l + 1))


def test_p_shell_in_y_z_x_order():
    Lx, _, Lz = angular_momentum(1)
    # L_z |x> = i |y>, L_z |y> = -i |x>; order (y, z, x)
    assert Lz[0, 2] == pytest.approx(1j)
    assert Lz[2, 0] == pytest.approx(-1j)
    assert np.allclose(Lz[1], 0)
    # L_x |y> = i |z>
    assert Lx[1, 0] == pytest.approx(1j)


def _e3nn_sh(l, r):
    v = torch.tensor(r[:, [1, 2, 0]], dtype=torch.float64)
    return o3.spherical_harmonics(l, v, normalize=True).numpy()


@pytest.mark.parametrize("l", [1, 2, 3])
def test_wigner_d_rotates_e3nn_harmonics(l):
    rng = np.random.default_rng(l)
    rotvec = rng.normal(size=3)
    Q = Rotation.from_rotvec(rotvec).as_matrix()
    r = rng.normal(size=(30, 3))
    D = wigner_d(l, rotvec)
    assert np.allclose(D @ D.T, np.eye(2 * l + 1), atol=1e-12)
    assert np.allclose(_e3nn_sh(l, r @ Q.T), _e3nn_sh(l, r) @ D.T, atol=1e-10)


@pytest.mark.parametrize("l", [1, 2, 3])
def test_generators_match_e3nn_derivative(l):
    """L_a = -i G^T with G the derivative of Y(Q_a(phi) r) = exp(phi G) Y(r)."""
    rng = np.random.default_rng(10 + l)
    r = rng.normal(size=(60, 3))
    L = angular_momentum(l)
    eps = 1e-6
    for a in range(3):
        e = np.zeros(3)
        e[a] = eps
        Qp = Rotation.from_rotvec(e).as_matrix()
        Qm = Rotation.from_rotvec(-e).as_matrix()
        dY = (_e3nn_sh(l, r @ Qp.T) - _e3nn_sh(l, r @ Qm.T)) / (2 * eps)
        G = np.linalg.lstsq(_e3nn_sh(l, r), dY, rcond=None)[0].T
        assert np.allclose(-1j * G.T, L[a], atol=1e-6)


def test_pauli_algebra():
    sx, sy, sz = PAULI
    assert np.allclose(sx @ sy, 1j * sz)
    assert np.allclose(sx @ sx, np.eye(2))


def test_unsupported_l():
    with pytest.raises(ValueError, match="not supported"):
        angular_momentum(7)
