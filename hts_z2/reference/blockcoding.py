"""Predictive coding of a sample's overlap and spin–orbit blocks (sample format 3).

Both block sets are fixed by the basis and a handful of numbers per atom:

- ``S(R)`` is the exact LCAO overlap of the basis (:mod:`hts_z2.hamiltonian.overlap`);
- GPAW's spin–orbit operator lives inside the PAW spheres. Between orbitals ``mu, nu``
  it is ``B_v = sum_a P_a^T M_a,v P_a`` with the projections ``P_a = <p^a | phi>`` and, per
  atom, ``M_a,v = sum_{j1 j2: l1 = l2 >= 1} c^a_{j1 j2} Lam_v(l)`` on the projector block
  ``(j1, j2)``: ``Lam_v`` is the real matrix of ``L_v = i Lam_v`` and ``c^a_{j1 j2}``
  (symmetric) the radial integral of the two partial waves with ``(1/r) dV/dr`` of that
  atom's self-consistent potential. A few coefficients per atom (6 for Bi, whose setup has
  two p and two d projectors) fix every SOC element of the sample.

A sample file stores the coefficients ``c`` (float64, fitted to the atoms' on-site blocks)
and, for ``S`` and ``SOC``, the difference between the quantized blocks and the quantized
prediction: integers that are zero almost everywhere (the prediction is within a few 1e-7
of GPAW's values), which gzip stores 10–50× smaller than the blocks. Decoding adds the
prediction back, so the blocks come back as they were quantized; only floating-point
differences between machines can move a value by one quantum (1e-8 in S, 1 µeV in SOC).

The prediction uses the radial tables shipped in ``hts_z2/data/basis`` (every element of
GPAW's dzp basis set); a sample records their sha256 and decoding refuses other tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from hts_z2.hamiltonian.angular import angular_momentum
from hts_z2.hamiltonian.overlap import (
    OverlapBasis,
    OverlapCalculator,
    projector_pairs,
    segment_products,
    stacked_projections,
)

TABLES_DIR = Path(__file__).resolve().parents[1] / "data" / "basis"
PREDICTOR_VERSION = 1
"""Version of the predictions in this module. Files record it; any change to what
:func:`predict_blocks` computes must raise it (and keep the old one decodable), because a
file's residuals are only meaningful against the exact prediction it was written with."""
DEFAULT_TABLES = "gpaw-dzp-pbe"
"""Name of the shipped radial tables (``TABLES_DIR / f"{name}.npz"``)."""


class CodingError(ValueError):
    """The blocks of a sample cannot be coded or decoded with the available tables."""


@lru_cache(maxsize=2)
def tables_calculator(name: str = DEFAULT_TABLES) -> OverlapCalculator:
    """The overlap calculator of the shipped tables ``name`` (pair tables cached)."""
    path = TABLES_DIR / f"{name}.npz"
    if not path.is_file():
        raise CodingError(f"no radial tables {name!r} at {path}")
    return OverlapCalculator(OverlapBasis.load(path))


@dataclass(frozen=True)
class Crystal:
    """What a prediction needs of a sample: the structure and its basis shells."""

    lattice: np.ndarray  # [3, 3] rows, Angstrom
    positions: np.ndarray  # [n_atoms, 3] fractional
    numbers: np.ndarray  # [n_atoms]
    shells: tuple[tuple[int, ...], ...]  # l of every radial shell, per atom

    @property
    def n_orbitals(self) -> np.ndarray:
        """[n_atoms] orbitals per atom."""
        return np.array([sum(2 * l + 1 for l in sh) for sh in self.shells])


