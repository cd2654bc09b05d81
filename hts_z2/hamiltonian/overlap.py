"""Exact LCAO overlap matrices of a crystal from the radial functions of the basis.

The PAW overlap of two basis orbitals (what GPAW's LCAO mode diagonalizes against) is

``S_mu,nu = <phi_mu | phi_nu> + sum_a sum_ij <phi_mu | p_i^a> dO^a_ij <p_j^a | phi_nu>``,

a two-centre term plus, for every atom ``a`` whose projector spheres both orbitals touch,
a term through that atom's projectors ``p^a`` and PAW overlap corrections ``dO^a``. Both
need only the radial functions ``f(r)`` of the orbitals and projectors (real harmonics
``Y_lm`` as in :mod:`~hts_z2.hamiltonian.angular`), integrated by
:mod:`~hts_z2.hamiltonian.twocenter`. The tables live in an :class:`OverlapBasis` file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import spherical_jn

from hts_z2.hamiltonian.twocenter import (
    bessel_transform,
    gaunt,
    overlap_radial,
    real_harmonics,
)

K_MAX = 30.0  # 1/Angstrom: upper end of the Fourier-Bessel k grid
DK = 0.03  # 1/Angstrom
DD = 0.03  # Angstrom: spacing of the tabulated radial factors I_L(d)
NEGLIGIBLE = 1e-9  # overlap blocks whose largest element is below this are dropped


@dataclass(frozen=True, eq=False)
class AtomicFunctions:
    """Radial functions of one element on the grid ``r = dr * arange(n_r)`` (Angstrom).

    Attributes
    ----------
    orbital_l : ``l`` of every radial shell of the basis (basis order).
    orbitals : [n_shells, n_r] ``f(r)`` of the orbitals ``f(r) Y_lm`` (Angstrom^-3/2),
        zero at and beyond the cutoff.
    projector_l : ``l`` of every PAW projector radial function.
    projectors : [n_proj, n_r] projector radial functions (same scaling as the orbitals).
    dO : [n_pi, n_pi] PAW overlap corrections, ``n_pi = sum(2 l + 1)`` over projectors
        (empty for a norm-conserving basis).
    """

    orbital_l: tuple[int, ...]
    orbitals: np.ndarray
    projector_l: tuple[int, ...] = ()
    projectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    dO: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        n_pi = sum(2 * l + 1 for l in self.projector_l)
        if len(self.orbital_l) != len(self.orbitals):
            raise ValueError("one orbital radial function per shell is needed")
        if len(self.projector_l) != len(self.projectors) or self.dO.shape != (n_pi, n_pi):
            raise ValueError("projector functions, their l and dO do not match")

    @property
    def n_orbitals(self) -> int:
        return sum(2 * l + 1 for l in self.orbital_l)


def _extent(f: np.ndarray, dr: float) -> float:
    """Radius beyond which all rows of ``f`` [n, n_r] vanish (Angstrom)."""
    nonzero = np.flatnonzero(np.abs(f).max(axis=0, initial=0.0) > 0) if f.size else []
    return float((nonzero[-1] + 1) * dr) if len(nonzero) else 0.0


@dataclass(frozen=True, eq=False)
class OverlapBasis:
    """Radial tables of a basis for a set of elements (keyed by atomic number)."""

    name: str
    dr: float
    elements: dict[int, AtomicFunctions]

    @staticmethod
    def _stored(el: AtomicFunctions) -> dict[str, np.ndarray]:
        """One element's arrays as files store them (and :meth:`digest` hashes them)."""
        return {
            "orbital_l": np.array(el.orbital_l, dtype=np.int32),
            "orbitals": np.ascontiguousarray(el.orbitals, dtype=np.float32),
            "projector_l": np.array(el.projector_l, dtype=np.int32),
            "projectors": np.ascontiguousarray(el.projectors, dtype=np.float32),
            "dO": np.ascontiguousarray(el.dO, dtype=np.float64),
        }

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {"dr": np.array(self.dr), "name": np.array(self.name)}
        for z, el in self.elements.items():
            arrays.update({f"{z}/{key}": a for key, a in self._stored(el).items()})
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> OverlapBasis:
        with np.load(path) as data:
            zs = sorted({int(key.split("/")[0]) for key in data.files if "/" in key})
            elements = {
                z: AtomicFunctions(
                    orbital_l=tuple(int(l) for l in data[f"{z}/orbital_l"]),
                    orbitals=data[f"{z}/orbitals"].astype(np.float64),
                    projector_l=tuple(int(l) for l in data[f"{z}/projector_l"]),
                    projectors=data[f"{z}/projectors"].astype(np.float64),
                    dO=data[f"{z}/dO"].astype(np.float64),
                )
                for z in zs
            }
            return cls(str(data["name"]), float(data["dr"]), elements)

    def digest(self, numbers=None) -> str:
        """sha256 of the tables of the given elements (all when None), as :meth:`save`
        stores them: identifies the functions that predictions were computed from."""
        h = hashlib.sha256(self.name.encode())
        h.update(np.float64(self.dr).tobytes())
        zs = sorted(self.elements) if numbers is None else sorted({int(z) for z in numbers})
        for z, el in self.subset(zs).elements.items():
            h.update(np.int64(z).tobytes())
            for a in self._stored(el).values():
                h.update(a.tobytes())
        return h.hexdigest()

    def shell_mismatch(self, shells_by_z) -> str | None:
        """Why these tables cannot serve elements with the given shells (``{Z: l of every
        shell}``, or ``(Z, shells)`` pairs), or None when they can."""
        items = shells_by_z.items() if isinstance(shells_by_z, dict) else shells_by_z
        for z, shells in items:
            el = self.elements.get(int(z))
            if el is None:
                return f"basis {self.name!r} has no radial functions for Z={int(z)}"
            if tuple(el.orbital_l) != tuple(shells):
                return (
                    f"basis {self.name!r}: Z={int(z)} has shells {list(el.orbital_l)}, "
                    f"not {list(shells)}"
                )
        return None

    def subset(self, numbers) -> OverlapBasis:
        """The tables of the given elements only (KeyError naming the missing ones)."""
        zs = sorted({int(z) for z in numbers})
        missing = [z for z in zs if z not in self.elements]
        if missing:
            raise KeyError(f"basis {self.name!r} has no radial functions for Z = {missing}")
        return OverlapBasis(self.name, self.dr, {z: self.elements[z] for z in zs})


