"""Fukui–Hatsugai–Suzuki lattice Z2 of one time-reversal-invariant plane.

Fukui & Hatsugai, J. Phys. Soc. Jpn. 76, 053702 (2007); Fukui, Hatsugai & Suzuki,
JPSJ 74, 1674 (2005). On the effective half-plane ``k_a in [0,1)``, ``k_b in [0,1/2]``:

1. on the two TR-invariant edges ``k_b = 0, 1/2`` the occupied frame at ``-k`` is set to
   ``Theta`` applied to the frame at ``k``, and at the four TRIM the frame is built from
   Kramers pairs ``(phi, Theta phi)``;
2. link variables ``U = det <u(k)|u(k+dk)>`` give phases from ``slogdet``;
3. plaquette fields ``F`` are the sums of link phases wrapped into ``(-pi, pi]``;
4. ``n = (sum of links - F) / 2 pi`` is an integer per plaquette, ``Z2 = sum n mod 2``.

States are orthonormalized (Cholesky by default, see ``hts_z2.hamiltonian.bloch``); the
map is smooth, periodic and commutes with time reversal, so Z2 is that of ``(H, S)``.
"""

from __future__ import annotations

import numpy as np

from hts_z2.hamiltonian.timereversal import apply_theta

FLUX_TOL = 1.0
"""Largest plaquette flux (rad) accepted as resolved; FHS is exact when all |F| < pi."""


def kramers_frames(V: np.ndarray) -> np.ndarray:
    """Orthonormal frames ``(phi_1, Theta phi_1, phi_2, Theta phi_2, ...)`` of ``span V``.

    Parameters
    ----------
    V : [B, n, 2m] orthonormal columns, each spanning a Theta-invariant subspace
        (occupied states at a TRIM).

    Returns
    -------
    [B, n, 2m]

    Raises
    ------
    ValueError if a subspace is not closed under Theta (broken TR or closed gap).
    """
    B, _, m2 = V.shape
    rows = np.arange(B)
    frame = np.zeros_like(V)
    rest = V.copy()
    for filled in range(0, m2, 2):
        norms = np.linalg.norm(rest, axis=1)
        c = np.argmax(norms, axis=1)
        if np.any(norms[rows, c] < 1e-6):
            raise ValueError("occupied subspace at a TRIM is not Kramers-closed")
        phi = rest[rows, :, c] / norms[rows, c][:, None]
        psi = apply_theta(phi[..., None])[..., 0]
        psi -= np.einsum("bn,b->bn", phi, np.einsum("bn,bn->b", phi.conj(), psi))
        psi /= np.linalg.norm(psi, axis=1, keepdims=True)
        frame[:, :, filled] = phi
        frame[:, :, filled + 1] = psi
        pair = frame[:, :, filled : filled + 2]
        rest -= pair @ (np.swapaxes(pair.conj(), 1, 2) @ rest)
    if np.linalg.norm(rest) > 1e-6 * m2 * B:
        raise ValueError("occupied subspace at a TRIM is not Kramers-closed")
    return frame


def kramers_frame(V: np.ndarray) -> np.ndarray:
    """Single-frame version of :func:`kramers_frames`: [n, 2m] -> [n, 2m]."""
    return kramers_frames(V[None])[0]


