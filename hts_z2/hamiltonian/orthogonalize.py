"""Loewdin orthogonalization of a non-orthogonal model into an orthogonal one (for file
formats without an overlap matrix, e.g. Wannier90 ``_hr.dat``)."""

from __future__ import annotations

import numpy as np

from hts_z2.hamiltonian.bloch import bloch_sum, lowdin
from hts_z2.hamiltonian.tightbinding import TightBinding


def odd_grid(tb: TightBinding, cap: int = 15) -> tuple[int, int, int]:
    """Odd k-grid that holds the model's R range: ``2 max|R_a| + 1`` (at most ``cap``)."""
    span = np.abs(tb.R).max(axis=0)
    return tuple(int(min(cap - (cap + 1) % 2, 2 * s + 1)) for s in span)


def lowdin_orthogonalized(
    tb: TightBinding, grid: tuple[int, int, int] | None = None
) -> TightBinding:
    """Orthogonal model ``H'(k) = S^-1/2 H S^-1/2`` sampled on an odd Gamma-centred grid and
    Fourier-transformed to ``R_a in [-(n_a-1)/2, (n_a-1)/2]``.

    Eigenvalues are exact on the grid and interpolated elsewhere; time reversal and
    Hermiticity are kept (the Loewdin root commutes with both). The orbitals become the
    symmetric orthonormal combinations of the original ones.
    """
    if tb.S is None:
        return tb
    grid = grid or odd_grid(tb)
    if any(n % 2 == 0 for n in grid):
        raise ValueError(f"grid {grid} must be odd in every direction")
    axes = [np.arange(n) / n for n in grid]
    k = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    Hk = bloch_sum(tb.R, tb.H, k)
    Sk = bloch_sum(tb.R, tb.S, k)
    X = np.linalg.inv(lowdin(Sk, k))
    Hk = X @ Hk @ X
    Hk = 0.5 * (Hk + np.swapaxes(Hk.conj(), -1, -2))
    ranges = [np.arange(-(n - 1) // 2, (n - 1) // 2 + 1) for n in grid]
    R = np.stack(np.meshgrid(*ranges, indexing="ij"), -1).reshape(-1, 3)
    phase = np.exp(-2j * np.pi * (R @ k.T)) / len(k)  # [n_R, n_k]
    H = np.einsum("rk,kmn->rmn", phase, Hk)
    return TightBinding(
        tb.lattice,
        R,
        H,
        None,
        n_occ=tb.n_occ,
        spinful=tb.spinful,
        orbitals=tb.orbitals,
        positions=tb.positions,
        numbers=tb.numbers,
    )
