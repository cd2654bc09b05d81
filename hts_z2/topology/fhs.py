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


def kramers_frame(V: np.ndarray) -> np.ndarray:
    """Orthonormal frame ``(phi_1, Theta phi_1, phi_2, Theta phi_2, ...)`` of ``span V``.

    Parameters
    ----------
    V : [n, 2m] orthonormal columns spanning a Theta-invariant subspace (occupied states
        at a TRIM).

    Returns
    -------
    [n, 2m]

    Raises
    ------
    ValueError if the subspace is not closed under Theta (broken TR or closed gap).
    """
    _n, m2 = V.shape
    frame = np.zeros_like(V)
    for filled in range(0, m2, 2):
        F = frame[:, :filled]
        rest = V - F @ (F.conj().T @ V)
        norms = np.linalg.norm(rest, axis=0)
        c = int(np.argmax(norms))
        if norms[c] < 1e-6:
            raise ValueError("occupied subspace at a TRIM is not Kramers-closed")
        phi = rest[:, c] / norms[c]
        psi = apply_theta(phi[:, None])[:, 0]
        psi = psi - F @ (F.conj().T @ psi) - phi * (phi.conj() @ psi)
        psi_norm = np.linalg.norm(psi)
        if psi_norm < 0.5:
            raise ValueError("Theta phi is not orthogonal to phi: not a spinful TR basis")
        frame[:, filled] = phi
        frame[:, filled + 1] = psi / psi_norm
    if np.linalg.norm(V - frame @ (frame.conj().T @ V)) > 1e-6 * m2:
        raise ValueError("occupied subspace at a TRIM is not Kramers-closed")
    return frame


def fix_tr_gauge(line: np.ndarray) -> np.ndarray:
    """Impose ``|u(-k)> = Theta |u(k)>`` along a TR-invariant line.

    Parameters
    ----------
    line : [n, n_bands, n_occ] frames at ``k_a = i/n`` (``n`` even); ``-k`` is ``n - i``.

    Returns
    -------
    [n, n_bands, n_occ] with Kramers frames at ``i = 0, n/2``.
    """
    n = line.shape[0]
    out = line.copy()
    out[n // 2 + 1 :] = apply_theta(line[1 : n // 2][::-1])
    out[0] = kramers_frame(line[0])
    out[n // 2] = kramers_frame(line[n // 2])
    return out


def link_phases(Y1: np.ndarray, Y2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Phase and modulus of ``det(Y1^H Y2)`` for stacks of frames [..., n_bands, n_occ]."""
    sign, logabs = np.linalg.slogdet(np.swapaxes(Y1.conj(), -1, -2) @ Y2)
    return np.angle(sign), np.exp(logabs)


def wrap(phi: np.ndarray) -> np.ndarray:
    """Map angles into (-pi, pi]."""
    return np.pi - np.mod(np.pi - phi, 2 * np.pi)


def fhs_plane(Y: np.ndarray) -> tuple[int, dict]:
    """Z2 of one plane from its occupied frames on the half-plane grid.

    Parameters
    ----------
    Y : [n, n/2 + 1, n_bands, n_occ] orthonormal occupied frames at ``k_a = i/n``,
        ``k_b = j/n`` (see ``planes.half_plane_grid``).

    Returns
    -------
    (z2, quality) with quality ``max_flux`` (largest |F|), ``min_overlap`` (smallest
    |det| of a link) and ``ok``.
    """
    Y = Y.copy()
    Y[:, 0] = fix_tr_gauge(Y[:, 0])
    Y[:, -1] = fix_tr_gauge(Y[:, -1])
    Aa, ua = link_phases(Y, np.roll(Y, -1, axis=0))
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
