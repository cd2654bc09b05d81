"""Supercells of tight-binding models: ``A' = P A`` for an integer matrix ``P``."""

from __future__ import annotations

import itertools

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable
from hts_z2.hamiltonian.tightbinding import TightBinding


def subcell_translations(P: np.ndarray) -> np.ndarray:
    """Integer translations ``t`` (old reduced coords) inside the supercell ``P``.

    Returns
    -------
    [|det P|, 3] int, sorted, the first one is 0.
    """
    P = np.asarray(P, dtype=int)
    Pinv = np.linalg.inv(P)
    corners = np.array(list(itertools.product([0, 1], repeat=3))) @ P
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    grid = np.array(
        list(itertools.product(*[range(a, b + 1) for a, b in zip(lo, hi, strict=True)]))
    )
    frac = grid @ Pinv
    inside = np.all((frac > -1e-9) & (frac < 1 - 1e-9), axis=1)
    out = grid[inside]
    n = round(abs(np.linalg.det(P)))
    if len(out) != n:
        raise ValueError(f"found {len(out)} sub-cells for a supercell of volume {n}")
    return out[np.lexsort(out.T[::-1])]


def _fold(
    M: np.ndarray, R: np.ndarray, P: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fold blocks ``M(R)`` into supercell blocks ``M'(R')`` [n_R', n_s n, n_s n]."""
    n = M.shape[1]
    ns = len(t)
    Pinv = np.linalg.inv(P)
    index = {tuple(u): i for i, u in enumerate(t.tolist())}
    blocks: dict[tuple[int, int, int], np.ndarray] = {}
    for s, ts in enumerate(t):
        target = R + ts
        Rp = np.floor(target @ Pinv + 1e-9).astype(int)
        rest = target - Rp @ P
        for r, (Rnew, u) in enumerate(zip(Rp.tolist(), rest.tolist(), strict=True)):
            sp = index[tuple(u)]
            key = tuple(Rnew)
            if key not in blocks:
                blocks[key] = np.zeros((ns * n, ns * n), dtype=M.dtype)
            blocks[key][s * n : (s + 1) * n, sp * n : (sp + 1) * n] += M[r]
    keys = sorted(blocks)
    return np.array(keys), np.array([blocks[k] for k in keys])


def supercell(tb: TightBinding, P: np.ndarray) -> TightBinding:
    """The same crystal described by the supercell with lattice ``P @ tb.lattice``.

    Orbitals are ordered sub-cell-major (sub-cells as :func:`subcell_translations`), so
    spinful models keep the orbital-major, spin-inner order. Z2 indices transform as
    ``nu0' = nu0``, ``nu' = P nu mod 2``.
    """
    P = np.asarray(P, dtype=int)
    if P.shape != (3, 3) or round(abs(np.linalg.det(P))) == 0:
        raise ValueError("P must be a non-singular integer [3, 3] matrix")
    t = subcell_translations(P)
    R, H = _fold(tb.H, tb.R, P, t)
    S = None if tb.S is None else _fold(tb.S, tb.R, P, t)[1]
    ns = len(t)
    orbitals = positions = numbers = None
    if tb.orbitals is not None:
        o = tb.orbitals
        n_atoms = int(o.atom.max()) + 1
        n_shells = int(o.shell.max()) + 1
        orbitals = OrbitalTable(
            np.concatenate([o.atom + s * n_atoms for s in range(ns)]),
            np.concatenate([o.shell + s * n_shells for s in range(ns)]),
            np.tile(o.l, ns),
            np.tile(o.m, ns),
        )
    if tb.positions is not None:
        Pinv = np.linalg.inv(P)
        positions = np.concatenate([(tb.positions + ts) @ Pinv for ts in t])
        numbers = np.tile(tb.numbers, ns)
    return TightBinding(
        P @ tb.lattice,
        R,
        H,
        S,
        n_occ=tb.n_occ * ns,
        spinful=tb.spinful,
        orbitals=orbitals,
        positions=positions,
        numbers=numbers,
    )
