"""Two-centre overlap integrals of atom-centred functions ``f(r) Y_lm(r_hat)``.

For ``phi_a = f_a(r) Y_{l1 m1}`` at the origin and ``phi_b = f_b(r) Y_{l2 m2}`` centred at
``d``, the overlap ``<phi_a | phi_b> = int phi_a(r) phi_b(r - d) d^3r`` follows from the
Fourier–Bessel expansion of both functions and of the plane wave:

``S = sum_L I_L(|d|) sum_M G(l1 m1, l2 m2, L M) Y_LM(d_hat)``, with
``I_L(d) = 8 (-1)^((l1 - l2 - L)/2) int_0^inf k^2 F_a(k) F_b(k) j_L(k d) dk``,
``F(k) = int_0^inf r^2 f(r) j_l(k r) dr`` and ``G`` the real Gaunt coefficients.
``L`` runs over ``|l1 - l2| .. l1 + l2`` in steps of 2. Real harmonics are those of
:mod:`hts_z2.hamiltonian.angular` (orthonormal on the sphere).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from scipy.special import roots_legendre, sph_harm_y, spherical_jn

from hts_z2.hamiltonian.angular import complex_to_real


def real_harmonics(l: int, vectors: np.ndarray) -> np.ndarray:
    """Orthonormal real spherical harmonics of the directions of ``vectors``.

    Parameters
    ----------
    vectors : [n, 3] Cartesian (x, y, z); zero vectors are treated as +z.

    Returns
    -------
    [n, 2l+1] in the order ``m = -l..l`` of :mod:`~hts_z2.hamiltonian.angular`.
    """
    v = np.atleast_2d(np.asarray(vectors, dtype=float))
    norm = np.linalg.norm(v, axis=1)
    safe = np.where(norm > 0, norm, 1.0)
    cos_theta = np.where(norm > 0, v[:, 2] / safe, 1.0)
    theta = np.arccos(np.clip(cos_theta, -1.0, 1.0))
    phi = np.arctan2(v[:, 1], v[:, 0])
    m = np.arange(-l, l + 1)
    Yc = sph_harm_y(l, m[None, :], theta[:, None], phi[:, None])  # [n, 2l+1] complex
    return (Yc @ complex_to_real(l)).real


@cache
def _sphere_quadrature(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Points [n, 3] and weights [n] exact for polynomials of degree < ``order`` on S^2."""
    x, w = roots_legendre(order)
    phi = 2 * np.pi * np.arange(2 * order) / (2 * order)
    sin = np.sqrt(1 - x**2)
    pts = np.stack(
        [
            (sin[:, None] * np.cos(phi)[None]).ravel(),
            (sin[:, None] * np.sin(phi)[None]).ravel(),
            np.repeat(x, len(phi)),
        ],
        axis=1,
    )
    weights = np.repeat(w, len(phi)) * (np.pi / order)
    return pts, weights


