"""Z2 of the six TRIM planes from Wilson loops of plane-wave spinor states.

On the plane ``k_f = value`` the loops run along ``k_a`` (``a = f+1``) and the lines sit at
``k_b`` in [0, 1/2] (``b = f+2``), the project's half-plane convention. Lines are inserted
where the largest-WCC-gap test fails (as in Z2Pack), each insertion costing one more
non-self-consistent run; a plane whose direct gap closes has no Z2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hts_z2.reference.planewave.links import atom_phases, link_matrix, loop_wcc
from hts_z2.topology.planes import PLANE_NAMES, PLANES, plane_axes
from hts_z2.topology.wilson import GAP_TOL, largest_gap, z2_from_wcc

GAP_CLOSED = 1e-3
"""A direct gap at or below this (eV) anywhere on a plane leaves its Z2 undefined."""
GROUP_GAP = 1.0
"""Occupied bands separated everywhere by more than this (eV) are looped separately."""
GROUP_GAP_MIN = 0.1
"""A plane on which separated groups come closer than this (eV) has no Z2."""
MIN_SINGULAR = 0.25
"""A line whose loop has a link with a smaller singular value is recomputed with twice the
points: neighbouring states that overlap this little make the Wilson loop ill-defined
(measured on BiTeI: 6-point loops through its Rashba-split edges at A had links down to
0.08 and gave inconsistent planes)."""
MAX_LOOP = 48
"""Most points per Wilson loop."""
SMALL_LINE_GAP = 0.15
"""A line whose loop points have a direct gap below this (eV) is computed with at least
:data:`LOOP_AT_SMALL_GAP` points: a band inversion confined between coarse loop points is
otherwise invisible to the loop (BiTeI's pocket near A, 0.07 eV, sits between 6 points)."""
LOOP_AT_SMALL_GAP = 24


def band_groups(energies: np.ndarray, n_occ: int, min_gap: float = GROUP_GAP) -> list[slice]:
    """Split the occupied bands where a gap above ``min_gap`` separates them at every k.

    The Z2 of the occupied manifold is the sum (mod 2) of the Z2 of such isolated groups;
    looping them separately keeps flat semicore WCCs out of the valence bands' largest-gap
    test, which then needs far fewer lines.

    Parameters
    ----------
    energies : [n_k, n_bands] spinor energies (eV), n_bands > n_occ.

    Returns
    -------
    consecutive slices covering ``0 .. n_occ``; splits fall between Kramers pairs.
    """
    E = np.asarray(energies, dtype=float)
    cuts = [0]
    for m in range(2, n_occ, 2):
        if float(np.min(E[:, m] - E[:, m - 1])) > min_gap:
            cuts.append(m)
    cuts.append(n_occ)
    return [slice(a, b) for a, b in itertools.pairwise(cuts)]


@dataclass
class LineData:
    """Wilson loops of some lines of one plane.

    Attributes
    ----------
    kb : [L] line positions; wcc : per band group [L, m_g] sorted WCCs.
    singular : [L] smallest singular value of any link of each line.
    n_loop : [L] points of each line's loop.
    k : [n_k, 3] every k-point computed; valence, conduction : [n_k] band edges (eV).
    line_gap : [L] smallest direct gap on each line's loop points (eV).
    """

    kb: np.ndarray
    wcc: list[np.ndarray]
    singular: np.ndarray
    n_loop: np.ndarray
    k: np.ndarray
    valence: np.ndarray
    conduction: np.ndarray
    line_gap: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.line_gap is None:
            self.line_gap = np.full(len(self.kb), np.inf)

    @property
    def min_singular(self) -> float:
        return float(np.min(self.singular))

    def merged(self, other: LineData) -> LineData:
        """These lines and ``other``'s, ordered by ``kb``."""
        order = np.argsort(np.concatenate([self.kb, other.kb]), kind="stable")
        return LineData(
            kb=np.concatenate([self.kb, other.kb])[order],
            wcc=[np.concatenate([a, b])[order] for a, b in zip(self.wcc, other.wcc, strict=True)],
            singular=np.concatenate([self.singular, other.singular])[order],
            n_loop=np.concatenate([self.n_loop, other.n_loop])[order],
            k=np.concatenate([self.k, other.k]),
            valence=np.concatenate([self.valence, other.valence]),
            conduction=np.concatenate([self.conduction, other.conduction]),
            line_gap=np.concatenate([self.line_gap, other.line_gap])[order],
        )

    def replaced(self, index: np.ndarray, other: LineData) -> LineData:
        """Lines ``index`` replaced by ``other``'s (same ``kb``, finer loops); every
        k-point stays in the band edges."""
        wcc = [w.copy() for w in self.wcc]
        for g in range(len(wcc)):
            wcc[g][index] = other.wcc[g]
        singular, n_loop = self.singular.copy(), self.n_loop.copy()
        singular[index], n_loop[index] = other.singular, other.n_loop
        line_gap = self.line_gap.copy()
        line_gap[index] = np.minimum(line_gap[index], other.line_gap)
        return LineData(
            self.kb, wcc, singular, n_loop,
            np.concatenate([self.k, other.k]),
            np.concatenate([self.valence, other.valence]),
            np.concatenate([self.conduction, other.conduction]),
            line_gap,
        )


@dataclass(frozen=True)
class WilsonPlane:
    """Wilson-loop Z2 of one plane (None when undefined), with its quality."""

    name: str
    z2: int | None
    n_loop: int
    lines: int
    min_gap_distance: float | None
    converged: bool
    min_direct_gap: float
    min_singular: float
    reason: str | None = None
    wcc: list[list[float]] = field(default_factory=list, repr=False)


def loop_points(lattice: np.ndarray, axis: int, spacing: float, minimum: int) -> int:
    """Even number of points along reciprocal vector ``axis`` with steps <= spacing (1/Å)."""
    b = np.linalg.norm(2 * np.pi * np.linalg.inv(np.asarray(lattice, float)).T, axis=1)[axis]
    n = max(minimum, math.ceil(b / spacing))
    return n + n % 2


def line_kpoints(fixed: int, value: float, kb: np.ndarray, n: int) -> np.ndarray:
    """[len(kb) * n, 3] the loop points of each line, line-major."""
    a, b = plane_axes(fixed)
    k = np.zeros((len(kb), n, 3))
    k[..., fixed] = value
    k[..., a] = (np.arange(n) / n)[None, :]
    k[..., b] = np.asarray(kb, dtype=float)[:, None]
    return k.reshape(-1, 3)


def _shifted(u: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``e^{-2 pi i G.r} u(r)`` on the periodic grid of ``u`` [N, n1, n2, n3]."""
    idx = np.indices(u.shape[1:], dtype=float)
    frac = idx / np.array(u.shape[1:], dtype=float)[:, None, None, None]
    return u * np.exp(-2j * np.pi * np.tensordot(G, frac, axes=1))[None]


def lines_wcc(
    states, fixed: int, kb: np.ndarray, n: int, n_occ: int, groups: list[slice] | None = None
) -> LineData:
    """WCCs of the lines ``kb`` from the spin–orbit states of their loop points.

    ``states`` is a :class:`~hts_z2.reference.planewave.gpaw_pw.SocStates` whose k-points
    are ``line_kpoints(fixed, value, kb, n)``; ``groups`` (default: all occupied bands
    together) are looped separately.
    """
    groups = groups or [slice(0, n_occ)]
    a, _ = plane_axes(fixed)
    step = np.zeros(3)
    step[a] = 1.0 / n
    G = np.zeros(3)
    G[a] = 1.0
    dv, dO, positions = states.grid_volume, states.overlap_corrections(), states.positions
    phase = atom_phases(step, positions)
    wccs: list[list[np.ndarray]] = [[] for _ in groups]
    smallest = np.ones(len(kb))
    for line in range(len(kb)):
        idx = line * n + np.arange(n)
        first_u = states.periodic_parts(idx[0])
        u1 = first_u
        links = []
        for i in range(n):
            j = idx[(i + 1) % n]
            u2 = states.periodic_parts(j) if i < n - 1 else _shifted(first_u, G)
            O = (u1.reshape(len(u1), -1).conj() @ u2.reshape(len(u2), -1).T) * dv
            links.append(
                link_matrix(
                    O,
                    states.vectors(idx[i], n_occ),
                    states.vectors(j, n_occ),
                    states.projections(idx[i], n_occ),
                    states.projections(j, n_occ),
                    dO,
                    phase,
                )
            )
            u1 = u2
        for g, group in enumerate(groups):
            x, sv = loop_wcc([M[group, group] for M in links])
            wccs[g].append(x)
            smallest[line] = min(smallest[line], sv)
    E = states.energies
    return LineData(
        kb=np.asarray(kb, dtype=float),
        wcc=[np.array(w) for w in wccs],
        singular=smallest,
        n_loop=np.full(len(kb), n),
        k=states.k,
        valence=E[:, n_occ - 1],
        conduction=E[:, n_occ],
        line_gap=(E[:, n_occ] - E[:, n_occ - 1]).reshape(len(kb), n).min(axis=1),
    )


MOVE_TOL = 0.3
"""Largest movement of any WCC between neighbouring lines (Hausdorff distance of the two
sets on the circle), relative to the smaller of the two largest gaps."""
MIN_LINE_DISTANCE = 1e-3
"""No line is inserted closer than this to its neighbours (reduced units)."""


def _cyclic_hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    """Hausdorff distance of two point sets on the unit circle."""
    d = np.abs(a[:, None] - b[None, :])
    d = np.minimum(d, 1 - d)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def _bad_steps(x: np.ndarray) -> np.ndarray:
    """Steps j -> j+1 that fail a test: a largest-gap midpoint closer than GAP_TOL (relative
    to the gap) to a WCC of the neighbouring line, or a WCC moving by more than MOVE_TOL of
    the smaller largest gap (a WCC can then pass through the gap unseen: measured on BiTeI,
    whose Rashba edges near A made a 5-line plane pass the distance test with the wrong
    Z2)."""
    z, size = largest_gap(x)
    d1 = np.abs(x[1:] - z[:-1, None])
    d2 = np.abs(x[:-1] - z[1:, None])
    near1 = np.min(np.minimum(d1, 1 - d1), axis=1) / size[:-1]
    near2 = np.min(np.minimum(d2, 1 - d2), axis=1) / size[1:]
    move = np.array([_cyclic_hausdorff(x[j], x[j + 1]) for j in range(len(x) - 1)])
    move = move / np.minimum(size[1:], size[:-1])
    return np.flatnonzero((np.minimum(near1, near2) < GAP_TOL) | (move > MOVE_TOL))


def wilson_plane(
    compute: Callable[[np.ndarray, int], LineData],
    plane: int,
    n: int,
    max_lines: int,
    max_loop: int = MAX_LOOP,
    min_singular: float = MIN_SINGULAR,
    start: LineData | None = None,
    extra_kb: np.ndarray | None = None,
) -> tuple[WilsonPlane, LineData]:
    """Adaptive Wilson-loop Z2 of one plane.

    Lines whose loop has a link below ``min_singular``, or a direct gap below
    :data:`SMALL_LINE_GAP` with fewer than :data:`LOOP_AT_SMALL_GAP` points, are recomputed
    with twice the points (up to ``max_loop``); lines are inserted where the largest-gap or
    movement test fails (up to ``max_lines``); both repeat until neither applies.

    Parameters
    ----------
    compute : ``(kb, n) -> LineData`` for lines ``kb`` of this plane with loops of n points.
    plane : index into the project's plane order.
    n : points per loop to start with; the first lines are ``k_b = j / n``, ``j = 0..n/2``.
    max_lines : stop inserting lines beyond this many (``extra_kb`` lines come on top).
    start : lines computed before (a second pass over the plane).
    extra_kb : lines that must be there (through the images of small-gap k-points, see
        :func:`critical_lines`), computed with at least :data:`LOOP_AT_SMALL_GAP` points.
    """
    name = PLANE_NAMES[plane]
    data = start if start is not None else compute(np.arange(n // 2 + 1) / n, n)
    if extra_kb is not None and len(extra_kb):
        new = [kb for kb in np.unique(np.round(extra_kb, 6))
               if np.min(np.abs(data.kb - kb)) > 2 * MIN_LINE_DISTANCE]
        if new:
            data = data.merged(compute(np.array(new), max(n, LOOP_AT_SMALL_GAP)))
            max_lines += len(new)
    while float(np.min(data.conduction - data.valence)) > GAP_CLOSED:
        small = (data.line_gap < SMALL_LINE_GAP) & (data.n_loop < min(LOOP_AT_SMALL_GAP, max_loop))
        coarse = np.flatnonzero(((data.singular < min_singular) | small)
                                & (data.n_loop * 2 <= max_loop))
        if len(coarse):
            finer = int(2 * data.n_loop[coarse].min())
            coarse = coarse[data.n_loop[coarse] * 2 == finer]
            data = data.replaced(coarse, compute(data.kb[coarse], finer))
            continue
        bad = np.unique(np.concatenate([_bad_steps(x) for x in data.wcc]))
        bad = bad[np.diff(data.kb)[bad] > 2 * MIN_LINE_DISTANCE]
        if len(bad) == 0 or len(data.kb) >= max_lines:
            break
        bad = bad[: max_lines - len(data.kb)]
        kb = 0.5 * (data.kb[bad] + data.kb[bad + 1])
        n_new = int(max(data.n_loop[bad].max(), data.n_loop[bad + 1].max()))
        data = data.merged(compute(kb, n_new))
    gap = float(np.min(data.conduction - data.valence))
    n_used = int(data.n_loop.max())
    if gap <= GAP_CLOSED:
        result = WilsonPlane(
            name, None, n_used, len(data.kb), None, False, gap, data.min_singular,
            reason=f"direct gap closes on plane {name} ({gap * 1e3:.3g} meV)",
        )
        return result, data
    per_group = [z2_from_wcc(x) for x in data.wcc]
    z2 = sum(z for z, _ in per_group) % 2
    reasons = []
    failing = sum(len(_bad_steps(x)) for x in data.wcc)
    if not all(q["ok"] for _, q in per_group) or failing:
        reasons.append(f"largest-gap test fails on plane {name} with {len(data.kb)} lines")
    if data.min_singular < min_singular:
        reasons.append(f"links down to {data.min_singular:.2f} with {n_used}-point loops on "
                       f"plane {name}")
    result = WilsonPlane(
        name,
        int(z2),
        n_used,
        len(data.kb),
        float(min(q["min_gap_distance"] for _, q in per_group)),
        not reasons,
        gap,
        data.min_singular,
        reason="; ".join(reasons) or None,
        wcc=np.round(np.concatenate(data.wcc, axis=1), 5).tolist(),
    )
    return result, data


def critical_lines(
    points: np.ndarray, rotations: np.ndarray, plane: int, tol: float = 1e-6
) -> np.ndarray:
    """Line positions ``k_b`` in [0, 1/2] of the plane through the symmetry images of
    ``points``: where a small-gap region seen anywhere must also be sampled on this plane.

    Parameters
    ----------
    points : [m, 3] reduced k-points (e.g. where the direct gap is small).
    rotations : [r, 3, 3] integer point-group rotations acting on fractional real-space
        coordinates (spglib); reduced k transforms as ``k W^-1``; time reversal adds ``-k``.
    plane : index into the project's plane order.
    """
    fixed, value = PLANES[plane]
    _, b = plane_axes(fixed)
    images = []
    for W in np.asarray(rotations, dtype=float):
        inv = np.linalg.inv(W)
        for sign in (1.0, -1.0):
            images.append(sign * np.asarray(points, dtype=float) @ inv)
    k = np.concatenate(images) if images else np.zeros((0, 3))
    on = np.abs(((k[:, fixed] - value + 0.5) % 1.0) - 0.5) < tol
    kb = np.mod(k[on, b], 1.0)
    kb = np.where(kb > 0.5, 1.0 - kb, kb)  # time reversal: the line at -k_b is the same
    return np.unique(np.round(kb, 6))


__all__ = ["PLANES", "LineData", "WilsonPlane", "band_groups", "critical_lines", "line_kpoints",
           "lines_wcc", "loop_points", "wilson_plane"]
