"""Band structures along the high-symmetry path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hts_z2.hamiltonian.gap import band_edges
from hts_z2.hamiltonian.kpath import KPath, high_symmetry_path
from hts_z2.hamiltonian.tightbinding import TightBinding


@dataclass(frozen=True)
class BandStructure:
    """Energies along a path; ``energies`` [n_k, n_bands] (eV), ``fermi`` mid-gap (eV)."""

    path: KPath
    energies: np.ndarray
    fermi: float


def band_structure(tb: TightBinding, path: KPath | None = None, chunk: int = 512) -> BandStructure:
    """Bands of ``tb`` along ``path`` (default: seekpath's path of its crystal)."""
    path = path or high_symmetry_path(tb.lattice, tb.positions, tb.numbers)
    E = np.concatenate([tb.eigh(path.k[s : s + chunk])[0] for s in range(0, len(path.k), chunk)])
    v, c = band_edges(tb, path.k)
    return BandStructure(path, E, float(0.5 * (v.max() + c.min())))
