"""Projected quasi-atomic orbitals: an orthonormal minimal basis fitted to plane-wave states.

The representation is built from first-principles Bloch states on a Gamma-centred grid of
k-points and a set of atom-centred trial functions ``g_m`` (for plane waves: the PAW
projectors of every bound valence channel, times spin). At each k:

1. the *frozen* states (all bands up to ``frozen_top``) are kept exactly;
2. the remaining ``M - n_frozen`` dimensions (``M`` = number of trial functions) are the
   combinations of the higher bands that carry most of the trial functions' weight (top
   left singular vectors of their projections);
3. the trial functions projected into that M-dimensional subspace are orthonormalized
   symmetrically (Löwdin), which fixes a smooth gauge tied to the atoms;
4. ``H_W(k) = U^H H_sub U`` is the Hamiltonian in that orthonormal basis.

``H_W(R)`` follows by Fourier transform over the grid; each block of an atom pair is put at
the periodic image that makes the pair closest (Wigner–Seitz, ties shared equally), which
removes most of the aliasing of a finite grid. The frozen bands are reproduced exactly at
the grid points; between them, the error is that of the real-space truncation (measured by
``benchmarks/projected_floor.py``). The basis is orthonormal (S = 1) by construction.

Time reversal: the trial functions are real orbitals times spin, so the construction is
TR-covariant; it is applied at one of each pair (k, -k) and the partner filled as
``H(-k) = T H(k)^* T^H`` with ``T = 1 (x) i sigma_y`` (orbital-major, spin-inner), TRIM
symmetrized, so that ``H(R)`` is exactly time-reversal symmetric.

Conventions: Bloch sums ``H(k) = sum_R H(R) exp(2 pi i k.R)`` without the orbital
positions (as :class:`~hts_z2.hamiltonian.tightbinding.TightBinding`); the projections are
``A[n, m] = <psi_nk | g_mk>`` with Bloch trial functions ``g_mk = sum_R exp(2 pi i k.R)
g_m(r - tau_m - R)``, i.e. the complex conjugate of PAW projections ``<p_m | psi_nk>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable, orbital_table
from hts_z2.hamiltonian.tightbinding import TightBinding

DISENTANGLE_SIGMA = 4.0
"""Decay (eV) of the weight of bands above the frozen window in the choice of the rest of
the basis (:func:`projected_hamiltonian`)."""


class ProjectionError(ValueError):
    """The states cannot carry the projected basis (too few bands, lost trial functions)."""


def grid_kpoints(grid: tuple[int, int, int]) -> np.ndarray:
    """[N1 N2 N3, 3] reduced k-points ``n / N`` of a Gamma-centred grid, C order."""
    axes = [np.arange(n) / n for n in grid]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def time_reversal_partners(grid: tuple[int, int, int]) -> np.ndarray:
    """[N1 N2 N3] index of ``-k`` (modulo reciprocal vectors) for every grid point."""
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    minus = (-idx) % np.asarray(grid)
    return np.ravel_multi_index(minus.T, grid)


def time_reversal_matrix(n_spatial: int) -> np.ndarray:
    """[2n, 2n] real ``1 (x) i sigma_y`` in orbital-major, spin-inner order."""
    return np.kron(np.eye(n_spatial), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def time_reversed(H: np.ndarray) -> np.ndarray:
    """``T H^* T^H`` of [..., 2n, 2n] matrices (H at -k from H at k)."""
    T = time_reversal_matrix(H.shape[-1] // 2)
    return T @ H.conj() @ T.T


@dataclass(frozen=True)
class GaugeInfo:
    """What the construction at one k-point kept.

    Attributes
    ----------
    n_frozen : states kept exactly.
    truncated : more states lay below ``frozen_top`` than the basis holds (the highest
        ones were left to the projection step).
    min_singular : smallest singular value of the column-normalized trial projections into
        the kept subspace (1: trial functions entirely inside it; near 0: one is lost and
        the gauge is not smooth there).
    """

    n_frozen: int
    truncated: bool
    min_singular: float


def projected_hamiltonian(
    E: np.ndarray,
    A: np.ndarray,
    frozen_top: float,
    n_outer: int | None = None,
    sigma: float | None = DISENTANGLE_SIGMA,
    coefficients: bool = False,
):
    """Hamiltonian of the projected orthonormal basis at one k-point.

    Parameters
    ----------
    E : [n_b] band energies (ascending).
    A : [n_b, M] projections ``<psi_n | g_m>`` of the trial functions on the bands.
    frozen_top : bands with ``E <= frozen_top`` are kept exactly (at most M of them).
    n_outer : only the lowest ``n_outer`` bands may enter (e.g. the converged ones).
    sigma : projections of the bands above ``frozen_top`` are weighted by
        ``exp(-((E - frozen_top) / sigma)^2)`` (eV) before the remaining dimensions are
        chosen and the gauge is fixed: the choice then moves continuously with the bands
        instead of jumping where two of them trade trial weight. None: no weighting.

    coefficients : also return the basis as combinations of the bands.

    Returns
    -------
    (H_W [M, M] Hermitian, :class:`GaugeInfo`), and with ``coefficients`` C [n_outer, M]:
    the basis Bloch functions are ``sum_n psi_n C[n, m]`` and ``H_W = C^H diag(E) C``.
    """
    E = np.asarray(E, dtype=float)
    A = np.asarray(A, dtype=np.complex128)
    n_b, M = A.shape
    n_outer = n_b if n_outer is None else min(int(n_outer), n_b)
    if n_outer < M:
        raise ProjectionError(f"{n_outer} bands cannot carry {M} basis functions")
    n_below = int(np.count_nonzero(E[:n_outer] <= frozen_top))
    n_f = min(n_below, M)
    norms = np.linalg.norm(A[:n_outer], axis=0)
    if np.any(norms < 1e-12):
        raise ProjectionError("a trial function has no weight on the bands")
    A = A[:n_outer] / norms
    if sigma is not None:
        above = np.maximum(E[:n_outer] - frozen_top, 0.0)
        A = A * np.exp(-((above / sigma) ** 2))[:, None]
    frozen, rest = A[:n_f], A[n_f:]
    n_free = M - n_f
    if n_free:
        u_left, _, _ = np.linalg.svd(rest, full_matrices=False)
        u = u_left[:, :n_free]  # [n_rest, n_free] most trial weight among the rest
        A_v = np.concatenate([frozen, u.conj().T @ rest])
        H_rest = (u.conj().T * E[n_f:n_outer]) @ u
    else:
        A_v = frozen
        H_rest = np.zeros((0, 0), dtype=np.complex128)
    H_sub = np.zeros((M, M), dtype=np.complex128)
    H_sub[np.arange(n_f), np.arange(n_f)] = E[:n_f]
    H_sub[n_f:, n_f:] = H_rest
    w, s, vh = np.linalg.svd(A_v)
    U = w @ vh  # Löwdin: A_v (A_v^H A_v)^(-1/2)
    H = U.conj().T @ H_sub @ U
    info = GaugeInfo(n_frozen=n_f, truncated=n_below > M, min_singular=float(s.min()))
    if not coefficients:
        return 0.5 * (H + H.conj().T), info
    V = np.zeros((n_outer, M), dtype=np.complex128)
    V[np.arange(n_f), np.arange(n_f)] = 1.0
    if n_free:
        V[n_f:, n_f:] = u
    return 0.5 * (H + H.conj().T), info, V @ U


def fill_time_reversal(
    Hk: dict[int, np.ndarray], grid: tuple[int, int, int]
) -> np.ndarray:
    """[N, M, M] grid Hamiltonians from one of each pair (k, -k).

    ``Hk`` maps grid indices (one per pair, TRIM included) to H_W(k); partners get
    ``T H^* T^H`` and TRIM the average of both.
    """
    partner = time_reversal_partners(grid)
    n = len(partner)
    M = next(iter(Hk.values())).shape[-1]
    out = np.empty((n, M, M), dtype=np.complex128)
    filled = np.zeros(n, bool)
    for i, H in Hk.items():
        j = partner[i]
        if j == i:
            out[i] = 0.5 * (H + time_reversed(H))
        else:
            out[i], out[j] = H, time_reversed(H)
            filled[j] = True
        filled[i] = True
    if not filled.all():
        raise ProjectionError(f"{int((~filled).sum())} grid points have no Hamiltonian")
    return out


def representatives(grid: tuple[int, int, int]) -> np.ndarray:
    """Grid indices holding one point of every pair (k, -k), ascending."""
    partner = time_reversal_partners(grid)
    return np.flatnonzero(np.arange(len(partner)) <= partner)


def ws_images(
    lattice: np.ndarray, tau_i: np.ndarray, tau_j: np.ndarray, grid: tuple[int, int, int],
    tol: float = 1e-5,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Closest periodic images of the bond i -> j + R for every grid vector R.

    Parameters
    ----------
    lattice : [3, 3] rows (Å); tau_i, tau_j : [3] reduced positions.
    grid : the k-grid, whose conjugate supercell is ``diag(grid)``.

    Returns
    -------
    Per grid vector R (C order over ``range(N1) x range(N2) x range(N3)``):
    (images [c, 3] int, lattice vectors ``R + grid * T`` at minimal distance, within
    ``tol`` Å), weight ``1 / c`` as [c].
    """
    N = np.asarray(grid)
    shifts = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    base = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    cand = base[:, None, :] + shifts[None, :, :] * N  # [n_R, 125, 3]
    d = np.linalg.norm((cand + (np.asarray(tau_j) - np.asarray(tau_i))) @ lattice, axis=-1)
    out = []
    for r in range(len(base)):
        keep = d[r] <= d[r].min() + tol
        out.append((cand[r][keep], np.full(int(keep.sum()), 1.0 / keep.sum())))
    return out


