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