class BesselGrids:
    """The r, k and d grids of one basis and their spherical Bessel matrices, computed once
    per ``l`` and shared by every pair table (they dominate the cost of a table)."""

    def __init__(self, dr: float, n_r: int, d_max: float):
        self.r = dr * np.arange(n_r)
        self.k = np.arange(0.0, K_MAX, DK)
        self.d = np.arange(0.0, d_max + 2 * DD, DD)
        self._jr: dict[int, np.ndarray] = {}
        self._jd: dict[int, np.ndarray] = {}

    def jr(self, l: int) -> np.ndarray:
        """``j_l(k r)`` [n_r, n_k]."""
        if l not in self._jr:
            self._jr[l] = spherical_jn(l, np.outer(self.r, self.k))
        return self._jr[l]

    def jd(self, L: int) -> np.ndarray:
        """``j_L(k d)`` [n_d, n_k]."""
        if L not in self._jd:
            self._jd[L] = spherical_jn(L, np.outer(self.d, self.k))
        return self._jd[L]

    def transforms(self, f: np.ndarray, ls: tuple[int, ...]) -> np.ndarray:
        """Bessel transforms [n_f, n_k] of the rows of ``f`` [n_f, <= n_r]."""
        return np.array(
            [
                bessel_transform(_pad(row, len(self.r)), l, self.r, self.k, self.jr(l))
                for row, l in zip(f, ls, strict=True)
            ]
        ).reshape(len(ls), len(self.k))