@dataclass(frozen=True)
class Edges:
    """Edge list with flat block offsets (the layout of a sample's ``h0``/``s``/``soc``)."""

    edge_index: np.ndarray  # [n_e, 5] (i, j, R1, R2, R3)
    offset: np.ndarray  # [n_e + 1]

    @property
    def n_values(self) -> int:
        return int(self.offset[-1])

    @cached_property
    def _sorted_codes(self) -> tuple[int, int, np.ndarray, np.ndarray]:
        """(atom bound, R span, sorted edge codes, edge number of each), computed once."""
        ei = self.edge_index
        bound = int(ei[:, :2].max(initial=-1)) + 1
        span = int(np.abs(ei[:, 2:]).max(initial=0))
        codes = _codes(ei[:, 0], ei[:, 1], ei[:, 2:], bound, span)
        order = np.argsort(codes)
        return bound, span, codes[order], order

    def find(self, i: np.ndarray, j: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Edge number of every ``(i[n], j[n], R[n, 3])``, -1 where there is none."""
        bound, span, codes, order = self._sorted_codes
        i, j, R = np.asarray(i), np.asarray(j), np.asarray(R).reshape(-1, 3)
        out = np.full(len(i), -1, dtype=np.int64)
        inside = (i < bound) & (j < bound) & (np.abs(R).max(axis=1, initial=0) <= span)
        if not len(codes) or not inside.any():
            return out
        query = _codes(i[inside], j[inside], R[inside], bound, span)
        pos = np.minimum(np.searchsorted(codes, query), len(codes) - 1)
        match = codes[pos] == query
        hits = np.flatnonzero(inside)[match]
        out[hits] = order[pos[match]]
        return out

    def subset(self, keep: np.ndarray) -> Edges:
        """The edges ``keep`` [m] (indices), with their own offsets."""
        sizes = np.diff(self.offset)[keep]
        return Edges(self.edge_index[keep], np.concatenate([[0], np.cumsum(sizes)]))


def _codes(i, j, R, n_atoms: int, span: int) -> np.ndarray:
    """One integer per (i, j, R) with |R_c| <= span."""
    width = 2 * span + 1
    R = np.asarray(R, dtype=np.int64) + span
    code = np.asarray(i, dtype=np.int64) * n_atoms + np.asarray(j, dtype=np.int64)
    for c in range(3):
        code = code * width + R[:, c]
    return code


def check_basis(calc: OverlapCalculator, crystal: Crystal) -> None:
    """Raise CodingError unless the tables hold every element with the sample's shells."""
    reason = calc.basis.shell_mismatch(zip(crystal.numbers, crystal.shells, strict=True))
    if reason is not None:
        raise CodingError(f"{reason} (the sample's)")


def paw_sums(
    calc: OverlapCalculator, crystal: Crystal, edges: Edges, operators: list[np.ndarray]
) -> list[np.ndarray]:
    """``sum over images of atom a of P_s^T O_a[k] P_t`` at the edges' block positions.

    Parameters
    ----------
    operators : per atom ``a`` an array [K_a, n_pi(a), n_pi(a)] of projector-space
        operators (K_a may be 0).

    Returns
    -------
    per atom [K_a, n_values]: the operators' contributions to every edge value. Pairs of
    orbitals whose edge is not in ``edges`` are left out.
    """
    a, b, R, P = calc.projections(crystal.lattice, crystal.positions, crystal.numbers)
    n_atoms = len(crystal.numbers)
    out = []
    for atom, ops in enumerate(operators):
        acc = np.zeros((len(ops), edges.n_values))
        out.append(acc)
        if len(ops) == 0:
            continue
        K, n_pi = len(ops), ops.shape[1]
        local, PX = stacked_projections(a, b, P, atom, n_atoms)
        PZ = {  # O_k P_x for every projection, [n, n_pi, K * nb]
            j: (ops[None] @ PX[j][:, None]).transpose(0, 2, 1, 3).reshape(len(PX[j]), n_pi, -1)
            for j in PX
        }
        for (i, j), s, t in projector_pairs(a, b, atom):
            e = edges.find(b[s], b[t], R[t] - R[s])
            keep = e >= 0
            if not keep.any():
                continue
            s, t, e = s[keep], t[keep], e[keep]
            X = PX[i][local[s]]  # [n, n_pi, nb1]
            Z = PZ[j][local[t]]  # [n, n_pi, K * nb2]
            edge, segment = np.unique(e, return_inverse=True)
            T = segment_products(X, Z, segment)  # [n_edges, nb1, K * nb2]
            nb1, nb2 = X.shape[2], T.shape[2] // K
            T = T.reshape(len(edge), nb1, K, nb2).transpose(2, 0, 1, 3).reshape(K, len(edge), -1)
            pos = edges.offset[edge][:, None] + np.arange(nb1 * nb2)[None, :]  # distinct
            acc[:, pos] += T
    return out


def two_centre_overlap(calc: OverlapCalculator, crystal: Crystal, edges: Edges) -> np.ndarray:
    """The two-centre part ``<phi_mu | phi_nu>`` of the overlap at the edges [n_values]."""
    out = np.zeros(edges.n_values)
    ei = edges.edge_index
    tau = np.asarray(crystal.positions, dtype=float)
    vectors = (tau[ei[:, 1]] + ei[:, 2:] - tau[ei[:, 0]]) @ np.asarray(crystal.lattice, float)
    z = np.asarray(crystal.numbers, dtype=int)
    pair = z[ei[:, 0]] * 1000 + z[ei[:, 1]]
    for code in np.unique(pair):
        sel = np.flatnonzero(pair == code)
        blocks = calc.table(int(code) // 1000, int(code) % 1000, "orbital").blocks(vectors[sel])
        width = blocks.shape[1] * blocks.shape[2]
        pos = edges.offset[sel][:, None] + np.arange(width)[None, :]
        out[pos] = blocks.reshape(len(sel), width)
    return out


def soc_unknowns(calc: OverlapCalculator, crystal: Crystal) -> np.ndarray:
    """[n_coef, 3] rows ``(atom, j1, j2)``: the radial coefficients of the SOC operator,
    one per projector pair of equal ``l >= 1`` with ``j1 <= j2``."""
    rows = []
    for atom, z in enumerate(crystal.numbers):
        pl = calc.basis.elements[int(z)].projector_l
        rows += [
            (atom, j1, j2)
            for j1 in range(len(pl))
            for j2 in range(j1, len(pl))
            if pl[j1] == pl[j2] >= 1
        ]
    return np.array(rows, dtype=np.int32).reshape(-1, 3)


def soc_operators(
    calc: OverlapCalculator, crystal: Crystal, index: np.ndarray, coef: np.ndarray | None
) -> list[np.ndarray]:
    """Projector-space operators per atom: with ``coef`` [n_coef] the contracted
    ``M_a,v`` [3, n_pi, n_pi]; without, one ``Lam_v`` pattern per unknown [3 n_u, n_pi, n_pi]
    (unknown-major, v-minor)."""
    out = []
    for atom, z in enumerate(crystal.numbers):
        pl = calc.basis.elements[int(z)].projector_l
        starts = np.concatenate([[0], np.cumsum([2 * l + 1 for l in pl])]).astype(int)
        rows = np.flatnonzero(index[:, 0] == atom)
        ops = np.zeros((len(rows), 3, starts[-1], starts[-1]))
        for u, r in enumerate(rows):
            j1, j2 = int(index[r, 1]), int(index[r, 2])
            lam = angular_momentum(pl[j1]).imag
            ops[u, :, starts[j1] : starts[j1 + 1], starts[j2] : starts[j2 + 1]] = lam
            if j2 != j1:
                ops[u, :, starts[j2] : starts[j2 + 1], starts[j1] : starts[j1 + 1]] = lam
        if coef is None:
            out.append(ops.reshape(-1, starts[-1], starts[-1]))
        else:
            out.append(np.einsum("u,uvpq->vpq", coef[rows], ops))
    return out


def fit_soc(calc: OverlapCalculator, crystal: Crystal, edges: Edges, soc: np.ndarray):
    """Least-squares radial coefficients of the SOC operator from the on-site blocks.

    Parameters
    ----------
    soc : [3, n_values] the blocks ``B_v`` at ``edges``.

    Returns
    -------
    (index [n_coef, 3], coef [n_coef] float64; eV).
    """
    index = soc_unknowns(calc, crystal)
    onsite = np.flatnonzero(
        (edges.edge_index[:, 0] == edges.edge_index[:, 1]) & np.all(edges.edge_index[:, 2:] == 0, 1)
    )
    sub = edges.subset(onsite)
    values = np.concatenate([soc[:, edges.offset[e] : edges.offset[e + 1]] for e in onsite], 1)
    parts = paw_sums(calc, crystal, sub, soc_operators(calc, crystal, index, None))
    design = np.concatenate([p.reshape(-1, 3, sub.n_values) for p in parts])  # [n_coef, 3, m]
    A = design.reshape(len(index), -1).T
    coef, *_ = np.linalg.lstsq(A, values.ravel(), rcond=None)
    return index, coef


def predict_blocks(
    calc: OverlapCalculator, crystal: Crystal, edges: Edges, index: np.ndarray, coef: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted overlap [n_values] and SOC blocks ``B_v`` [3, n_values] at the edges: the
    exact overlap of the basis (two-centre plus PAW term) and the PAW-sphere SOC operator
    with radial coefficients ``coef`` (rows ``index``, as :func:`fit_soc` returns them)."""
    socs = soc_operators(calc, crystal, index, coef)
    ops = []
    for z, soc in zip(crystal.numbers, socs, strict=True):
        dO = calc.basis.elements[int(z)].dO
        ops.append(np.concatenate([dO.reshape(1, *dO.shape), soc]) if dO.size else soc)
    s = two_centre_overlap(calc, crystal, edges)
    soc = np.zeros((3, edges.n_values))
    for op, part in zip(ops, paw_sums(calc, crystal, edges, ops), strict=True):
        if len(op) == 4:
            s += part[0]
        soc += part[-3:]
    return s, soc
