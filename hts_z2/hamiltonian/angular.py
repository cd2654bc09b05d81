"""Orbital angular momentum in the real-spherical-harmonic basis, and Pauli matrices.

Real harmonics follow the standard definition from Condon–Shortley complex ``Y_l^m``:
``m > 0: (Y^-m + (-1)^m Y^m)/sqrt2``, ``m = 0: Y^0``, ``m < 0: i (Y^m - (-1)^m Y^-m)/sqrt2``,
ordered ``m = -l..l`` (l=1: y, z, x; l=2: xy, yz, z^2, xz, x^2-y^2). This coincides with
e3nn's spherical harmonics of a vector given in (y, z, x) order (checked in the tests).
"""

from __future__ import annotations

from functools import cache

import numpy as np

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=np.complex128)
"""[3, 2, 2] Pauli matrices (x, y, z); spin order (up, down)."""


@cache
def complex_to_real(l: int) -> np.ndarray:
    """Columns of ``C`` [2l+1, 2l+1] give real harmonics in the complex ``|l, m>`` basis.

    ``|real_m> = sum_m' C[m' + l, m + l] |l, m'>``, unitary.
    """
    C = np.zeros((2 * l + 1, 2 * l + 1), dtype=np.complex128)
    C[l, l] = 1.0
    s = 1 / np.sqrt(2)
    for m in range(1, l + 1):
        sign = (-1) ** m
        C[l - m, l + m] = s
        C[l + m, l + m] = sign * s
        C[l - m, l - m] = 1j * s
        C[l + m, l - m] = -1j * sign * s
    return C


@cache
def _angular_momentum(l: int) -> np.ndarray:
    m = np.arange(-l, l + 1)
    Lz = np.diag(m).astype(np.complex128)
    Lp = np.zeros((2 * l + 1, 2 * l + 1), dtype=np.complex128)
    for i, mm in enumerate(m[:-1]):
        Lp[i + 1, i] = np.sqrt(l * (l + 1) - mm * (mm + 1))
    Lm = Lp.conj().T
    Lx = (Lp + Lm) / 2
    Ly = (Lp - Lm) / 2j
    C = complex_to_real(l)
    L = np.stack([C.conj().T @ A @ C for A in (Lx, Ly, Lz)])
    L.real[np.abs(L.real) < 1e-14] = 0.0
    L.imag[np.abs(L.imag) < 1e-14] = 0.0
    L.setflags(write=False)
    return L


def angular_momentum(l: int) -> np.ndarray:
    """``[L_x, L_y, L_z]`` in the real basis of shell ``l`` (units of hbar).

    Returns
    -------
    [3, 2l+1, 2l+1] complex, Hermitian and purely imaginary (real orbitals).
    """
    if not 0 <= l <= 4:
        raise ValueError(f"angular momentum l={l} is not supported (0..4)")
    return _angular_momentum(l)


def wigner_d(l: int, rotvec: np.ndarray) -> np.ndarray:
    """Real Wigner matrix of the rotation ``Q = exp(theta n x)`` given as ``theta n`` [3].

    ``Y_l(Q r) = D Y_l(r)`` for the real harmonics of this module; ``D = exp(-i theta n.L)``.

    Returns
    -------
    [2l+1, 2l+1] real orthogonal.
    """
    from scipy.linalg import expm

    gen = np.einsum("a,aij->ij", np.asarray(rotvec, dtype=float), angular_momentum(l))
    return expm(-1j * gen).real
