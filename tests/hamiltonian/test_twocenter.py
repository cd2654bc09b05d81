"""Two-centre overlaps: analytic Gaussians, brute-force quadrature, rotations, Gaunt values."""

import numpy as np
import pytest

from hts_z2.hamiltonian.angular import wigner_d
from hts_z2.hamiltonian.twocenter import (
    angular_blocks,
    bessel_transform,
    gaunt,
    overlap_radial,
    real_harmonics,
    simpson_weights,
)

DR = 0.01
R = np.arange(0.0, 8.0 + DR / 2, DR)
K = np.arange(0.0, 40.0, 0.01)


def gaussian(alpha: float, l: int) -> np.ndarray:
    """Normalized ``r^l exp(-alpha r^2)`` on R (cut to zero at the last point)."""
    f = R**l * np.exp(-alpha * R**2)
    f[-1] = 0.0
    return f / np.sqrt(np.sum(simpson_weights(len(R), DR) * R**2 * f**2))


def overlap(alpha: float, la: int, beta: float, lb: int, vectors: np.ndarray) -> np.ndarray:
    Fa = bessel_transform(gaussian(alpha, la), la, R, K)[None]
    Fb = bessel_transform(gaussian(beta, lb), lb, R, K)[None]
    radial = overlap_radial(Fa, (la,), Fb, (lb,), K, np.linalg.norm(vectors, axis=1))
    return angular_blocks({L: v for (_, _, L), v in radial.items()}, la, lb, vectors)


def test_real_harmonics_l1_are_y_z_x():
    v = np.array([[0.3, -1.2, 0.7], [1.0, 0.0, 0.0]])
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    expected = np.sqrt(3 / (4 * np.pi)) * u[:, [1, 2, 0]]
    assert np.allclose(real_harmonics(1, v), expected, atol=1e-14)


def test_gaunt_known_values():
    assert np.allclose(gaunt(2, 2, 0)[:, :, 0], np.eye(5) / np.sqrt(4 * np.pi), atol=1e-14)
    # int Y10 Y10 Y20 = 0.8 sqrt(5 / 16 pi)
    assert gaunt(1, 1, 2)[1, 1, 2] == pytest.approx(0.8 * np.sqrt(5 / (16 * np.pi)), abs=1e-13)
    assert np.allclose(gaunt(1, 2, 3), np.transpose(gaunt(2, 1, 3), (1, 0, 2)), atol=1e-14)
    assert not gaunt(1, 1, 1).any()  # odd l1 + l2 + L vanish by parity


def test_s_gaussians_match_the_analytic_overlap():
    a, b = 1.3, 0.7
    d = np.array([[0.0, 0.0, 0.0], [0.3, -0.5, 0.9], [2.0, 1.0, -0.5]])
    dist2 = (d**2).sum(axis=1)
    exact = (2 * np.sqrt(a * b) / (a + b)) ** 1.5 * np.exp(-a * b / (a + b) * dist2)
    assert np.allclose(overlap(a, 0, b, 0, d)[:, 0, 0], exact, atol=1e-7)


def test_normalized_functions_have_unit_self_overlap():
    for l in (0, 1, 2):
        S = overlap(0.9, l, 0.9, l, np.zeros((1, 3)))[0]
        assert np.allclose(S, np.eye(2 * l + 1), atol=1e-8)


@pytest.mark.parametrize("la,lb", [(1, 0), (1, 2), (2, 2)])
def test_blocks_match_brute_force_quadrature(la, lb):
    """Independent of the Gaunt machinery: integrate phi_a(r) phi_b(r - d) on a grid."""
    a, b, d = 1.3, 0.9, np.array([0.3, -0.5, 0.9])
    g = np.linspace(-4.5, 4.5, 91)
    h = g[1] - g[0]
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)

    def orbital(alpha, l, centre):
        q = pts - centre
        radial = np.linalg.norm(q, axis=1) ** l * np.exp(-alpha * (q**2).sum(axis=1))
        w = simpson_weights(len(R), DR)
        norm = np.sqrt(np.sum(w * R ** (2 + 2 * l) * np.exp(-2 * alpha * R**2)))
        return (radial / norm)[:, None] * real_harmonics(l, q)

    brute = orbital(a, la, np.zeros(3)).T @ orbital(b, lb, d) * h**3
    assert np.allclose(overlap(a, la, b, lb, d[None])[0], brute, atol=2e-4)


def test_blocks_rotate_with_wigner_matrices():
    d = np.array([[0.4, 1.1, -0.6]])
    rotvec = np.array([0.3, -1.1, 0.8])
    c, s = np.cos(np.linalg.norm(rotvec)), np.sin(np.linalg.norm(rotvec))
    n = rotvec / np.linalg.norm(rotvec)
    K_ = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    Q = np.eye(3) + s * K_ + (1 - c) * K_ @ K_
    S = overlap(1.1, 1, 0.8, 2, d)[0]
    S_rot = overlap(1.1, 1, 0.8, 2, d @ Q.T)[0]
    assert np.allclose(S_rot, wigner_d(1, rotvec) @ S @ wigner_d(2, rotvec).T, atol=1e-9)


def test_swapping_centres_transposes_the_block():
    d = np.array([[0.4, 1.1, -0.6]])
    assert np.allclose(overlap(1.1, 1, 0.8, 2, d)[0], overlap(0.8, 2, 1.1, 1, -d)[0].T, atol=1e-9)
