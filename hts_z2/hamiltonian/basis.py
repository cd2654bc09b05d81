"""Orbital bases: per-element radial shells and the per-orbital table of a structure.

Orbitals are ordered per atom, per radial shell of the element's basis, per ``m`` in the
real-spherical-harmonic order ``m = -l..l`` (z polar axis; l=1: y, z, x), which is e3nn's
order for a vector given as (y, z, x).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

L_SYMBOLS = "spdf"


def parse_shells(spec: str | Sequence[int]) -> tuple[int, ...]:
    """Shell angular momenta from ``"2s2p1d"``-style strings or a sequence of ``l``.

    >>> parse_shells("2s2p1d")
    (0, 0, 1, 1, 2)
    """
    if not isinstance(spec, str):
        return tuple(int(l) for l in spec)
    shells: list[int] = []
    count = ""
    for ch in spec.replace(" ", ""):
        if ch.isdigit():
            count += ch
        elif ch in L_SYMBOLS:
            shells += [L_SYMBOLS.index(ch)] * int(count or 1)
            count = ""
        else:
            raise ValueError(f"bad shell specification {spec!r} (use e.g. '2s2p1d')")
    return tuple(shells)


@dataclass(frozen=True)
class OrbitalTable:
    """Per-orbital metadata of a (spatial) basis.

    Attributes
    ----------
    atom : [n] atom index of each orbital.
    shell : [n] global shell index of each orbital.
    l : [n] angular momentum.
    m : [n] magnetic index, ``-l..l`` in the order above.
    """

    atom: np.ndarray
    shell: np.ndarray
    l: np.ndarray
    m: np.ndarray

    def __len__(self) -> int:
        return len(self.l)

    @property
    def shell_l(self) -> np.ndarray:
        """[n_shells] angular momentum of each shell."""
        out = np.zeros(int(self.shell.max()) + 1, dtype=int)
        out[self.shell] = self.l
        return out

    @property
    def shell_atom(self) -> np.ndarray:
        """[n_shells] atom of each shell."""
        out = np.zeros(int(self.shell.max()) + 1, dtype=int)
        out[self.shell] = self.atom
        return out


def orbital_table(shells_per_atom: Sequence[Sequence[int]]) -> OrbitalTable:
    """Build the table from the shell list (angular momenta) of every atom."""
    atom, shell, ls, ms = [], [], [], []
    s = 0
    for a, shells in enumerate(shells_per_atom):
        for l in shells:
            for m in range(-l, l + 1):
                atom.append(a)
                shell.append(s)
                ls.append(l)
                ms.append(m)
            s += 1
    return OrbitalTable(*(np.array(x, dtype=int) for x in (atom, shell, ls, ms)))


def table_for_species(
    species: Sequence[str], basis: Mapping[str, str | Sequence[int]]
) -> OrbitalTable:
    """Orbital table for a list of element symbols and a per-element shell spec."""
    missing = sorted({s for s in species if s not in basis})
    if missing:
        raise KeyError(f"no basis defined for element(s) {', '.join(missing)}")
    return orbital_table([parse_shells(basis[s]) for s in species])


def kept_orbitals(shells: Sequence[int], keep: Sequence[int] | None = None) -> np.ndarray:
    """Indices of the orbitals of the shells ``keep`` (all when None), in basis order.

    Parameters
    ----------
    shells : [n_shells] angular momentum of each shell of one element's basis.
    keep : indices into ``shells`` of the shells to keep.

    Returns
    -------
    [n_kept_orbitals] indices into the element's ``sum(2l+1)`` orbitals.

    >>> kept_orbitals((0, 1, 0, 1, 2), (0, 1, 4)).tolist()
    [0, 1, 2, 3, 8, 9, 10, 11, 12]
    """
    starts = np.concatenate([[0], np.cumsum([2 * l + 1 for l in shells])]).astype(int)
    chosen = range(len(shells)) if keep is None else sorted(set(int(j) for j in keep))
    for j in chosen:
        if not 0 <= j < len(shells):
            raise ValueError(f"shell index {j} outside a basis of {len(shells)} shells")
    parts = [np.arange(starts[j], starts[j + 1]) for j in chosen]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=int)


def structure_orbitals(
    shells_per_atom: Sequence[Sequence[int]], kept: Sequence[np.ndarray]
) -> np.ndarray:
    """Structure-wide orbital indices of each atom's kept orbitals, atom by atom.

    Parameters
    ----------
    shells_per_atom : the full shell list (angular momenta) of every atom.
    kept : per atom, indices into its own orbitals (see :func:`kept_orbitals`).

    Returns
    -------
    [n_kept] indices into the ``sum_a sum(2l+1)`` orbitals of the whole basis.
    """
    sizes = [sum(2 * l + 1 for l in sh) for sh in shells_per_atom]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    parts = [starts[a] + np.asarray(k, dtype=int) for a, k in enumerate(kept)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=int)
