"""Band gaps on a Monkhorst–Pack grid plus the high-symmetry path."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hts_z2.hamiltonian.kpath import high_symmetry_path
from hts_z2.hamiltonian.sparse import k_chunk
from hts_z2.hamiltonian.tightbinding import TightBinding

METAL_TOL = 1e-4
"""Indirect gaps at or below this (eV) are metallic."""
MANIFOLD_MIN_DIRECT_GAP = 1e-2
"""A metal's occupied-manifold Z2 is computed only when its direct gap on the band grid
exceeds this (eV): below it the planes need fine grids and the indices are rarely defined
(measured on the demo set: KHgSb, 2.3 meV, took 229 s to end undefined)."""
MANIFOLD_N_MAX = 32
"""Largest plane grid of a metal's occupied-manifold Z2 (a side result: a plane that has
not converged by then leaves it undefined)."""


@dataclass(frozen=True)
class BandGap:
    """Gap between band ``n_occ`` and ``n_occ + 1`` over the computed k-points.

    Attributes
    ----------
    indirect, direct : gaps (eV); the indirect gap is negative for overlapping bands.
    vbm, cbm : valence-band maximum and conduction-band minimum (eV).
    k_vbm, k_cbm, k_direct : reduced k-points of VBM, CBM and the smallest direct gap.
    is_metal : ``indirect <= METAL_TOL``.
    n_k : number of k-points covered (grid + path; with time reversal a grid pair
        ``(k, -k)`` shares one diagonalization).
    """

    indirect: float
    direct: float
    vbm: float
    cbm: float
    k_vbm: tuple[float, float, float]
    k_cbm: tuple[float, float, float]
    k_direct: tuple[float, float, float]
    is_metal: bool
    n_k: int

    def to_dict(self) -> dict:
        return asdict(self)


def monkhorst_pack(mesh: tuple[int, int, int]) -> np.ndarray:
    """Gamma-centred grid ``[prod(mesh), 3]`` (includes the TRIM for even meshes)."""
    axes = [np.arange(n) / n for n in mesh]
    return np.array(np.meshgrid(*axes, indexing="ij")).reshape(3, -1).T


def mesh_for_spacing(lattice: np.ndarray, kspacing: float) -> tuple[int, int, int]:
    """Even mesh with spacing at most ``kspacing`` (1/Angstrom, 2 pi included)."""
    b = np.linalg.norm(2 * np.pi * np.linalg.inv(lattice).T, axis=1)
    n = np.maximum(2, np.ceil(b / kspacing).astype(int))
    return tuple(int(x + x % 2) for x in n)  # type: ignore[return-value]


TR_TOL = 1e-10
"""Largest time-reversal violation (eV) for which ``E(k) = E(-k)`` is used on the grid."""


def has_time_reversal(tb: TightBinding, tol: float = TR_TOL) -> bool:
    """Whether ``E_n(-k) = E_n(k)``: a spinful model with ``Theta H Theta^-1 = H``, or a
    spinless one with real ``H(R)`` and ``S(R)``."""
    if tb.spinful:
        return tb.time_reversal_error() <= tol
    return all(np.max(np.abs(M.imag), initial=0.0) <= tol for M in (tb.H, tb.S) if M is not None)


def time_reversal_partners(mesh: tuple[int, int, int]) -> np.ndarray:
    """[prod(mesh)] index of ``-k`` (mod reciprocal vectors) for every point of
    :func:`monkhorst_pack`."""
    idx = np.indices(mesh).reshape(3, -1).T
    minus = (-idx) % np.array(mesh)
    return np.ravel_multi_index(minus.T, mesh)


def band_edges(
    tb: TightBinding, k: np.ndarray, chunk: int | None = None, device: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Highest occupied and lowest unoccupied band energies at every k: ([n_k], [n_k]).

    ``chunk``: k-points per eigensolve (default :func:`~hts_z2.hamiltonian.sparse.k_chunk`:
    a few MiB of matrices in flight, near the caches; one batch of all points of a 5-atom
    dzp model is ~100 MiB per array and 6x slower). ``device``: a torch device for the
    Bloch sums and eigensolves (None: numpy)."""
    chunk = chunk or k_chunk(tb.n_bands)
    v = np.empty(len(k))
    c = np.empty(len(k))
    for s in range(0, len(k), chunk):
        E, _ = tb.eigh(k[s : s + chunk], device=device)
        v[s : s + chunk] = E[:, tb.n_occ - 1]
        c[s : s + chunk] = E[:, tb.n_occ]
    return v, c


