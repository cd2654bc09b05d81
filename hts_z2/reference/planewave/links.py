"""Overlaps of PAW spinor states between neighbouring k-points, and Wilson loops over them.

For Bloch states ``psi_k = e^{ik.r} u_k`` the link is ``M_mn = <u_m,k1|u_n,k2>``
``= <psi_m,k1| e^{-i b.r} |psi_n,k2>`` with ``b = k2 - k1`` (k2 may lie in the next
Brillouin zone: ``u_{k+G} = e^{-iG.r} u_k``). In PAW it is the pseudo overlap plus, on
each atom a, ``e^{-i b.R_a} P1^* dO_a P2`` (the phase taken at the atom's centre).

Spinor states are rows of coefficients over the scalar bands x spin (``2n + s``), as a
second-variation spin–orbit calculation gives them, so the pseudo part is built from the
much smaller scalar overlap matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def link_matrix(
    scalar_overlap: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    proj1: Sequence[np.ndarray],
    proj2: Sequence[np.ndarray],
    dO: Sequence[np.ndarray],
    atom_phase: np.ndarray,
) -> np.ndarray:
    """Overlap of two sets of PAW spinor states.

    Parameters
    ----------
    scalar_overlap : [N, N] pseudo overlap ``<u~_n,k1|u~_n',k2>`` of the scalar bands.
    v1, v2 : [m, 2N] spinor coefficients of the states at k1 and k2.
    proj1, proj2 : per atom [m, 2, n_i] PAW projections of the spinor states.
    dO : per atom [n_i, n_i] PAW overlap corrections.
    atom_phase : [n_atoms] ``e^{-i b.R_a}``.

    Returns
    -------
    [m, m] complex.
    """
    up1, down1 = v1[:, 0::2], v1[:, 1::2]
    up2, down2 = v2[:, 0::2], v2[:, 1::2]
    M = up1.conj() @ scalar_overlap @ up2.T + down1.conj() @ scalar_overlap @ down2.T
    for P1, P2, d, phase in zip(proj1, proj2, dO, atom_phase, strict=True):
        for s in range(2):
            M += phase * (P1[:, s].conj() @ d @ P2[:, s].T)
    return M


def atom_phases(b: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``e^{-2 pi i b.R_a}`` for a reduced k-step b [3] and reduced positions [n_atoms, 3]."""
    return np.exp(-2j * np.pi * (np.asarray(positions, dtype=float) @ np.asarray(b, dtype=float)))


def loop_wcc(links: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """Wannier charge centres of one closed loop from its link matrices.

    Parameters
    ----------
    links : n matrices [m, m], ``M(k_i, k_{i+1})`` around the loop (the last one closes it).

    Returns
    -------
    (sorted WCCs in [0, 1) [m], smallest singular value of any link: how far the loop's
    discretization is from losing a state).
    """
    W = None
    smallest = 1.0
    for M in links:
        U, sv, Vh = np.linalg.svd(M)
        smallest = min(smallest, float(sv.min()))
        W = U @ Vh if W is None else W @ (U @ Vh)
    phases = np.angle(np.linalg.eigvals(W))
    return np.sort(np.mod(phases / (2 * np.pi), 1.0)), smallest
