"""Maximal localization of a Wannier gauge on a fixed subspace (Marzari–Vanderbilt).

Given the overlaps ``M0(k, b) = <w_mk | e^{-i b.r} | w_n,k+b>`` of the Bloch sums of a
basis (here: the projected quasi-atomic orbitals) between neighbouring grid points, find
unitaries ``U(k)`` that minimize the total spread ``Omega = sum_n <r^2>_n - |<r>_n|^2``
of the rotated basis (Marzari & Vanderbilt, PRB 56, 12847 (1997), finite-difference
form): steepest descent on ``Omega_D + Omega_OD`` (``Omega_I`` is fixed by the subspace).
Spreads are in Å^2 for ``b`` in Å^-1 (2 pi included).

The subspace itself is not changed: bands kept exactly stay exact, and the Hamiltonian in
the rotated basis is ``U(k)^H H(k) U(k)``. Localization shortens the range of ``H(R)``,
which is what a model that predicts atom pairs within a cutoff radius needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bvectors(
    lattice: np.ndarray, grid: tuple[int, int, int], max_shells: int = 6, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Finite-difference neighbours of a grid and their weights.

    Shells of grid steps (by length) are added until weights ``w_s`` with
    ``sum_b w_b b_a b_c = delta_ac`` exist (least squares, exact to ``tol``).

    Returns
    -------
    (steps [n_b, 3] int grid steps ``dn`` (b = dn / N in reduced units, closed under -b),
    weights [n_b] (Å^2)).
    """
    N = np.asarray(grid)
    recip = 2 * np.pi * np.linalg.inv(np.asarray(lattice, dtype=float)).T
    r = np.arange(-2, 3)
    steps = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    steps = steps[np.any(steps != 0, axis=1)]
    cart = (steps / N) @ recip
    length = np.linalg.norm(cart, axis=1)
    order = np.argsort(length, kind="stable")
    steps, cart, length = steps[order], cart[order], length[order]
    shells = np.split(np.arange(len(steps)), np.flatnonzero(np.diff(length) > tol * length[0]) + 1)
    target = np.eye(3)[np.triu_indices(3)]
    for n_shells in range(1, min(max_shells, len(shells)) + 1):
        cols = []
        for s in shells[:n_shells]:
            bb = np.einsum("ba,bc->ac", cart[s], cart[s])
            cols.append(bb[np.triu_indices(3)])
        A = np.array(cols).T  # [6, n_shells]
        w, *_ = np.linalg.lstsq(A, target, rcond=None)
        if np.abs(A @ w - target).max() < tol:
            idx = np.concatenate(shells[:n_shells])
            used = shells[:n_shells]
            weights = np.concatenate([np.full(len(s), w[i]) for i, s in enumerate(used)])
            return steps[idx], weights
    raise ValueError("no set of neighbour shells satisfies the completeness relation")