def band_gap(
    tb: TightBinding,
    kspacing: float = 0.15,
    mesh: tuple[int, int, int] | None = None,
    path: bool = True,
    time_reversal: bool | None = None,
    device: str | None = None,
) -> BandGap:
    """Indirect and direct gap on a Gamma-centred grid and the high-symmetry path.

    Parameters
    ----------
    kspacing : grid spacing (1/Angstrom, 2 pi included) when ``mesh`` is not given.
    mesh : explicit grid.
    path : also sample seekpath's high-symmetry path (structure from ``tb.positions``
        and ``tb.numbers`` when present, else from the lattice alone).
    time_reversal : diagonalize only one of every grid pair ``(k, -k)``, which have the
        same energies under time reversal (None: when :func:`has_time_reversal` holds).
        ``n_k`` still counts every point covered.
    device : a torch device for the Bloch sums and eigensolves (None: numpy).
    """
    mesh = mesh or mesh_for_spacing(tb.lattice, kspacing)
    k = monkhorst_pack(mesh)
    if time_reversal is None:
        time_reversal = has_time_reversal(tb)
    n_grid = len(k)
    if time_reversal:
        k = k[np.arange(n_grid) <= time_reversal_partners(mesh)]
    n_path = 0
    if path:
        k_path = high_symmetry_path(tb.lattice, tb.positions, tb.numbers).k
        k, n_path = np.concatenate([k, k_path]), len(k_path)
    v, c = band_edges(tb, k, device=device)
    return edges_gap(k, v, c, n_grid + n_path)


def edges_gap(k: np.ndarray, v: np.ndarray, c: np.ndarray, n_k: int) -> BandGap:
    """Gap from the band edges at sampled k-points.

    Parameters
    ----------
    k : [m, 3] reduced k-points.
    v, c : [m] highest occupied and lowest empty band energy at each point (eV).
    n_k : points the sample stands for (e.g. counting time-reversal partners).
    """
    iv, ic, idir = int(np.argmax(v)), int(np.argmin(c)), int(np.argmin(c - v))
    indirect = float(c[ic] - v[iv])
    return BandGap(
        indirect=indirect,
        direct=float(c[idir] - v[idir]),
        vbm=float(v[iv]),
        cbm=float(c[ic]),
        k_vbm=tuple(np.round(k[iv], 6).tolist()),
        k_cbm=tuple(np.round(k[ic], 6).tolist()),
        k_direct=tuple(np.round(k[idir], 6).tolist()),
        is_metal=indirect <= METAL_TOL,
        n_k=int(n_k),
    )


def merge_gaps(a: BandGap, b: BandGap) -> BandGap:
    """The gap over the union of the k-points behind ``a`` and ``b`` (e.g. a band grid and
    the Z2 planes): each band edge and the direct gap come from whichever sample holds the
    more extreme value, so the merged gaps are never larger than either's."""
    top = a if a.vbm >= b.vbm else b
    bottom = a if a.cbm <= b.cbm else b
    direct = a if a.direct <= b.direct else b
    indirect = bottom.cbm - top.vbm
    return BandGap(
        indirect=indirect,
        direct=direct.direct,
        vbm=top.vbm,
        cbm=bottom.cbm,
        k_vbm=top.k_vbm,
        k_cbm=bottom.k_cbm,
        k_direct=direct.k_direct,
        is_metal=indirect <= METAL_TOL,
        n_k=a.n_k + b.n_k,
    )
