"""Fit SOC strengths ``xi`` per shell pair to first-principles SOC blocks.

A TR-symmetric SOC operator in a real-orbital basis is ``H_soc = i sum_v B_v (x) sigma_v``
with real ``B_v``. The Uni-HamGNN form (Eq. 4) is ``(xi/2) L.sigma`` with ``L_v = i Lam_v``
(``Lam_v`` real) between shells of equal ``l``, i.e. ``B_v = (xi/2) Lam_v``. The
least-squares ``xi`` of a block is ``2 <B, Lam> / <Lam, Lam>``; what the form cannot
represent (anisotropy, blocks between different ``l``) is the fit residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hts_z2.hamiltonian.angular import angular_momentum
from hts_z2.hamiltonian.basis import OrbitalTable


@dataclass(frozen=True)
class XiFit:
    """Fitted SOC strengths.

    Attributes
    ----------
    xi : [n_R, n_shell, n_shell] eV (zero where ``l_i != l_j`` or ``l = 0``).
    residual : relative residual ``||B - B_fit|| / ||B||`` over all blocks (incl. the
        unrepresentable ones).
    """

    xi: np.ndarray
    residual: float


def _lam(l: int) -> np.ndarray:
    """Real part ``Lam_v`` of ``L_v = i Lam_v``: [3, 2l+1, 2l+1]."""
    return angular_momentum(l).imag


def fit_xi(soc: np.ndarray, orbitals: OrbitalTable) -> XiFit:
    """Least-squares ``xi`` for every (R, shell_i, shell_j) pair of equal ``l >= 1``.

    Parameters
    ----------
    soc : [n_R, 3, n, n] real ``B_v(R)`` with ``H_soc(R) = i sum_v B_v (x) sigma_v``.
    orbitals : table of the n spatial orbitals.

    Returns
    -------
    XiFit
    """
    shell_l = orbitals.shell_l
    n_R = soc.shape[0]
    n_shell = len(shell_l)
    xi = np.zeros((n_R, n_shell, n_shell))
    fitted = np.zeros_like(soc)
    starts = np.searchsorted(orbitals.shell, np.arange(n_shell))
    for l in sorted(set(shell_l.tolist()) - {0}):
        lam = _lam(l)
        shells = np.flatnonzero(shell_l == l)
        idx = starts[shells][:, None] + np.arange(2 * l + 1)[None, :]  # [n_s, 2l+1]
        rows = idx[:, None, :, None]
        cols = idx[None, :, None, :]
        blocks = soc[:, :, rows, cols]  # [n_R, 3, n_s, n_s, 2l+1, 2l+1]
        x = 2 * np.einsum("rvabmn,vmn->rab", blocks, lam) / np.sum(lam**2)
        xi[:, shells[:, None], shells[None, :]] = x
        fitted[:, :, rows, cols] = 0.5 * np.einsum("rab,vmn->rvabmn", x, lam)
    norm = float(np.linalg.norm(soc))
    residual = float(np.linalg.norm(soc - fitted)) / norm if norm > 0 else 0.0
    return XiFit(xi, residual)