class PairTable:
    """Overlap blocks between the functions of two elements at any bond vector.

    ``kind`` selects the functions: "orbital" on both sides (two-centre overlap) or
    "projector" on the first (projections ``<p_i^a | phi_mu>``).
    """

    def __init__(
        self,
        first: AtomicFunctions,
        second: AtomicFunctions,
        kind: str,
        dr: float,
        grids: BesselGrids | None = None,
    ):
        if kind == "orbital":
            fa, la = first.orbitals, first.orbital_l
        elif kind == "projector":
            fa, la = first.projectors, first.projector_l
        else:
            raise ValueError(f"unknown kind {kind!r}")
        fb, lb = second.orbitals, second.orbital_l
        self.la, self.lb = la, lb
        self.cutoff = _extent(fa, dr) + _extent(fb, dr)
        if grids is None or grids.d[-1] < self.cutoff or len(grids.r) < max(len(fa[0]), len(fb[0])):
            grids = BesselGrids(dr, max(fa.shape[1], fb.shape[1], 2), self.cutoff)
        n_d = int(np.searchsorted(grids.d, self.cutoff)) + 2
        d = grids.d[:n_d]
        radial = overlap_radial(
            grids.transforms(fa, la),
            la,
            grids.transforms(fb, lb),
            lb,
            grids.k,
            d,
            lambda L: grids.jd(L)[:n_d],
        )
        keys = sorted(radial)
        starts_a = np.concatenate([[0], np.cumsum([2 * l + 1 for l in la])]).astype(int)
        starts_b = np.concatenate([[0], np.cumsum([2 * l + 1 for l in lb])]).astype(int)
        self.starts_a, self.starts_b = starts_a, starts_b
        self.Ls = sorted({key[2] for key in keys})
        # one spline for every radial factor I_(i,j,L)(d): [n_d, n_keys]
        self.spline = CubicSpline(d, np.stack([radial[key] for key in keys], axis=1))
        # C[key, M, a*b]: Gaunt coefficients placed in the full block, so that
        # block[n] = sum_key,M I_key(d_n) Y_LM(d_n) C[key, M]
        m_max = 2 * max(self.Ls, default=0) + 1
        C = np.zeros((len(keys), m_max, starts_a[-1], starts_b[-1]))
        for k, (i, j, L) in enumerate(keys):
            g = gaunt(la[i], lb[j], L)  # [2la+1, 2lb+1, 2L+1]
            C[k, : 2 * L + 1, starts_a[i] : starts_a[i + 1], starts_b[j] : starts_b[j + 1]] = (
                g.transpose(2, 0, 1)
            )
        self.key_L = np.array([key[2] for key in keys], dtype=int)
        self.coupling = C.reshape(len(keys) * m_max, -1)
        self.m_max = m_max

    def blocks(self, vectors: np.ndarray) -> np.ndarray:
        """Blocks at bond vectors [n, 3] (from the first function's centre to the second's).

        Returns
        -------
        [n, n_a, n_b], zero beyond the cutoff.
        """
        vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
        dist = np.linalg.norm(vectors, axis=1)
        n_a, n_b = int(self.starts_a[-1]), int(self.starts_b[-1])
        out = np.zeros((len(vectors), n_a, n_b))
        inside = dist < self.cutoff
        if not inside.any() or len(self.key_L) == 0:
            return out
        v, dd = vectors[inside], dist[inside]
        radial = self.spline(dd)  # [n, n_keys]
        W = np.zeros((len(v), len(self.key_L), self.m_max))
        for L in self.Ls:
            sel = self.key_L == L
            W[:, sel, : 2 * L + 1] = radial[:, sel, None] * real_harmonics(L, v)[:, None, :]
        out[inside] = (W.reshape(len(v), -1) @ self.coupling).reshape(len(v), n_a, n_b)
        return out


def _pad(f: np.ndarray, n: int) -> np.ndarray:
    return np.pad(f, (0, n - len(f)))


