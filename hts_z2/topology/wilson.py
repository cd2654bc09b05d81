"""Wilson loops (Wannier charge centres) and the largest-gap Z2 of one plane.

For each line ``k_b = j/n`` of the half plane the Wilson loop along ``k_a`` is the product
of the unitary parts of the overlap matrices ``<u(k_i)|u(k_i+1)>``; its eigenphases / 2 pi
are the WCCs (in convention I, i.e. without intra-cell orbital positions — the Z2 is the
same). Z2 is the parity of the number of WCCs that the midpoint of the largest WCC gap
jumps over as ``k_b`` runs from 0 to 1/2 (Soluyanov & Vanderbilt, PRB 83, 235401 (2011)).
"""

from __future__ import annotations

import numpy as np

GAP_TOL = 0.3
"""Smallest distance of a gap midpoint to a neighbouring line's WCC, relative to the gap."""
NESTED_GAP_TOL = 0.1
"""Weaker distance accepted when three nested grids agree (see ``wilson_refinement``)."""


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


def wilson_refinement(Y: np.ndarray) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """Wilson-loop Z2 on the grid and on its every-other-point subgrid.

    The grid's result is accepted (``ok``) when its largest-gap check passes, or — for
    many-band models whose WCCs crowd the gap — when no WCC comes closer to a gap midpoint
    than ``NESTED_GAP_TOL`` of the gap and the grid, its subgrid and the subgrid's subgrid
    (n >= 16) all give the same Z2.
    """
    (z, quality), coarse = wilson_plane(Y), wilson_plane(Y[::2, ::2])
    n = Y.shape[0]
    nested = (
        n >= 16
        and quality["min_gap_distance"] >= NESTED_GAP_TOL
        and z == coarse[0] == wilson_plane(Y[::4, ::4])[0]
    )
    quality["nested_agreement"] = bool(nested)
    quality["ok"] = bool(quality["ok"] or nested)
    return (z, quality), coarse
