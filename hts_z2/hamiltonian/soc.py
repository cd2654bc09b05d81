"""Spin–orbit assembly, Eq. (4) of Uni-HamGNN: ``H = H0 (x) I2 + (xi/2) L.sigma``.

For every orbital pair (on-site or off-site) the SOC block is ``xi_ij <phi_i|L|phi_j>.S``
with ``S = sigma/2``; ``<phi_i|L|phi_j>`` is the analytic matrix of the shared ``l`` (zero
between shells of different ``l``). Real ``xi`` with ``xi_ji(-R) = xi_ij(R)`` gives a
Hermitian, time-reversal-symmetric H; SU(2) covariance is exact by construction.
"""

from __future__ import annotations

import numpy as np

from hts_z2.hamiltonian.angular import PAULI, angular_momentum
from hts_z2.hamiltonian.basis import OrbitalTable
from hts_z2.hamiltonian.bloch import spin_expand


def orbital_l_matrices(orbitals: OrbitalTable) -> np.ndarray:
    """``<phi_i|L_a|phi_j>`` for all orbital pairs of equal ``l`` (as if on one centre).

    Returns
    -------
    [3, n, n] complex (purely imaginary).
    """
    n = len(orbitals)
    out = np.zeros((3, n, n), dtype=np.complex128)
    for l in np.unique(orbitals.l):
        if l == 0:
            continue
        idx = np.flatnonzero(orbitals.l == l)
        L = angular_momentum(int(l))
        mi = orbitals.m[idx] + l
        out[:, idx[:, None], idx[None, :]] = L[:, mi[:, None], mi[None, :]]
    return out


def expand_shell_xi(xi_shell: np.ndarray, orbitals: OrbitalTable) -> np.ndarray:
    """Broadcast per-shell-pair SOC strengths to orbital pairs.

    Parameters
    ----------
    xi_shell : [n_R, n_shell, n_shell] real (eV).

    Returns
    -------
    [n_R, n, n] real.
    """
    s = orbitals.shell
    return np.asarray(xi_shell)[:, s[:, None], s[None, :]]


def soc_blocks(xi: np.ndarray, orbitals: OrbitalTable) -> np.ndarray:
    """Spinful SOC blocks ``(xi_ij / 2) <i|L|j> . sigma`` in orbital-major, spin-inner order.

    Parameters
    ----------
    xi : [n_R, n, n] real SOC strengths per orbital pair (eV).

    Returns
    -------
    [n_R, 2n, 2n] complex.
    """
    L = orbital_l_matrices(orbitals)
    n_R, n, _ = xi.shape
    blocks = 0.5 * np.einsum("rij,aij,ast->risjt", xi, L, PAULI, optimize=True)
    return blocks.reshape(n_R, 2 * n, 2 * n)


def spin_pair_blocks(
    M: np.ndarray, sx: np.ndarray, sy: np.ndarray, sz: np.ndarray
) -> dict[tuple[int, int], np.ndarray]:
    """The four spin blocks ``(s, t)`` of ``M (x) I2 + i sum_v B_v (x) sigma_v``.

    Parameters
    ----------
    M, sx, sy, sz : [...] arrays of one shape (spin-independent part and the real SOC
        components ``B_x``, ``B_y``, ``B_z``).

    Returns
    -------
    ``{(s, t): [...] complex}`` with spin up = 0, down = 1.
    """
    return {
        (0, 0): M + 1j * sz,
        (1, 1): M - 1j * sz,
        (0, 1): sy + 1j * sx,
        (1, 0): 1j * sx - sy,
    }


def spinful_blocks(M: np.ndarray, soc: np.ndarray | None = None) -> np.ndarray:
    """``M (x) I2 + i sum_v soc_v (x) sigma_v`` in orbital-major, spin-inner order.

    Parameters
    ----------
    M : [..., n, n] spin-independent blocks.
    soc : [..., 3, n, n] real spin–orbit components (TR-symmetric form), or None.

    Returns
    -------
    [..., 2n, 2n] complex.
    """
    M = np.asarray(M, dtype=np.complex128)
    if soc is None:
        return spin_expand(M)
    *lead, n, _ = M.shape
    flat, soc_flat = M.reshape(-1, n, n), np.asarray(soc).reshape(-1, 3, n, n)
    out = np.empty((len(flat), n, 2, n, 2), dtype=np.complex128)
    for r in range(len(flat)):  # per block: cache-sized temporaries, 5x faster than whole
        for (s, t), block in spin_pair_blocks(flat[r], *soc_flat[r]).items():
            out[r, :, s, :, t] = block
    return out.reshape(*lead, 2 * n, 2 * n)


def assemble_soc(H0: np.ndarray, xi: np.ndarray, orbitals: OrbitalTable) -> np.ndarray:
    """Spinful ``H(R) = H0(R) (x) I2 + (xi(R)/2) L.sigma`` (Eq. 4).

    Parameters
    ----------
    H0 : [n_R, n, n] real spin-independent blocks (eV).
    xi : [n_R, n, n] real SOC strengths per orbital pair, or [n_R, n_shell, n_shell] per
        shell pair (expanded with :func:`expand_shell_xi`).
    orbitals : table of the n spatial orbitals.

    Returns
    -------
    [n_R, 2n, 2n] complex.
    """
    n = len(orbitals)
    if H0.shape[1:] != (n, n):
        raise ValueError(f"H0 blocks are {H0.shape[1:]}, orbital table has {n} orbitals")
    if xi.shape[1:] != (n, n):
        xi = expand_shell_xi(xi, orbitals)
    return spinful_blocks(H0) + soc_blocks(xi, orbitals)


def spin_rotation(axis_angle: np.ndarray) -> np.ndarray:
    """SU(2) matrix ``exp(-i theta n.sigma/2)`` for a rotation vector ``theta n`` [3]."""
    theta = float(np.linalg.norm(axis_angle))
    if theta == 0:
        return np.eye(2, dtype=np.complex128)
    n = np.asarray(axis_angle) / theta
    return np.cos(theta / 2) * np.eye(2) - 1j * np.sin(theta / 2) * np.einsum("a,ast->st", n, PAULI)
