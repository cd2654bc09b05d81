"""The six time-reversal-invariant planes and their half-plane k-grids.

Planes are always ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2). On the plane with
``k_f`` fixed, ``a = f+1`` (mod 3) is the periodic direction and ``b = f+2`` the halved one:
the effective Brillouin zone is ``k_a in [0, 1)``, ``k_b in [0, 1/2]``; its two edges
``k_b = 0`` and ``k_b = 1/2`` are time-reversal-invariant lines.
"""

from __future__ import annotations

import numpy as np

from hts_z2.hamiltonian.sparse import k_chunk
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.topology.fhs import fill_tr_partners

PLANES: tuple[tuple[int, float], ...] = ((0, 0.0), (0, 0.5), (1, 0.0), (1, 0.5), (2, 0.0), (2, 0.5))
PLANE_NAMES: tuple[str, ...] = ("k1=0", "k1=1/2", "k2=0", "k2=1/2", "k3=0", "k3=1/2")


def plane_axes(fixed: int) -> tuple[int, int]:
    """(periodic axis a, halved axis b) of the plane with ``k_fixed`` constant."""
    return (fixed + 1) % 3, (fixed + 2) % 3


def half_plane_grid(fixed: int, value: float, n: int) -> np.ndarray:
    """k-points of the effective half-plane.

    Parameters
    ----------
    fixed, value : the plane ``k_fixed = value``.
    n : even number of points along the periodic axis; the halved axis has ``n/2 + 1``
        lines ``k_b = j/n``, ``j = 0..n/2`` (equal spacing in both directions).

    Returns
    -------
    [n, n/2 + 1, 3] reduced k-points.
    """
    if n < 4 or n % 2:
        raise ValueError(f"plane grids need an even n >= 4, got {n}")
    a, b = plane_axes(fixed)
    k = np.zeros((n, n // 2 + 1, 3))
    k[..., fixed] = value
    k[..., a] = (np.arange(n) / n)[:, None]
    k[..., b] = (np.arange(n // 2 + 1) / n)[None, :]
    return k


def occupied_states(
    tb: TightBinding,
    k: np.ndarray,
    device: str | None = None,
    chunk: int | None = None,
    orthogonalization: str = "cholesky",
) -> tuple[np.ndarray, np.ndarray]:
    """Band energies and occupied orthonormalized states at a batch of k-points.

    Parameters
    ----------
    tb : a dense or block-sparse spinful model (anything with ``eigh``).
    k : [n_k, 3].
    device : None for numpy; a torch device ("cpu", "cuda") to diagonalize with torch.
    chunk : k-points per eigensolve (default: :func:`~hts_z2.hamiltonian.sparse.k_chunk`,
        a few MiB of matrices in flight).

    Returns
    -------
    E : [n_k, n_bands]; Y : [n_k, n_bands, n_occ] complex128.
    """
    chunk = chunk or k_chunk(tb.n_bands)
    E_out = np.empty((len(k), tb.n_bands))
    Y_out = np.empty((len(k), tb.n_bands, tb.n_occ), dtype=np.complex128)
    for s in range(0, len(k), chunk):
        E, Y = tb.eigh(
            k[s : s + chunk], vectors=True, orthogonalization=orthogonalization, device=device
        )
        E_out[s : s + chunk] = E
        Y_out[s : s + chunk] = Y[..., : tb.n_occ]
    return E_out, Y_out


def irreducible_mask(n: int) -> np.ndarray:
    """[n, n/2 + 1] bool: False for the points of the two TR-invariant edges that are the
    time-reversal partners (``i > n/2``) of computed points."""
    mask = np.ones((n, n // 2 + 1), dtype=bool)
    mask[n // 2 + 1 :, [0, -1]] = False
    return mask


def plane_states(
    tb: TightBinding,
    grids: list[np.ndarray],
    device: str | None = None,
    orthogonalization: str = "cholesky",
) -> tuple[np.ndarray, np.ndarray]:
    """Energies and occupied frames on half-plane grids, diagonalizing only the
    irreducible points; edge partners get ``|u(-k)> = Theta |u(k)>``, ``E(-k) = E(k)``.

    Parameters
    ----------
    grids : P grids [n, n/2 + 1, 3] of the same ``n``.

    Returns
    -------
    E : [P, n, n/2 + 1, n_bands]; Y : [P, n, n/2 + 1, n_bands, n_occ].
    """
    k = np.stack(grids)
    mask = np.broadcast_to(irreducible_mask(k.shape[1]), k.shape[:3])
    E_irr, Y_irr = occupied_states(tb, k[mask], device, orthogonalization=orthogonalization)
    E = np.zeros((*k.shape[:3], tb.n_bands))
    Y = np.zeros((*k.shape[:3], tb.n_bands, tb.n_occ), dtype=np.complex128)
    E[mask], Y[mask] = E_irr, Y_irr
    n = k.shape[1]
    for j in (0, -1):
        E[:, n // 2 + 1 :, j] = E[:, 1 : n // 2, j][:, ::-1]
        for p in range(len(grids)):
            fill_tr_partners(Y[p, :, j])
    return E, Y


def direct_gaps(E: np.ndarray, n_occ: int) -> np.ndarray:
    """``E[n_occ] - E[n_occ - 1]`` at every k: [...]."""
    return E[..., n_occ] - E[..., n_occ - 1]
