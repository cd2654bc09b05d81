"""Wilson loops (Wannier charge centres) and the largest-gap Z2 of one plane.

For each line ``k_b = j/n`` of the half plane the Wilson loop along ``k_a`` is the product
of the unitary parts of the overlap matrices ``<u(k_i)|u(k_i+1)>``; its eigenphases / 2 pi
are the WCCs (in convention I, i.e. without intra-cell orbital positions — the Z2 is the
same). Z2 is the parity of the number of WCCs that the midpoint of the largest WCC gap
jumps over as ``k_b`` runs from 0 to 1/2 (Soluyanov & Vanderbilt, PRB 83, 235401 (2011)).
"""

from __future__ import annotations

import numpy as np

from hts_z2.topology.planes import occupied_states, plane_axes

GAP_TOL = 0.3
"""Smallest distance of a gap midpoint to a neighbouring line's WCC, relative to the gap."""


def unitary_part(M: np.ndarray) -> np.ndarray:
    """Closest unitary matrices (polar decomposition) of a stack [..., m, m]."""
    U, _, Vh = np.linalg.svd(M)
    return U @ Vh


def wilson_loops(Y: np.ndarray) -> np.ndarray:
    """Wilson loops along the first axis (closed periodically).

    Parameters
    ----------
    Y : [n, n_lines, n_bands, n_occ] frames along each loop.

    Returns
    -------
    [n_lines, n_occ, n_occ] unitary matrices.
    """
    links = unitary_part(np.swapaxes(Y.conj(), -1, -2) @ np.roll(Y, -1, axis=0))
    W = links[0]
    for link in links[1:]:
        W = W @ link
    return W


def wcc(Y: np.ndarray) -> np.ndarray:
    """Sorted Wannier charge centres in [0, 1) for every line: [n_lines, n_occ]."""
    phases = np.angle(np.linalg.eigvals(wilson_loops(Y)))
    return np.sort(np.mod(phases / (2 * np.pi), 1.0), axis=-1)


def largest_gap(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint and size of the largest (cyclic) gap between sorted WCCs.

    Parameters
    ----------
    x : [n_lines, m] sorted in [0, 1).

    Returns
    -------
    (midpoints [n_lines], sizes [n_lines])
    """
    nxt = np.concatenate([x[:, 1:], x[:, :1] + 1.0], axis=1)
    gaps = nxt - x
    g = np.argmax(gaps, axis=1)
    rows = np.arange(len(x))
    size = gaps[rows, g]
    return np.mod(x[rows, g] + size / 2, 1.0), size


def _cyclic_distance(z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance on the unit circle from each ``z`` [L] to the nearest of ``x`` [L, m]."""
    d = np.abs(x - z[:, None])
    return np.min(np.minimum(d, 1.0 - d), axis=1)


def z2_from_wcc(x: np.ndarray) -> tuple[int, dict]:
    """Largest-gap Z2 from WCCs on lines ``k_b = 0 .. 1/2``.

    Parameters
    ----------
    x : [n_lines, m] sorted WCCs.

    Returns
    -------
    (z2, quality) with ``min_gap_distance`` (relative to the gap) and ``ok``.
    """
    z, size = largest_gap(x)
    lo = np.minimum(z[:-1], z[1:])[:, None]
    hi = np.maximum(z[:-1], z[1:])[:, None]
    jumps = int(np.sum((x[1:] > lo) & (x[1:] < hi)))
    ratio = np.minimum(
        _cyclic_distance(z[:-1], x[1:]) / size[:-1], _cyclic_distance(z[1:], x[:-1]) / size[1:]
    )
    quality = {"min_gap_distance": float(ratio.min()), "ok": bool(ratio.min() >= GAP_TOL)}
    return jumps % 2, quality


def wilson_plane(Y: np.ndarray) -> tuple[int, dict]:
    """Z2 of one plane from its occupied frames on the half-plane grid
    ``[n, n/2 + 1, n_bands, n_occ]`` (see ``planes.half_plane_grid``)."""
    return z2_from_wcc(wcc(Y))


MAX_LINES = 513
"""Most lines a plane may use after adaptive insertion."""


def line_wcc(
    tb,
    fixed: int,
    value: float,
    kb: np.ndarray,
    n_loop: int,
    device: str | None = None,
    orthogonalization: str = "cholesky",
) -> np.ndarray:
    """Sorted WCCs of the loops along ``k_a`` at the given ``k_b`` values.

    Returns
    -------
    [len(kb), n_occ] in [0, 1).
    """
    a, b = plane_axes(fixed)
    k = np.zeros((n_loop, len(kb), 3))
    k[..., fixed] = value
    k[..., a] = (np.arange(n_loop) / n_loop)[:, None]
    k[..., b] = np.asarray(kb)[None, :]
    _, Y = occupied_states(tb, k.reshape(-1, 3), device, orthogonalization=orthogonalization)
    return wcc(Y.reshape(n_loop, len(kb), *Y.shape[1:]))


def _bad_steps(x: np.ndarray) -> np.ndarray:
    """Steps j -> j+1 whose gap midpoints come closer than GAP_TOL (relative) to a WCC."""
    z, size = largest_gap(x)
    ratio = np.minimum(
        _cyclic_distance(z[:-1], x[1:]) / size[:-1], _cyclic_distance(z[1:], x[:-1]) / size[1:]
    )
    return np.flatnonzero(ratio < GAP_TOL)


def adaptive_wilson(
    tb,
    fixed: int,
    value: float,
    x: np.ndarray,
    n_loop: int,
    device: str | None = None,
    orthogonalization: str = "cholesky",
) -> tuple[int, dict]:
    """Largest-gap Z2 with lines inserted where the gap check fails (as Z2Pack does).

    Parameters
    ----------
    x : [n_lines, n_occ] WCCs on equally spaced lines ``k_b = 0 .. 1/2`` (from the grid).
    n_loop : points per Wilson loop.

    Returns
    -------
    (z2, quality) with ``lines`` used, ``min_gap_distance`` and ``ok`` (all steps pass).
    """
    kb = np.linspace(0.0, 0.5, len(x))
    while len(kb) < MAX_LINES:
        bad = _bad_steps(x)
        if len(bad) == 0:
            break
        new_kb = 0.5 * (kb[bad] + kb[bad + 1])
        new_x = line_wcc(tb, fixed, value, new_kb, n_loop, device, orthogonalization)
        order = np.argsort(np.concatenate([kb, new_kb]), kind="stable")
        kb = np.concatenate([kb, new_kb])[order]
        x = np.concatenate([x, new_x])[order]
    z2, quality = z2_from_wcc(x)
    quality["lines"] = len(kb)
    return z2, quality


def wilson_refinement(Y: np.ndarray, context) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """Adaptive-line Wilson-loop Z2 from the grid (loops of n points) and from its
    every-other-point subgrid (loops of n/2); accepted when both pass the gap check and
    (checked by the driver) agree.

    ``context`` carries (tb, fixed axis, value, device, orthogonalization).
    """
    tb, fixed, value, device, ortho = context
    n = Y.shape[0]
    fine = adaptive_wilson(tb, fixed, value, wcc(Y), n, device, ortho)
    coarse = adaptive_wilson(tb, fixed, value, wcc(Y[::2, ::2]), n // 2, device, ortho)
    fine[1]["ok"] = fine[1]["ok"] and coarse[1]["ok"]
    return fine, coarse
