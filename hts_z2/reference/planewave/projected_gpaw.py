"""GPAW glue of the projected quasi-atomic basis: trial functions from PAW projectors,
spin–orbit states on a grid, and the model (:mod:`.projected` does the arithmetic).

Trial functions: per atom, the PAW projectors of the setup's bound valence channels
(``n_j > 0``: e.g. Pb 6s 6p 5d, Te 5s 5p), times spin. Their number M exceeds the valence
electrons, so every occupied band, semicore included, is kept exactly and the lowest
conduction bands fill the rest of the basis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.reference.gpaw_scf import kpoint_grid
from hts_z2.reference.planewave.gpaw_pw import n_valence, soc_states
from hts_z2.reference.planewave.projected import (
    DISENTANGLE_SIGMA,
    GaugeInfo,
    fill_time_reversal,
    grid_kpoints,
    orbitals_of,
    projected_hamiltonian,
    projected_model,
    representatives,
)
from hts_z2.reference.planewave.settings import PlaneWaveSettings

FROZEN_MARGIN = 1.5
"""Bands up to this far above the higher band edge (eV) are reproduced exactly at the grid
points: 0.5 eV beyond the 1 eV window in which the representation floor is measured."""


def bound_channels(setup: Any) -> np.ndarray:
    """Indices (into the setup's projector list) of the bound valence channels' projectors."""
    out, start = [], 0
    for n, l in zip(setup.n_j, setup.l_j, strict=True):
        if n > 0:
            out.extend(range(start, start + 2 * l + 1))
        start += 2 * l + 1
    return np.array(out, dtype=int)


SUPERCELL_LENGTH = 24.0
"""Shortest edge (Å) of the supercell conjugate to the grid of a projected basis: its
hoppings are resolved out to about half of it (Wigner–Seitz images)."""


def projection_grid(cell: np.ndarray, settings: PlaneWaveSettings) -> tuple[int, int, int]:
    """Gamma-centred grid of a projected basis: the SCF grid, refined where a lattice
    vector times its points would be shorter than :data:`SUPERCELL_LENGTH` (a 3x3x3 SCF
    grid of a 6.3 Å perovskite resolves hoppings to 9 Å only)."""
    scf = np.asarray(kpoint_grid(cell, settings.kpt_density))
    lengths = np.linalg.norm(np.asarray(cell, dtype=float), axis=1)
    need = np.ceil(SUPERCELL_LENGTH / lengths).astype(int)
    return tuple(int(x) for x in np.maximum(scf, need))


def bound_shells(setup: Any) -> list[int]:
    """Angular momenta of the setup's bound valence channels, in projector order."""
    return [int(l) for n, l in zip(setup.n_j, setup.l_j, strict=True) if n > 0]


def trial_layout(setups: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Per atom its trial projector indices, and the atom of every spatial trial orbital."""
    channels = [bound_channels(s) for s in setups]
    atom_of = np.concatenate([np.full(len(c), a) for a, c in enumerate(channels)])
    return channels, atom_of


def orbital_l(setups: Any) -> np.ndarray:
    """[M / 2] angular momentum of every spatial trial orbital (GPAW's real-harmonic order
    within a shell, as the LCAO basis tables)."""
    return np.array([l for s in setups for l in bound_shells(s) for _ in range(2 * l + 1)])


def projections(P: list[np.ndarray], channels: list[np.ndarray]) -> np.ndarray:
    """[n_b, M] ``A = <psi | g>`` (orbital-major, spin-inner) from per-atom PAW projections
    ``P[a]`` [n_b, 2, n_i] = ``<p_ai sigma | psi>``."""
    parts = [np.asarray(p)[:, :, c].transpose(0, 2, 1) for p, c in zip(P, channels, strict=True)]
    A = np.concatenate(parts, axis=1)  # [n_b, n_spatial, 2]
    return A.reshape(len(A), -1).conj()


@dataclass
class ProjectedBasis:
    """A projected model and how it was built.

    Attributes
    ----------
    model : orthonormal spinful :class:`TightBinding` (n_occ = valence electrons, rounded
        up to even for an odd count: a metal, whose bands are what matters).
    grid : the k-grid; frozen_top : eV (GPAW's energy zero); gauge : per computed k.
    seconds : wall time of the non-self-consistent states and of the construction.
    """

    model: TightBinding
    grid: tuple[int, int, int]
    frozen_top: float
    gauge: list[GaugeInfo] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def min_singular(self) -> float:
        return min(g.min_singular for g in self.gauge)

    @property
    def truncated(self) -> int:
        return sum(g.truncated for g in self.gauge)


def with_bands_for(settings: PlaneWaveSettings, n_electrons: int, M: int) -> PlaneWaveSettings:
    """``settings`` with enough scalar bands that at least ``M + 16`` spinor bands are
    converged (a basis with many empty channels, e.g. Cs 5s 5p 6s, needs more than the
    label of record's default)."""
    need = math.ceil((M // 2 + 8) * 4 / 3) + 2
    if settings.scalar_bands(n_electrons) >= need:
        return settings
    factor = need / math.ceil(n_electrons / 2) + 1e-9
    return replace(settings, band_factor=factor)


def converged_spinor_bands(settings: PlaneWaveSettings, n_electrons: int) -> int:
    """Spinor bands of :func:`soc_states` safe to use: those built from the scalar bands
    converged even on its retry (all but the top quarter)."""
    nbands = settings.scalar_bands(n_electrons)
    return 2 * (nbands - max(2, nbands // 4))


@dataclass
class GridStates:
    """Spin–orbit bands and trial projections at one of each (k, -k) of a grid.

    Attributes
    ----------
    lattice : [3, 3] rows (Å); positions : [n_atoms, 3] reduced (GPAW's, wrapped);
    numbers : [n_atoms]; atom_of, orbital_l : [M / 2] atom and angular momentum of each
    spatial trial orbital;
    grid : the Gamma-centred grid; index : [n_rep] grid indices computed
    (:func:`~.projected.representatives`); energies : [n_rep, n_b] (eV);
    A : [n_rep, n_b, M] ``<psi | g>``; n_electrons; n_outer : bands safe to use.
    """

    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    atom_of: np.ndarray
    orbital_l: np.ndarray
    grid: tuple[int, int, int]
    index: np.ndarray
    energies: np.ndarray
    A: np.ndarray
    n_electrons: int
    n_outer: int
    seconds: float = 0.0

    def save(self, path: str) -> None:
        np.savez_compressed(path, **{k: np.asarray(v) for k, v in self.__dict__.items()})

    @classmethod
    def load(cls, path: str) -> GridStates:
        with np.load(path) as f:
            d = {k: f[k] for k in f.files}
        d["grid"] = tuple(int(x) for x in d["grid"])
        for key in ("n_electrons", "n_outer"):
            d[key] = int(d[key])
        d["seconds"] = float(d["seconds"])
        return cls(**d)

    def orbitals(self) -> OrbitalTable:
        """Orbital table of the basis (atom, shell, l, m)."""
        return orbitals_of(self.atom_of, self.orbital_l, len(self.positions))

    def band_edges(self) -> tuple[float, float]:
        """(valence-band maximum, conduction-band minimum) over the computed points."""
        n = self.n_electrons
        return float(self.energies[:, n - 1].max()), float(self.energies[:, n].min())


def grid_states(
    calc: Any,
    settings: PlaneWaveSettings,
    grid: tuple[int, int, int] | None = None,
    chunk: int = 16,
    progress: Callable[[int, int], None] | None = None,
    every_point: bool = False,
    collect: Callable[[Any, int], None] | None = None,
) -> GridStates:
    """Spin–orbit states of a converged plane-wave calculation on a Gamma-centred ``grid``
    (default: :func:`projection_grid`): at one of each (k, -k), or at ``every_point``.

    ``chunk`` k-points per non-self-consistent run; ``progress(done, total)`` after each;
    ``collect(states, i)`` is called for every point with the run's
    :class:`~.gpaw_pw.SocStates` (to keep what else is needed of the wave functions).
    """
    atoms = calc.get_atoms()
    n_el = n_valence(calc)
    grid = tuple(grid or projection_grid(atoms.cell[:], settings))
    channels, atom_of = trial_layout(calc.wfs.setups)
    if 2 * len(atom_of) <= n_el:
        raise ValueError(f"{2 * len(atom_of)} trial spin-orbitals cannot hold {n_el} electrons")
    settings = with_bands_for(settings, n_el, 2 * len(atom_of))
    k_all = grid_kpoints(grid)
    points = np.arange(len(k_all)) if every_point else representatives(grid)
    E_list, A_list = [], []
    t0 = time.perf_counter()
    for start in range(0, len(points), chunk):
        idx = points[start : start + chunk]
        states = soc_states(calc, k_all[idx], settings, n_el)
        nb = states.energies.shape[1]
        for i in range(len(idx)):
            E_list.append(states.energies[i])
            A_list.append(projections(states.projections(i, nb), channels))
            if collect is not None:
                collect(states, i)
        del states
        if progress is not None:
            progress(min(start + chunk, len(points)), len(points))
    return GridStates(
        lattice=np.asarray(atoms.cell[:], dtype=float),
        positions=np.asarray(calc.spos_ac, dtype=float),
        numbers=np.asarray(atoms.numbers, dtype=int),
        atom_of=atom_of,
        orbital_l=orbital_l(calc.wfs.setups),
        grid=grid,
        index=points,
        energies=np.array(E_list),
        A=np.array(A_list),
        n_electrons=n_el,
        n_outer=converged_spinor_bands(settings, n_el),
        seconds=time.perf_counter() - t0,
    )


def build_projected(
    states: GridStates, margin: float = FROZEN_MARGIN, sigma: float | None = DISENTANGLE_SIGMA
) -> ProjectedBasis:
    """The projected orthonormal model of grid states: bands up to ``margin`` eV above the
    higher band edge frozen, the rest weighted with decay ``sigma`` (see
    :func:`~.projected.projected_hamiltonian`)."""
    t0 = time.perf_counter()
    frozen_top = max(states.band_edges()) + margin
    Hk, gauge = {}, []
    for i, e, a in zip(states.index, states.energies, states.A, strict=True):
        Hk[int(i)], info = projected_hamiltonian(e, a, frozen_top, states.n_outer, sigma)
        gauge.append(info)
    Hgrid = fill_time_reversal(Hk, states.grid)
    model = projected_model(
        states.lattice, states.positions, states.numbers, states.orbitals(), states.grid,
        Hgrid, n_occ=states.n_electrons + states.n_electrons % 2,
    )
    return ProjectedBasis(
        model=model,
        grid=states.grid,
        frozen_top=frozen_top,
        gauge=gauge,
        seconds={"states": states.seconds, "construction": time.perf_counter() - t0},
    )