def neighbour_images(
    lattice: np.ndarray, positions: np.ndarray, cut_ab: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All ``(a, b, R)`` with ``|tau_b + R - tau_a| < cut_ab[a, b]`` (self pairs included).

    Returns
    -------
    a [n], b [n], R [n, 3] int, vectors [n, 3] (Angstrom).
    """
    lattice = np.asarray(lattice, dtype=float)
    tau = np.asarray(positions, dtype=float) @ lattice
    span = np.linalg.norm(tau[:, None] - tau[None], axis=-1).max()
    recip = np.linalg.norm(np.linalg.inv(lattice).T, axis=1)
    n_c = np.ceil((cut_ab.max() + span) * recip).astype(int)
    grid = np.indices(2 * n_c + 1).reshape(3, -1).T - n_c
    vec = tau[None, None, :, :] + (grid @ lattice)[:, None, None, :] - tau[None, :, None, :]
    r, a, b = np.nonzero(np.linalg.norm(vec, axis=-1) < cut_ab[None])
    return a, b, grid[r], vec[r, a, b]


class OverlapCalculator:
    """Overlap matrices ``S(R)`` of crystals in one :class:`OverlapBasis` (tables cached)."""

    def __init__(self, basis: OverlapBasis):
        self.basis = basis
        self._tables: dict[tuple[int, int, str], PairTable] = {}
        funcs = [f for el in basis.elements.values() for f in (el.orbitals, el.projectors)]
        n_r = max((f.shape[1] for f in funcs), default=2)
        rc = max((e[0] for e in self._extents.values()), default=0.0)
        rp = max((e[1] for e in self._extents.values()), default=0.0)
        reach = rc + max(rc, rp)
        self.grids = BesselGrids(basis.dr, max(n_r, 2), reach)

    def table(self, za: int, zb: int, kind: str) -> PairTable:
        key = (int(za), int(zb), kind)
        if key not in self._tables:
            el = self.basis.subset([za, zb]).elements
            self._tables[key] = PairTable(el[int(za)], el[int(zb)], kind, self.basis.dr, self.grids)
        return self._tables[key]

    @cached_property
    def _extents(self) -> dict[int, tuple[float, float]]:
        dr = self.basis.dr
        return {
            z: (_extent(el.orbitals, dr), _extent(el.projectors, dr))
            for z, el in self.basis.elements.items()
        }

    def overlap(
        self, lattice: np.ndarray, positions: np.ndarray, numbers: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Real-space overlap of a crystal, convention I of docs/design.md.

        Parameters
        ----------
        lattice : [3, 3] rows (Angstrom); positions : [n_atoms, 3] fractional;
        numbers : [n_atoms] atomic numbers.

        Returns
        -------
        R [n_R, 3] int (closed under -R, contains 0) and S [n_R, n, n] real, where
        ``S(R)[mu, nu] = <phi_mu(r - tau_mu) | S | phi_nu(r - tau_nu - R)>`` and
        orbitals are ordered per atom, per shell, per m. Blocks below ``NEGLIGIBLE`` are
        dropped.
        """
        numbers = np.asarray(numbers, dtype=int)
        size = np.array([self.basis.elements[int(z)].n_orbitals for z in numbers])
        starts = np.concatenate([[0], np.cumsum(size)])
        return _dense(self.overlap_blocks(lattice, positions, numbers), starts, int(starts[-1]))

    def overlap_blocks(
        self, lattice: np.ndarray, positions: np.ndarray, numbers: np.ndarray
    ) -> dict[tuple[int, int, tuple[int, int, int]], np.ndarray]:
        """The overlap as atom-pair blocks: ``{(i, j, R): [n_i, n_j]}`` for every block
        above ``NEGLIGIBLE`` (see :meth:`overlap`; the sparse form of the same matrix)."""
        numbers = np.asarray(numbers, dtype=int)
        self.basis.subset(numbers)
        el = [self.basis.elements[int(z)] for z in numbers]
        rc = np.array([self._extents[int(z)][0] for z in numbers])

        blocks: dict[tuple[int, int, tuple[int, int, int]], np.ndarray] = {}

        def add(i: int, j: int, R: tuple[int, int, int], M: np.ndarray) -> None:
            key = (i, j, R)
            blocks[key] = blocks[key] + M if key in blocks else M

        a, b, R, vec = neighbour_images(lattice, positions, rc[:, None] + rc[None, :])
        self._add_pairs(numbers, a, b, R, vec, "orbital", add)
        a, b, R, P = self.projections(lattice, positions, numbers)
        for atom in range(len(numbers)):
            dO = el[atom].dO
            if dO.size == 0:
                continue
            local, PX = stacked_projections(a, b, P, atom, len(numbers))
            PZ = {j: dO @ X for j, X in PX.items()}  # [n, n_pi, n_j]
            for (i, j), s, t in projector_pairs(a, b, atom):
                dR, inverse = np.unique(R[t] - R[s], axis=0, return_inverse=True)
                blocks_ij = segment_products(PX[i][local[s]], PZ[j][local[t]], inverse)
                for r, M in zip(dR.tolist(), blocks_ij, strict=True):
                    add(i, j, tuple(r), M)
        return {k: v for k, v in blocks.items() if np.abs(v).max() > NEGLIGIBLE}

    def projections(
        self, lattice: np.ndarray, positions: np.ndarray, numbers: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """Projections ``<p_i^a | phi_mu>`` of every orbital onto every atom's PAW projectors
        that it reaches (arguments as :meth:`overlap`).

        Returns
        -------
        a [n], b [n], R [n, 3] int and P: for each pair ``s``, the block [n_pi(a), n_orb(b)]
        of the projectors of atom ``a[s]`` (cell 0) with the orbitals of atom ``b[s]`` in
        cell ``R[s]``.
        """
        numbers = np.asarray(numbers, dtype=int)
        self.basis.subset(numbers)
        rc = np.array([self._extents[int(z)][0] for z in numbers])
        rp = np.array([self._extents[int(z)][1] for z in numbers])
        a, b, R, vec = neighbour_images(lattice, positions, rp[:, None] + rc[None, :])
        return a, b, R, self._pair_blocks(numbers, a, b, vec, "projector")

    def _pair_blocks(self, numbers, a, b, vec, kind) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.zeros(0)] * len(a)
        za, zb = numbers[a], numbers[b]
        for pair in {(int(x), int(y)) for x, y in zip(za, zb, strict=True)}:
            sel = np.flatnonzero((za == pair[0]) & (zb == pair[1]))
            M = self.table(*pair, kind).blocks(vec[sel])
            for s, m in zip(sel, M, strict=True):
                out[s] = m
        return out

    def _add_pairs(self, numbers, a, b, R, vec, kind, add) -> None:
        for s, M in enumerate(self._pair_blocks(numbers, a, b, vec, kind)):
            add(int(a[s]), int(b[s]), tuple(int(x) for x in R[s]), M)


def projector_pairs(a: np.ndarray, b: np.ndarray, atom: int):
    """Pairs ``(s, t)`` of projections onto the same atom, grouped by orbital atoms.

    Parameters
    ----------
    a, b : [n] projector atom and orbital atom of every projection (as returned by
        :meth:`OverlapCalculator.projections`).

    Yields
    ------
    ((b_s, b_t), s [m], t [m]) for every pair of orbital atoms reached by ``atom``'s
    projectors: the projections ``s`` and ``t`` of each of the m pairs.
    """
    sel = np.flatnonzero(a == atom)
    s_all, t_all = (x.ravel() for x in np.meshgrid(sel, sel, indexing="ij"))
    group = b[s_all] * (int(b.max(initial=0)) + 1) + b[t_all]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for chunk in np.split(order, bounds):
        if len(chunk):
            s, t = s_all[chunk], t_all[chunk]
            yield (int(b[s[0]]), int(b[t[0]])), s, t


def stacked_projections(
    a: np.ndarray, b: np.ndarray, P: list[np.ndarray], atom: int, n_atoms: int
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The projections onto ``atom``'s projectors, stacked per orbital atom.

    Returns
    -------
    local [n] (row of projection x in its stack) and {orbital atom j: [m_j, n_pi, n_j]}.
    """
    local = np.zeros(len(a), dtype=int)
    stacks = {}
    for j in range(n_atoms):
        xs = np.flatnonzero((a == atom) & (b == j))
        if len(xs):
            local[xs] = np.arange(len(xs))
            stacks[j] = np.stack([P[x] for x in xs])
    return local, stacks


def segment_products(X: np.ndarray, Z: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """``sum over p in segment g of X[p]^T Z[p]`` for every segment ``g``.

    Parameters
    ----------
    X : [n, m, a]; Z : [n, m, w]; segment : [n] ints ``0 .. n_seg - 1``.

    Returns
    -------
    [n_seg, a, w]. Each segment is one matrix product over its pairs' stacked ``m`` axes,
    so no [n, a, w] intermediate is formed.
    """
    segment = np.asarray(segment).reshape(-1)
    n_seg = int(segment.max(initial=-1)) + 1
    n_m, n_a, n_w = X.shape[1], X.shape[2], Z.shape[2]
    out = np.zeros((n_seg, n_a, n_w))
    if n_seg == 0:
        return out
    order = np.argsort(segment, kind="stable")
    counts = np.bincount(segment, minlength=n_seg)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # segments of equal length go through one batched product: [g, a, c m] @ [g, c m, w]
    for c in np.unique(counts[counts > 0]):
        segs = np.flatnonzero(counts == c)
        rows = order[(first[segs][:, None] + np.arange(c)[None, :]).reshape(-1)]
        A = X[rows].reshape(len(segs), c, n_m, n_a).transpose(0, 3, 1, 2)
        B = Z[rows].reshape(len(segs), c * n_m, n_w)
        out[segs] = A.reshape(len(segs), n_a, c * n_m) @ B
    return out


def _dense(blocks: dict, starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Assemble atom-pair blocks (:meth:`OverlapCalculator.overlap_blocks`) into
    [n_R, n, n]."""
    kept = blocks
    R = sorted({k[2] for k in kept} | {(0, 0, 0)})
    R = sorted(set(R) | {tuple(-x for x in r) for r in R})
    index = {r: i for i, r in enumerate(R)}
    S = np.zeros((len(R), n, n))
    for (i, j, r), M in kept.items():
        S[index[r], starts[i] : starts[i + 1], starts[j] : starts[j + 1]] = M
    return np.array(R, dtype=int).reshape(-1, 3), S
