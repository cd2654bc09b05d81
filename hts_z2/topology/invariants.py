"""Z2 indices of a 3D tight-binding insulator on the six TRIM planes, with grid refinement.

Each plane starts on an ``n_start x (n_start/2 + 1)`` half-plane grid; the Z2 value on the
grid and on its every-other-point subgrid must agree and pass the method's quality check
(FHS: plaquette flux; Wilson: WCC gap distance), else the plane's grid is doubled, up to
``n_max``. A plane whose direct gap closes, a Hamiltonian that breaks time reversal, or a
plane that never converges makes the whole result "undefined" with the reason; bands
that overlap anywhere on the computed k-points make it a "metal".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hts_z2.hamiltonian.gap import BandGap, edges_gap, merge_gaps
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.topology.fhs import fhs_refinement
from hts_z2.topology.planes import (
    PLANE_NAMES,
    PLANES,
    direct_gaps,
    half_plane_grid,
    plane_states,
)
from hts_z2.topology.result import PlaneResult, Z2Result, label_from_planes, undefined
from hts_z2.topology.wilson import wilson_refinement

PlaneMethod = Callable[[np.ndarray, tuple], tuple[tuple[int, dict], tuple[int, dict]]]
METHODS: dict[str, PlaneMethod] = {"fhs": fhs_refinement, "wilson": wilson_refinement}


def _precheck(tb: TightBinding, method: str, tr_tol: float) -> Z2Result | None:
    if not tb.spinful:
        return undefined(
            method, "spinless Hamiltonian: Z2 needs a spinful model", lattice=tb.lattice
        )
    err = tb.time_reversal_error()
    if err > tr_tol:
        return undefined(
            method,
            f"Hamiltonian breaks time reversal (max |T H* T^-1 - H| = {err:.2e} eV)",
            lattice=tb.lattice,
        )
    return None


def _evaluate_plane(
    Y: np.ndarray,
    E: np.ndarray,
    k: np.ndarray,
    n_occ: int,
    fn: PlaneMethod,
    gap_tol: float,
    name: str,
    context: tuple,
) -> tuple[PlaneResult, str | None]:
    """Z2 of one plane on grid ``n`` and its subgrid; returns (result, reason-if-closed)."""
    gaps = direct_gaps(E, n_occ)
    i = np.unravel_index(np.argmin(gaps), gaps.shape)
    min_gap = float(gaps[i])
    grid = (Y.shape[0], Y.shape[1])
    if min_gap <= gap_tol:
        reason = (
            f"direct gap closes on plane {name}: {min_gap * 1e3:.3g} meV at "
            f"k = {np.round(k[i], 4).tolist()}"
        )
        return PlaneResult(None, grid, min_gap, False), reason
    (z_fine, q_fine), (z_coarse, _) = fn(Y, context)
    converged = z_fine == z_coarse and q_fine.pop("ok")
    return PlaneResult(z_fine, grid, min_gap, bool(converged), q_fine), None


def plane_edges(edges: BandGap | None, k: np.ndarray, E: np.ndarray, n_occ: int) -> BandGap:
    """``edges`` widened by one plane grid.

    Parameters
    ----------
    k : [n, n/2 + 1, 3] reduced k-points; E : [n, n/2 + 1, n_bands] their energies (eV).
    """
    v, c = E[..., n_occ - 1].ravel(), E[..., n_occ].ravel()
    grid = edges_gap(k.reshape(-1, 3), v, c, len(v))
    return grid if edges is None else merge_gaps(edges, grid)


def compute_z2(
    tb: TightBinding,
    method: str = "fhs",
    n_start: int = 8,
    n_max: int = 128,
    gap_tol: float = 1e-3,
    tr_tol: float = 1e-5,
    device: str | None = None,
    orthogonalization: str = "cholesky",
    allow_overlap: bool = False,
) -> Z2Result:
    """Z2 on the six TRIM planes with per-plane grid refinement.

    Parameters
    ----------
    tb : spinful, time-reversal-symmetric model with ``n_occ`` occupied bands.
    method : "fhs" (Fukui–Hatsugai–Suzuki) or "wilson" (WCC largest-gap).
    n_start, n_max : first and largest number of points along a plane's periodic axis
        (multiples of 4; the halved axis gets ``n/2 + 1`` lines).
    gap_tol : a plane whose direct gap falls to this value (eV) is undefined.
    tr_tol : allowed violation of time reversal (eV).
    device : None (numpy) or a torch device for the diagonalization.
    allow_overlap : report the indices of the lowest ``n_occ`` bands even when valence and
        conduction bands overlap in energy (a semimetal whose direct gap is open on every
        plane); the result's ``reason`` says so. Screening keeps the default (``metal``).
    """
    if method not in METHODS:
        raise ValueError(f"unknown Z2 method {method!r}; choose from {sorted(METHODS)}")
    if n_start % 4 or n_start < 8 or n_max < n_start:
        raise ValueError("n_start must be a multiple of 4, >= 8, and <= n_max")
    bad = _precheck(tb, method, tr_tol)
    if bad is not None:
        return bad
    fn = METHODS[method]
    results: list[PlaneResult | None] = [None] * 6
    reasons: list[str] = []
    edges: BandGap | None = None
    pending = list(range(6))
    n = n_start
    while pending and n <= n_max:
        still = []
        for p in pending:  # one plane at a time keeps memory at one grid of states
            grid = half_plane_grid(*PLANES[p], n)
            E, Y = plane_states(tb, [grid], device, orthogonalization)
            edges = plane_edges(edges, grid, E[0], tb.n_occ)
            context = (tb, *PLANES[p], device, orthogonalization)
            res, reason = _evaluate_plane(
                Y[0], E[0], grid, tb.n_occ, fn, gap_tol, PLANE_NAMES[p], context
            )
            results[p] = res
            if reason:
                reasons.append(reason)
            elif not res.converged:
                still.append(p)
        if reasons:
            break
        pending = still
        n *= 2
    planes_done = tuple(r for r in results if r is not None)
    min_gap = min(r.min_gap for r in planes_done)
    grid = max(r.grid for r in planes_done)
    kw = {
        "min_gap": min_gap,
        "lattice": tb.lattice,
        "plane_results": planes_done,
        "grid": grid,
        "plane_gap": edges,
    }
    vbm, cbm = edges.vbm, edges.cbm  # type: ignore[union-attr]
    overlap = cbm - vbm
    metal = undefined(method, f"bands overlap: VBM {vbm:.4f} eV >= CBM {cbm:.4f} eV", "metal", **kw)
    if overlap < -gap_tol and not allow_overlap:
        return metal
    if reasons:  # bands that merely touch are reported by where the direct gap closes
        return undefined(method, "; ".join(reasons), **kw)
    if overlap <= 0 and not allow_overlap:
        return metal
    note = None
    if overlap <= 0:
        note = (
            f"bands overlap (VBM {vbm:.4f} eV >= CBM {cbm:.4f} eV): indices of the lowest "
            f"{tb.n_occ} bands of a semimetal"
        )
    if pending:
        names = ", ".join(PLANE_NAMES[p] for p in pending)
        return undefined(method, f"not converged up to n={n_max} on plane(s) {names}", **kw)
    planes = tuple(int(r.z2) for r in planes_done)  # type: ignore[arg-type]
    try:
        nu0, nu, label = label_from_planes(planes)
    except ValueError as err:
        return undefined(method, str(err), **kw)
    return Z2Result(
        planes=planes,
        nu0=nu0,
        nu=nu,
        label=label,
        min_plane_gap=min_gap,
        converged=True,
        method=method,
        grid=grid,
        reason=note,
        lattice=tuple(map(tuple, tb.lattice.tolist())),
        plane_results=planes_done,
        plane_gap=edges,
    )


def z2_invariants(tb: TightBinding, **kwargs) -> Z2Result:
    """Fukui–Hatsugai–Suzuki Z2 indices (see :func:`compute_z2` for options)."""
    return compute_z2(tb, method="fhs", **kwargs)


def wilson_z2(tb: TightBinding, **kwargs) -> Z2Result:
    """Wilson-loop (WCC largest-gap) Z2 indices, the independent cross-check."""
    return compute_z2(tb, method="wilson", **kwargs)
