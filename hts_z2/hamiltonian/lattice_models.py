"""Textbook spinful lattice models with known Z2 phases (tests, benchmarks, the demo).

- :func:`wilson_dirac`: 4-band Wilson–Dirac model on a (possibly skewed) lattice,
  ``H = sum_i sin(2 pi k_i) G_i + (m + sum_i cos(2 pi k_i)) G_0`` with
  ``G_0 = tau_z (x) 1``, ``G_i = tau_x (x) sigma_i``. Phases: m in (1, 3): (1;111);
  (-1, 1): (0;111); (-3, -1): (1;000); |m| > 3: trivial (0;000).
- :func:`fu_kane_mele`: the Fu–Kane–Mele diamond-lattice model (PRL 98, 106803 (2007)).
- :func:`kane_mele`: stacked, decoupled Kane–Mele honeycomb layers (QSH per layer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from hts_z2.hamiltonian.angular import PAULI
from hts_z2.hamiltonian.tightbinding import TightBinding

SIGMA0 = np.eye(2, dtype=np.complex128)
TAU_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
TAU_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)


def from_terms(
    lattice: np.ndarray,
    hoppings: Iterable[tuple[tuple[int, int, int], np.ndarray]],
    n_occ: int,
    onsite: np.ndarray | None = None,
    **kwargs,
) -> TightBinding:
    """Build a model from a Hermitian on-site block and hopping terms ``(R, block)``.

    Every hopping adds ``block`` at ``R`` and its Hermitian conjugate at ``-R`` (so an
    intra-cell hopping at ``R = 0`` adds ``block + block^H``).
    """
    blocks: dict[tuple[int, int, int], np.ndarray] = {}
    for R, block in hoppings:
        R = tuple(int(x) for x in R)
        mR = tuple(-x for x in R)
        block = np.asarray(block, dtype=np.complex128)
        zero = np.zeros_like(block)
        blocks[R] = blocks.get(R, zero) + block
        blocks[mR] = blocks.get(mR, zero) + block.conj().T
    n = next(iter(blocks.values())).shape[0]
    blocks.setdefault((0, 0, 0), np.zeros((n, n), dtype=np.complex128))
    if onsite is not None:
        blocks[(0, 0, 0)] = blocks[(0, 0, 0)] + onsite
    keys = sorted(blocks)
    return TightBinding(
        lattice, np.array(keys), np.array([blocks[k] for k in keys]), n_occ=n_occ, **kwargs
    )


def wilson_dirac(m: float, t: float = 1.0, lattice: np.ndarray | None = None) -> TightBinding:
    """4-band Wilson–Dirac model (2 orbitals x spin), half filling.

    ``sin`` terms give ``G_i/(2i)`` at ``+e_i``; ``cos`` terms give ``G_0/2`` at ``+-e_i``.
    """
    lattice = np.eye(3) * 4.0 if lattice is None else lattice
    G0 = np.kron(TAU_Z, SIGMA0)
    terms = []
    for i in range(3):
        e = [0, 0, 0]
        e[i] = 1
        Gi = np.kron(TAU_X, PAULI[i])
        terms.append((tuple(e), t * Gi / 2j + 0.5 * G0))
    return from_terms(lattice, terms, n_occ=2, onsite=m * G0)


def _two_sublattice_soc(
    bonds: list[np.ndarray], soc: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """Second-neighbour SOC terms of a bipartite lattice.

    ``bonds`` are the Cartesian A->B bond vectors; the path A -> B -> A' with bonds ``d_p``
    then ``-d_q`` reaches ``d_p - d_q`` and carries ``soc(d_p, -d_q)``; B -> A -> B' reaches
    ``d_q - d_p`` with ``soc(-d_p, d_q)``. Returns (displacement, sublattice, 2x2 block).
    """
    out = []
    for p, dp in enumerate(bonds):
        for q, dq in enumerate(bonds):
            if p != q:
                out.append((dp - dq, 0, soc(dp, -dq)))
                out.append((dq - dp, 1, soc(-dp, dq)))
    return out


def _bipartite_model(
    lattice: np.ndarray,
    b_frac: np.ndarray,
    bond_cells: list[tuple[int, int, int]],
    hoppings: list[float],
    soc: Callable[[np.ndarray, np.ndarray], np.ndarray],
    onsite: tuple[float, float] = (0.0, 0.0),
) -> TightBinding:
    """Two sites (A at 0, B at ``b_frac``), nearest-neighbour ``hoppings`` to B in
    ``bond_cells`` and second-neighbour SOC; orbital-major, spin-inner (4 bands)."""
    lattice = np.asarray(lattice, dtype=float)
    terms = []
    onsite_block = np.zeros((4, 4), dtype=np.complex128)
    onsite_block[:2, :2] = onsite[0] * SIGMA0
    onsite_block[2:, 2:] = onsite[1] * SIGMA0
    bonds = [(np.asarray(c) + b_frac) @ lattice for c in bond_cells]
    for cell, t in zip(bond_cells, hoppings, strict=True):
        block = np.zeros((4, 4), dtype=np.complex128)
        block[:2, 2:] = t * SIGMA0
        terms.append((cell, block))
    inv = np.linalg.inv(lattice)
    for disp, sub, s in _two_sublattice_soc(bonds, soc):
        cell = np.rint(disp @ inv).astype(int)
        block = np.zeros((4, 4), dtype=np.complex128)
        block[2 * sub : 2 * sub + 2, 2 * sub : 2 * sub + 2] = 0.5 * s
        terms.append((tuple(cell), block))
    positions = np.array([[0.0, 0.0, 0.0], b_frac])
    return from_terms(
        lattice, terms, n_occ=2, onsite=onsite_block, positions=positions, numbers=np.array([6, 6])
    )


def fu_kane_mele(dt: float, t: float = 1.0, lam: float = 0.125, a: float = 4.0) -> TightBinding:
    """Fu–Kane–Mele diamond model with the [111] bond distorted, ``t_1 = t + dt``.

    SOC: ``i (8 lam / a^2) s.(d1 x d2)`` on second neighbours (each pair counted via both
    directions, hence the factor 1/2 folded in ``_bipartite_model``). FKM report
    (1;111) for ``dt > 0`` and (0;111) for ``dt < 0`` in the primitive fcc reciprocal basis.
    """
    lattice = a * np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
    b_frac = np.array([0.25, 0.25, 0.25])
    cells = [(0, 0, 0), (-1, 0, 0), (0, -1, 0), (0, 0, -1)]
    hops = [t + dt, t, t, t]

    def soc(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
        return 1j * (8 * lam / a**2) * np.einsum("a,ast->st", np.cross(d1, d2), PAULI)

    return _bipartite_model(lattice, b_frac, cells, hops, soc)


def kane_mele(
    lam_so: float = 0.06, lam_v: float = 0.0, t: float = 1.0, a: float = 2.46, c: float = 6.0
) -> TightBinding:
    """Decoupled Kane–Mele layers stacked along ``a3``; QSH for ``lam_v < 3 sqrt(3) lam_so``.

    Second-neighbour SOC ``i lam_so nu_ij s_z`` with ``nu = +-1`` from the turning sense;
    staggered potential ``+-lam_v``. A QSH layer makes the 3D stack (0;001).
    """
    lattice = np.array([[a, 0.0, 0.0], [a / 2, a * np.sqrt(3) / 2, 0.0], [0.0, 0.0, c]])
    b_frac = np.array([1 / 3, 1 / 3, 0.0])
    cells = [(0, 0, 0), (-1, 0, 0), (0, -1, 0)]

    def soc(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
        return 1j * lam_so * np.sign(np.cross(d1, d2)[2]) * PAULI[2]

    return _bipartite_model(lattice, b_frac, cells, [t] * 3, soc, onsite=(lam_v, -lam_v))


EXAMPLES: dict[str, Callable[[], TightBinding]] = {
    "wilson-dirac-sti": lambda: wilson_dirac(-2.0),
    "wilson-dirac-sti-111": lambda: wilson_dirac(2.0),
    "wilson-dirac-wti": lambda: wilson_dirac(0.0),
    "wilson-dirac-trivial": lambda: wilson_dirac(4.0),
    "fkm-sti": lambda: fu_kane_mele(0.4),
    "fkm-wti": lambda: fu_kane_mele(-0.4),
    "kane-mele": lambda: kane_mele(),
}
"""Named example models (``hts-z2 z2 --example NAME``)."""
