"""High-symmetry k-paths (seekpath, HPKOT convention) in the model's own reduced coordinates."""

from __future__ import annotations

import itertools
import threading
import warnings
from dataclasses import dataclass

import numpy as np

_WARNINGS_LOCK = threading.Lock()
"""Serializes seekpath calls: ``warnings.catch_warnings`` changes process-wide filters, and
screening computes gaps on several threads."""


@dataclass(frozen=True)
class KPath:
    """A band-structure path.

    Attributes
    ----------
    k : [n_k, 3] reduced coordinates in the reciprocal basis of the input lattice.
    x : [n_k] cumulative path length (1/Angstrom) for plotting.
    labels : (index, label) of the high-symmetry points.
    """

    k: np.ndarray
    x: np.ndarray
    labels: tuple[tuple[int, str], ...]


def _path_length(k: np.ndarray, lattice: np.ndarray, breaks: set[int]) -> np.ndarray:
    """Cumulative Cartesian length along ``k`` [n_k, 3], not counting jumps at ``breaks``."""
    kc = k @ (2 * np.pi * np.linalg.inv(lattice).T)
    steps = np.linalg.norm(np.diff(kc, axis=0), axis=1)
    for b in breaks:
        steps[b - 1] = 0.0
    return np.concatenate([[0.0], np.cumsum(steps)])


def trim_path(lattice: np.ndarray, n_per_segment: int = 20) -> KPath:
    """Fallback path Gamma -> each of the 7 other TRIM (when no structure is known)."""
    trims = [np.array(t) for t in itertools.product([0.0, 0.5], repeat=3)][1:]
    ks, labels = [], []
    for t in trims:
        labels.append((len(ks) * n_per_segment, "Γ"))
        ks.append(np.linspace(0, 1, n_per_segment)[:, None] * t)
        labels.append((len(ks) * n_per_segment - 1, "".join("0h"[int(2 * c)] for c in t)))
    k = np.concatenate(ks)
    breaks = {i * n_per_segment for i in range(1, len(trims))}
    return KPath(k, _path_length(k, lattice, breaks), tuple(labels))


def high_symmetry_path(
    lattice: np.ndarray,
    positions: np.ndarray | None = None,
    numbers: np.ndarray | None = None,
    reference_distance: float = 0.025,
) -> KPath:
    """Seekpath's path for the crystal, converted to the input cell's reduced coordinates.

    Parameters
    ----------
    lattice : [3, 3] rows are lattice vectors (Angstrom).
    positions, numbers : fractional positions [n_atoms, 3] and atomic numbers; without
        them the lattice alone (one atom) decides the symmetry.
    reference_distance : spacing of path points (1/Angstrom).
    """
    import seekpath
    from seekpath.hpkot import EdgeCaseWarning

    lattice = np.asarray(lattice, dtype=float)
    if positions is None or numbers is None:
        positions, numbers = np.zeros((1, 3)), np.array([1])
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():  # not thread-safe by itself
            # rattled cells are triclinic with angles near 90 degrees; seekpath says so
            # once per call, and the path it returns is still the one wanted
            warnings.simplefilter("ignore", EdgeCaseWarning)
            res = seekpath.get_explicit_k_path(
                (lattice, np.asarray(positions), np.asarray(numbers)),
                reference_distance=reference_distance,
            )
    except Exception:  # seekpath refuses some non-standard or low-symmetry inputs
        return trim_path(lattice)
    k_abs = np.asarray(res["explicit_kpoints_abs"])
    k = k_abs @ np.asarray(res["rotation_matrix"]) @ lattice.T / (2 * np.pi)
    names = res["explicit_kpoints_labels"]
    labels = tuple((i, "Γ" if s == "GAMMA" else s) for i, s in enumerate(names) if s)
    segments = res["explicit_segments"]
    # consecutive segments share their joint point; a new start right after an end is a jump
    breaks = {s1 for (_, e0), (s1, _) in itertools.pairwise(segments) if s1 == e0}
    return KPath(k, _path_length(k, lattice, breaks), labels)
