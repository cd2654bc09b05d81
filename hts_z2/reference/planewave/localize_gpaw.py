"""GPAW glue of the localized projected basis: spin–orbit states on the whole grid, their
overlaps between neighbouring grid points, and the maximally localized model.

The overlaps are those of the Wilson loops (:func:`~.links.link_matrix`): the scalar
pseudo part from plane-wave coefficients (``<u_k|u_k+b> = (dv / N) sum_G c_k(G)^*
c_k'(G + G0)`` when ``k + b = k' + G0``), the PAW part per atom with the phase at its centre.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hts_z2.reference.planewave.links import atom_phases, link_matrix
from hts_z2.reference.planewave.localize import (
    Spread,
    bvectors,
    localize,
    neighbour_table,
)
from hts_z2.reference.planewave.projected import (
    DISENTANGLE_SIGMA,
    projected_hamiltonian,
    projected_model,
    time_reversal_partners,
    time_reversed,
)
from hts_z2.reference.planewave.projected_gpaw import (
    FROZEN_MARGIN,
    GridStates,
    ProjectedBasis,
    grid_states,
)
from hts_z2.reference.planewave.settings import PlaneWaveSettings


def coefficient_overlap(
    c1: np.ndarray, g1: np.ndarray, c2: np.ndarray, g2: np.ndarray, G0: np.ndarray, factor: float
) -> np.ndarray:
    """``<u_1|e^{-i G0.r} u_2>`` of scalar bands from plane-wave coefficients.

    Parameters
    ----------
    c1 : [N1, n_G1], g1 : [n_G1, 3] int reduced G; c2, g2 likewise; G0 : [3] int;
    factor : ``dv / N`` of the real-space grid (GPAW's coefficient normalization).

    Returns
    -------
    [N1, N2] complex.
    """
    span = int(max(np.abs(g1).max(), np.abs(g2 - G0).max())) + 1
    base = 2 * span + 1

    def key(g: np.ndarray) -> np.ndarray:
        return ((g[:, 0] + span) * base + g[:, 1] + span) * base + g[:, 2] + span

    _, i1, i2 = np.intersect1d(key(g1), key(g2 - G0), assume_unique=True, return_indices=True)
    return factor * (c1[:, i1].conj() @ c2[:, i2].T)


@dataclass
class GridLinks:
    """Overlaps of the spin–orbit bands between neighbouring grid points.

    Attributes
    ----------
    steps : [n_b, 3] int grid steps; weights : [n_b] (Å^2); index : [n_k, n_b] neighbour;
    links : [n_k, n_b, n_out, n_out] ``<psi_m,k| e^{-i b.r} |psi_n,k+b>``.
    """

    steps: np.ndarray
    weights: np.ndarray
    index: np.ndarray
    links: np.ndarray

    def save(self, path: str) -> None:
        np.savez_compressed(path, **self.__dict__)

    @classmethod
    def load(cls, path: str) -> GridLinks:
        with np.load(path) as f:
            return cls(**{k: f[k] for k in f.files})


def full_grid_states(
    calc: Any,
    settings: PlaneWaveSettings,
    grid: tuple[int, int, int] | None = None,
    chunk: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[GridStates, GridLinks]:
    """Spin–orbit states at every point of a Gamma-centred grid and their links."""
    kept: list[tuple] = []
    common: dict[str, Any] = {}

    def collect(states, i: int) -> None:
        if not common:
            gd = states.calc.wfs.gd
            common.update(dO=states.overlap_corrections(), factor=float(gd.dv / gd.N_c.prod()))
        c, g = states.coefficients(i)
        nb = states.energies.shape[1]
        kept.append((c, g, states.vectors(i, nb), states.projections(i, nb)))

    states = grid_states(calc, settings, grid, chunk, progress, every_point=True,
                         collect=collect)
    n_out = states.n_outer
    kept = [(c, g, v[:n_out], [p[:n_out] for p in proj]) for c, g, v, proj in kept]
    t0 = time.perf_counter()
    steps, weights = bvectors(states.lattice, states.grid)
    index, G = neighbour_table(states.grid, steps)
    links = np.empty((len(kept), len(steps), n_out, n_out), dtype=np.complex128)
    for k in range(len(kept)):
        c1, g1, v1, p1 = kept[k]
        for b in range(len(steps)):
            c2, g2, v2, p2 = kept[index[k, b]]
            O = coefficient_overlap(c1, g1, c2, g2, G[k, b], common["factor"])
            phase = atom_phases(steps[b] / np.asarray(states.grid), states.positions)
            links[k, b] = link_matrix(O, v1, v2, p1, p2, common["dO"], phase)
    states.seconds += time.perf_counter() - t0
    return states, GridLinks(steps, weights, index, links)


@dataclass
class LocalizedBasis(ProjectedBasis):
    """A projected basis after maximal localization (spreads in Å^2)."""

    spread_before: Spread | None = None
    spread_after: Spread | None = None
    time_reversal_error: float = 0.0


def build_localized(
    states: GridStates,
    links: GridLinks,
    margin: float = FROZEN_MARGIN,
    sigma: float | None = DISENTANGLE_SIGMA,
    iterations: int = 400,
) -> LocalizedBasis:
    """Projected basis of full-grid states, then maximally localized on its subspace.

    The rotations keep Kramers partners paired (:func:`~.localize.localize`); what the
    plane-wave states themselves break of time reversal (their convergence) is removed by
    symmetrizing the real-space Hamiltonian (``time_reversal_error``: the largest element
    that changed, eV).
    """
    t0 = time.perf_counter()
    frozen_top = max(states.band_edges()) + margin
    n_out = links.links.shape[-1]
    Hk, C, gauge = [], [], []
    for e, a in zip(states.energies, states.A, strict=True):
        H, info, c = projected_hamiltonian(e, a, frozen_top, n_out, sigma, coefficients=True)
        Hk.append(H)
        C.append(c)
        gauge.append(info)
    Hk, C = np.array(Hk), np.array(C)
    M0 = C.conj().swapaxes(-1, -2)[:, None] @ links.links @ C[links.index]
    recip = 2 * np.pi * np.linalg.inv(states.lattice).T
    bcart = (links.steps / np.asarray(states.grid)) @ recip
    partner = time_reversal_partners(states.grid)
    U, before, after = localize(M0, bcart, links.weights, links.index, iterations,
                                partner=partner)
    Hloc = U.conj().swapaxes(-1, -2) @ Hk @ U
    model = projected_model(
        states.lattice, states.positions, states.numbers, states.orbitals(), states.grid,
        Hloc, n_occ=states.n_electrons + states.n_electrons % 2,
    )
    sym = 0.5 * (model.H + time_reversed(model.H))
    tr_error = float(np.abs(sym - model.H).max())
    model = type(model)(
        model.lattice, model.R, sym, S=None, n_occ=model.n_occ, spinful=True,
        orbitals=model.orbitals, positions=model.positions, numbers=model.numbers,
    )
    return LocalizedBasis(
        model=model,
        grid=states.grid,
        frozen_top=frozen_top,
        gauge=gauge,
        seconds={"states": states.seconds, "construction": time.perf_counter() - t0},
        spread_before=before,
        spread_after=after,
        time_reversal_error=tr_error,
    )