def real_space(
    Hk: np.ndarray,
    grid: tuple[int, int, int],
    lattice: np.ndarray,
    positions: np.ndarray,
    atom_of: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Real-space blocks from grid Hamiltonians, each atom pair at its closest images.

    Parameters
    ----------
    Hk : [N1 N2 N3, M, M] H(k) at :func:`grid_kpoints` (spinful, orbital-major).
    positions : [n_atoms, 3] reduced; atom_of : [M / 2] atom of each spatial orbital.

    Returns
    -------
    (R [n_R, 3] int, H [n_R, M, M] complex), closed under -R with ``H(-R) = H(R)^H``.
    """
    n_k, M, _ = Hk.shape
    HR = np.fft.fftn(Hk.reshape(*grid, M, M), axes=(0, 1, 2)) / n_k
    HR = HR.reshape(n_k, M, M)
    atom_of = np.asarray(atom_of)
    spin_atom = np.repeat(atom_of, 2)
    blocks: dict[tuple[int, int, int], np.ndarray] = {}
    n_atoms = len(positions)
    for a in range(n_atoms):
        rows = np.flatnonzero(spin_atom == a)
        for b in range(n_atoms):
            cols = np.flatnonzero(spin_atom == b)
            sub = HR[:, rows[:, None], cols[None, :]]
            for r, (images, weights) in enumerate(
                ws_images(lattice, positions[a], positions[b], grid)
            ):
                for R, w in zip(images, weights, strict=True):
                    key = tuple(int(x) for x in R)
                    if key not in blocks:
                        blocks[key] = np.zeros((M, M), dtype=np.complex128)
                    blocks[key][rows[:, None], cols[None, :]] += w * sub[r]
    keys = sorted(blocks)
    R = np.array(keys, dtype=int)
    H = np.array([blocks[k] for k in keys])
    # exact Hermiticity (the images of (a, b, R) and (b, a, -R) coincide up to rounding)
    index = {k: n for n, k in enumerate(keys)}
    minus = np.array([index[tuple(-x for x in k)] for k in keys])
    H = 0.5 * (H + H[minus].conj().transpose(0, 2, 1))
    return R, H


def projected_model(
    lattice: np.ndarray,
    positions: np.ndarray,
    numbers: np.ndarray,
    orbitals: OrbitalTable,
    grid: tuple[int, int, int],
    Hk: np.ndarray,
    n_occ: int,
) -> TightBinding:
    """The orthonormal projected model as a :class:`TightBinding` (S = None); ``orbitals``
    gives the atom (and l, m) of every spatial orbital."""
    R, H = real_space(Hk, grid, lattice, positions, np.asarray(orbitals.atom))
    return TightBinding(
        lattice, R, H, S=None, n_occ=n_occ, spinful=True, orbitals=orbitals,
        positions=positions, numbers=numbers,
    )


def window_errors(
    E: np.ndarray, E_ref: np.ndarray, n_occ: int, window: float = 1.0
) -> tuple[float, float]:
    """(mean, max) |E - E_ref| over the reference states from ``window`` eV below the
    valence-band maximum to ``window`` eV above the conduction-band minimum (for a metal,
    whose edges cross: the same around both), bands matched by index from the bottom.

    Parameters
    ----------
    E : [n_k, >= n_b]; E_ref : [n_k, n_b] (eV); n_occ : occupied bands of the reference.
    """
    vbm, cbm = E_ref[:, n_occ - 1].max(), E_ref[:, n_occ].min()
    lo, hi = min(vbm, cbm) - window, max(vbm, cbm) + window
    m = min(E.shape[1], E_ref.shape[1])
    sel = (E_ref[:, :m] >= lo) & (E_ref[:, :m] <= hi)
    err = np.abs(E[:, :m] - E_ref[:, :m])[sel]
    return float(err.mean()), float(err.max())


def orbitals_of(atom_of: np.ndarray, orbital_l: np.ndarray, n_atoms: int) -> OrbitalTable:
    """Orbital table of a basis given the atom and l of every spatial orbital, shells in
    order (each shell's ``2l + 1`` orbitals consecutive)."""
    shells: list[list[int]] = [[] for _ in range(n_atoms)]
    i = 0
    while i < len(orbital_l):
        l = int(orbital_l[i])
        shells[int(atom_of[i])].append(l)
        i += 2 * l + 1
    return orbital_table(shells)