@cache
def gaunt(l1: int, l2: int, L: int) -> np.ndarray:
    """Real Gaunt coefficients ``int Y_{l1 m1} Y_{l2 m2} Y_{L M} dOmega``.

    Returns
    -------
    [2l1+1, 2l2+1, 2L+1] (exact to rounding: the quadrature integrates the product exactly).
    """
    pts, w = _sphere_quadrature((l1 + l2 + L) // 2 + 2)
    Y1, Y2, Y3 = (real_harmonics(l, pts) for l in (l1, l2, L))
    G = np.einsum("p,pa,pb,pc->abc", w, Y1, Y2, Y3)
    G[np.abs(G) < 1e-14] = 0.0
    G.setflags(write=False)
    return G


def simpson_weights(n: int, h: float) -> np.ndarray:
    """Composite Simpson weights for ``n`` equally spaced points (trapezoid on a last odd
    interval).

    Returns
    -------
    [n]
    """
    if n < 3:
        return np.full(n, h / 2) * (2 if n == 1 else 1)
    w = np.zeros(n)
    m = n if n % 2 else n - 1
    w[:m:2] = 2 * h / 3
    w[1:m:2] = 4 * h / 3
    w[0] = w[m - 1] = h / 3
    if m < n:
        w[m - 1] += h / 2
        w[m] += h / 2
    return w


def bessel_transform(
    f: np.ndarray, l: int, r: np.ndarray, k: np.ndarray, jl: np.ndarray | None = None
) -> np.ndarray:
    """``F(k) = int r^2 f(r) j_l(k r) dr`` on an equally spaced ``r`` grid starting at 0.

    Parameters
    ----------
    f : [..., n_r] radial functions (zero at and beyond the last grid point).
    r : [n_r]; k : [n_k].
    jl : [n_r, n_k] ``j_l(k r)`` when already at hand (it dominates the cost).

    Returns
    -------
    [..., n_k]
    """
    w = simpson_weights(len(r), float(r[1] - r[0])) * r**2
    jl = spherical_jn(l, np.outer(r, k)) if jl is None else jl
    return (np.asarray(f) * w) @ jl


def overlap_radial(
    Fa: np.ndarray,
    la: tuple[int, ...],
    Fb: np.ndarray,
    lb: tuple[int, ...],
    k: np.ndarray,
    d: np.ndarray,
    jd: Callable[[int], np.ndarray] | None = None,
) -> dict[tuple[int, int, int], np.ndarray]:
    """Radial factors ``I_L(d)`` of the expansion in the module docstring, for all pairs.

    Parameters
    ----------
    Fa : [n_a, n_k] Bessel transforms (:func:`bessel_transform`) of functions with
        angular momenta ``la``; Fb : [n_b, n_k] likewise with ``lb``.
    k : [n_k] equally spaced from 0, far enough that ``k^2 Fa Fb`` has decayed.
    d : [n_d] distances.
    jd : ``L -> j_L(k d)`` [n_d, n_k] when already at hand.

    Returns
    -------
    ``{(i, j, L): [n_d]}`` for ``L = |la_i - lb_j| .. la_i + lb_j`` step 2.
    """
    w = simpson_weights(len(k), float(k[1] - k[0])) * k**2
    kd = np.outer(np.asarray(d, dtype=float), k) if jd is None else None
    terms = [
        (i, j, L)
        for i, li in enumerate(la)
        for j, lj in enumerate(lb)
        for L in range(abs(li - lj), li + lj + 1, 2)
    ]
    out: dict[tuple[int, int, int], np.ndarray] = {}
    for L in sorted({t[2] for t in terms}):
        mine = [t for t in terms if t[2] == L]
        W = np.array([w * Fa[i] * Fb[j] for i, j, _ in mine])  # [n_terms, n_k]
        I = W @ (spherical_jn(L, kd) if jd is None else jd(L)).T  # [n_terms, n_d]
        for (i, j, _), row in zip(mine, I, strict=True):
            out[i, j, L] = 8 * (-1) ** ((la[i] - lb[j] - L) // 2) * row
    return out


def angular_blocks(
    radial: dict[int, np.ndarray], la: int, lb: int, vectors: np.ndarray
) -> np.ndarray:
    """Assemble overlap blocks from radial factors at the bond vectors.

    Parameters
    ----------
    radial : ``{L: [n]}`` values of ``I_L`` at ``|vectors|``.
    vectors : [n, 3] from the centre of ``a`` to the centre of ``b`` (Angstrom).

    Returns
    -------
    [n, 2la+1, 2lb+1]
    """
    out = np.zeros((len(vectors), 2 * la + 1, 2 * lb + 1))
    for L, I in radial.items():
        Y = real_harmonics(L, vectors)  # [n, 2L+1]
        out += np.einsum("n,abc,nc->nab", I, gaunt(la, lb, L), Y)
    return out