def neighbour_table(grid: tuple[int, int, int], steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every grid point k (C order) and step dn: the index of the grid point k' and the
    reciprocal vector G [3] int with ``k + dn / N = k' + G``.

    Returns
    -------
    (index [n_k, n_b], G [n_k, n_b, 3]).
    """
    N = np.asarray(grid)
    n = np.stack(np.meshgrid(*[np.arange(x) for x in grid], indexing="ij"), -1).reshape(-1, 3)
    target = n[:, None, :] + steps[None, :, :]
    G = np.floor_divide(target, N)
    wrapped = target - G * N
    return np.ravel_multi_index(wrapped.reshape(-1, 3).T, grid).reshape(len(n), -1), G


@dataclass(frozen=True)
class Spread:
    """Spread of a gauge (Å^2): total and its gauge-invariant part, and the centres (Å)."""

    total: float
    invariant: float
    centres: np.ndarray


def spread(M: np.ndarray, bcart: np.ndarray, w: np.ndarray) -> Spread:
    """Spread of the gauge whose overlaps are ``M`` [n_k, n_b, W, W] (steps ``bcart``
    [n_b, 3] Å^-1, weights ``w`` [n_b])."""
    n_k = M.shape[0]
    d = np.diagonal(M, axis1=-2, axis2=-1)  # [n_k, n_b, W]
    phase = np.angle(d)
    centres = -np.einsum("b,ba,kbn->na", w, bcart, phase) / n_k
    r2 = np.einsum("b,kbn->n", w, 1 - np.abs(d) ** 2 + phase**2) / n_k
    total = float((r2 - (centres**2).sum(1)).sum())
    invariant = float(np.einsum("b,kb->", w, M.shape[-1] - (np.abs(M) ** 2).sum((-2, -1))) / n_k)
    return Spread(total, invariant, centres)


def _gradient(M: np.ndarray, bcart: np.ndarray, w: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """[n_k, W, W] anti-Hermitian ``dOmega/dW(k)`` (Marzari–Vanderbilt eq. 57)."""
    d = np.diagonal(M, axis1=-2, axis2=-1)  # [n_k, n_b, W]
    q = np.angle(d) + np.einsum("ba,na->bn", bcart, centres)[None]
    R = M * d.conj()[..., None, :]  # R_mn = M_mn M_nn^*
    T = M / d[..., None, :] * q[..., None, :]  # T_mn = M_mn / M_nn q_n
    A = 0.5 * (R - R.conj().swapaxes(-1, -2))
    S = (T + T.conj().swapaxes(-1, -2)) / 2j
    return 4 * np.einsum("b,kbmn->kmn", w, A - S)


def _expm_antihermitian(X: np.ndarray) -> np.ndarray:
    """``exp(X)`` of anti-Hermitian [..., W, W] matrices (unitary)."""
    e, V = np.linalg.eigh(1j * X)  # 1j X is Hermitian
    return (V * np.exp(-1j * e)[..., None, :]) @ V.conj().swapaxes(-1, -2)


def rotate(M0: np.ndarray, U: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Overlaps of the rotated gauge: ``U(k)^H M0(k, b) U(k + b)`` [n_k, n_b, W, W]."""
    return U.conj().swapaxes(-1, -2)[:, None] @ M0 @ U[index]


def localize(
    M0: np.ndarray,
    bcart: np.ndarray,
    w: np.ndarray,
    index: np.ndarray,
    iterations: int = 400,
    tol: float = 1e-4,
    step: float = 1.0,
    partner: np.ndarray | None = None,
) -> tuple[np.ndarray, Spread, Spread]:
    """Unitaries [n_k, W, W] that minimize the spread, by steepest descent.

    A step that increases the spread is halved and retried. Stops when the spread changes
    by less than ``tol`` (Å^2) or after ``iterations``. With ``partner`` (the index of -k
    of every grid point), the basis is spinful (orbital-major, spin-inner) and each step
    keeps the rotation time-reversal covariant, ``U(-k) = T^T U(k)^* T`` with
    ``T = 1 (x) i sigma_y``: Kramers partners stay partners, so the Hamiltonian stays
    time-reversal symmetric (the spread alone does not prefer such a gauge).

    Returns
    -------
    (U, spread before, spread after).
    """
    n_k, _, W, _ = M0.shape
    U = np.broadcast_to(np.eye(W, dtype=np.complex128), (n_k, W, W)).copy()
    M = M0
    start = current = spread(M, bcart, w)
    alpha = step / (4 * w.sum())
    T = None if partner is None else np.kron(np.eye(W // 2), [[0.0, 1.0], [-1.0, 0.0]])
    for _ in range(iterations):
        G = _gradient(M, bcart, w, current.centres)
        if T is not None:  # the part of the step that keeps U(-k) = T^T U(k)^* T
            G = 0.5 * (G + T.T @ G[partner].conj() @ T)
        while True:
            trial = U @ _expm_antihermitian(alpha * G)
            M_trial = rotate(M0, trial, index)
            new = spread(M_trial, bcart, w)
            if new.total <= current.total or alpha < 1e-6:
                break
            alpha *= 0.5
        alpha = min(1.2 * alpha, step / (4 * w.sum()))
        done = abs(current.total - new.total) < tol
        U, M, current = trial, M_trial, new
        if done:
            break
    return U, start, current