def fill_tr_partners(line: np.ndarray) -> np.ndarray:
    """Set ``|u(-k)> = Theta |u(k)>`` along a TR-invariant line (in place).

    Parameters
    ----------
    line : [n, n_bands, n_occ] frames at ``k_a = i/n`` (``n`` even); ``-k`` is ``n - i``.
        Only ``i = 0 .. n/2`` are read.
    """
    n = line.shape[0]
    line[n // 2 + 1 :] = apply_theta(line[1 : n // 2][::-1])
    return line


def fix_tr_gauge(line: np.ndarray) -> np.ndarray:
    """TR gauge of a whole TR-invariant line: partners from Theta, Kramers frames at the
    two TRIM ``i = 0, n/2``. [n, n_bands, n_occ] -> [n, n_bands, n_occ]."""
    out = fill_tr_partners(line.copy())
    n = line.shape[0]
    out[[0, n // 2]] = kramers_frames(out[[0, n // 2]])
    return out


def link_phases(Y1: np.ndarray, Y2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Phase and modulus of ``det(Y1^H Y2)`` for stacks of frames [..., n_bands, n_occ]."""
    sign, logabs = np.linalg.slogdet(np.swapaxes(Y1.conj(), -1, -2) @ Y2)
    return np.angle(sign), np.exp(logabs)


def tr_symmetric_edges(Aa: np.ndarray) -> np.ndarray:
    """Copy the link phases of the ``k_a >= 0`` half of both TR-invariant edges onto
    their TR partners.

    In the TR gauge the link ``i -> i+1`` and its partner ``n-1-i -> n-i`` have equal
    ``det`` values; a link of ``det = -1`` has phase ``+pi`` or ``-pi`` depending on the
    sign of a rounding-level imaginary part (i.e. on the LAPACK build), and an edge link
    enters one plaquette only, so unequal partners would flip the Z2.

    Parameters
    ----------
    Aa : [n, n/2 + 1] phases of the links ``(i, j) -> (i + 1, j)``.
    """
    Aa = Aa.copy()
    n = Aa.shape[0]
    half = np.arange(n // 2)
    Aa[n - 1 - half, 0] = Aa[half, 0]
    Aa[n - 1 - half, -1] = Aa[half, -1]
    return Aa


def wrap(phi: np.ndarray) -> np.ndarray:
    """Map angles into (-pi, pi]."""
    return np.pi - np.mod(np.pi - phi, 2 * np.pi)


def fhs_field(Y: np.ndarray) -> tuple[int, dict]:
    """Z2 from TR-gauge-fixed frames on the half-plane grid (steps 2–4 above).

    Parameters
    ----------
    Y : [n, n/2 + 1, n_bands, n_occ] with both edges ``j = 0, n/2`` in the TR gauge.

    Returns
    -------
    (z2, quality) with quality ``max_flux`` (largest |F|), ``min_overlap`` (smallest
    |det| of a link) and ``ok``.
    """
    Aa, ua = link_phases(Y, np.roll(Y, -1, axis=0))
    Aa = tr_symmetric_edges(Aa)
    Ab, ub = link_phases(Y[:, :-1], Y[:, 1:])
    loop = Aa[:, :-1] + np.roll(Ab, -1, axis=0) - Aa[:, 1:] - Ab
    F = wrap(loop)
    n_field = np.rint((loop - F) / (2 * np.pi)).astype(int)
    max_flux = float(np.abs(F).max())
    min_overlap = float(min(ua.min(), ub.min()))
    quality = {
        "max_flux": max_flux,
        "min_overlap": min_overlap,
        "ok": bool(max_flux < FLUX_TOL and min_overlap > 1e-3),
    }
    return int(n_field.sum()) % 2, quality


def gauge_fixed(Y: np.ndarray) -> np.ndarray:
    """Copy of half-plane frames [n, n/2 + 1, n_bands, n_occ] with both edges TR-fixed."""
    Y = Y.copy()
    n = Y.shape[0]
    Y[:, 0] = fill_tr_partners(Y[:, 0])
    Y[:, -1] = fill_tr_partners(Y[:, -1])
    trims = (np.array([0, n // 2, 0, n // 2]), np.array([0, 0, -1, -1]))
    Y[trims] = kramers_frames(Y[trims])
    return Y


def fhs_plane(Y: np.ndarray) -> tuple[int, dict]:
    """Z2 of one plane from occupied frames on the half-plane grid
    [n, n/2 + 1, n_bands, n_occ] (see ``planes.half_plane_grid``)."""
    return fhs_field(gauge_fixed(Y))


def fhs_refinement(Y: np.ndarray, context=None) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """FHS on the grid and on its every-other-point subgrid, sharing one gauge fixing
    (the subgrid of a TR-fixed grid is TR-fixed)."""
    Yf = gauge_fixed(Y)
    return fhs_field(Yf), fhs_field(Yf[::2, ::2])
