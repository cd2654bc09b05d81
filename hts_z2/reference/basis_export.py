"""Radial tables of GPAW's LCAO basis and PAW projectors for exact overlap matrices.

GPAW stores every localized function as a spline of ``f(r) / r^l`` (Bohr units); here
``f(r)`` is sampled on an equally spaced grid in Angstrom and scaled by ``a0^-3/2`` for
orbitals and projectors alike, which leaves the projections ``<p | phi>`` and hence the
dimensionless ``dO`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from hts_z2.hamiltonian.overlap import AtomicFunctions, OverlapBasis
from hts_z2.reference.gpaw_scf import GpawError

BOHR = 0.52917721067  # Angstrom (GPAW/ASE value)
DR = 0.01  # Angstrom


def _sample(spline, dr: float) -> np.ndarray:
    """``f(r)`` of a GPAW spline on ``dr * arange(n)`` up to its cutoff, in Angstrom units."""
    l = spline.get_angular_momentum_number()
    rc = spline.get_cutoff() * BOHR
    r = dr * np.arange(int(np.ceil(rc / dr)) + 1)
    f = np.asarray(spline.map(r / BOHR)) * (r / BOHR) ** l
    f[r >= rc] = 0.0
    return f * BOHR**-1.5


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    n = max((len(x) for x in rows), default=1)
    return np.array([np.pad(x, (0, n - len(x))) for x in rows]).reshape(len(rows), n)


def element_functions(symbol: str, basis: str = "dzp", xc: str = "PBE") -> AtomicFunctions:
    """Orbital and projector radial functions and ``dO`` of one element's PAW setup.

    Raises
    ------
    GpawError when GPAW has no setup or basis set for the element.
    """
    from gpaw.basis_data import Basis
    from gpaw.setup import create_setup
    from gpaw.xc import XC

    try:
        setup = create_setup(symbol, XC(xc), 2, "paw", Basis.find(symbol, basis))
    except (OSError, RuntimeError, ValueError, KeyError, AssertionError) as err:
        raise GpawError(f"{symbol}: no PAW setup or {basis!r} basis ({err})") from err
    return AtomicFunctions(
        orbital_l=tuple(int(s.get_angular_momentum_number()) for s in setup.basis_functions_J),
        orbitals=_stack([_sample(s, DR) for s in setup.basis_functions_J]),
        projector_l=tuple(int(s.get_angular_momentum_number()) for s in setup.pt_j),
        projectors=_stack([_sample(s, DR) for s in setup.pt_j]),
        dO=np.array(setup.dO_ii, dtype=float),
    )


def export_overlap_basis(
    numbers: Iterable[int], basis: str = "dzp", xc: str = "PBE"
) -> OverlapBasis:
    """Radial tables of the elements ``numbers`` (atomic numbers)."""
    from ase.data import chemical_symbols

    elements = {
        int(z): element_functions(chemical_symbols[int(z)], basis, xc) for z in sorted(set(numbers))
    }
    return OverlapBasis(f"gpaw-{basis}-{xc.lower()}", DR, elements)


SOLVE_BASES = ("full", "szp")


def shell_kinds(symbol: str, basis: str = "dzp") -> tuple[tuple[int, str], ...]:
    """(l, kind) of every shell of an element's GPAW basis, in basis order; kind is
    ``"sz"`` (confined atomic orbital), ``"dz"`` (split-valence second zeta), ``"pol"``
    (polarization) or ``"other"``."""
    from gpaw.basis_data import Basis

    try:
        functions = Basis.find(symbol, basis).bf_j
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        raise GpawError(f"{symbol}: no {basis!r} basis set ({err})") from err

    def kind(text: str) -> str:
        for tag, name in (("-sz", "sz"), ("-dz", "dz"), ("polarization", "pol")):
            if tag in text:
                return name
        return "other"

    return tuple((int(bf.l), kind(bf.type)) for bf in functions)


def solve_shells(
    basis_by_z: dict[int, tuple[int, ...]], solve_basis: str = "full", basis: str = "dzp"
) -> dict[int, tuple[int, ...]]:
    """``ModelConfig.solve_shells`` for a solved sub-basis of the dataset's GPAW basis.

    ``"full"`` keeps every shell (an empty map); ``"szp"`` keeps all but the split-valence
    second-zeta shells: the confined atomic orbitals and the polarization shells.

    Raises
    ------
    ValueError for an unknown ``solve_basis`` or a GPAW basis whose shells disagree with
    the dataset's.
    """
    from ase.data import chemical_symbols

    if solve_basis not in SOLVE_BASES:
        raise ValueError(f"unknown solve basis {solve_basis!r}; use one of {SOLVE_BASES}")
    if solve_basis == "full":
        return {}
    out = {}
    for z, shells in sorted(basis_by_z.items()):
        kinds = shell_kinds(chemical_symbols[int(z)], basis)
        if tuple(l for l, _ in kinds) != tuple(shells):
            raise ValueError(
                f"Z={z}: GPAW {basis!r} shells {[l for l, _ in kinds]} differ from the "
                f"dataset's {list(shells)}"
            )
        out[int(z)] = tuple(j for j, (_, kind) in enumerate(kinds) if kind != "dz")
    return out


def export_all(basis: str = "dzp", xc: str = "PBE") -> OverlapBasis:
    """Radial tables of every element for which GPAW has a setup and a ``basis`` set."""
    from ase.data import chemical_symbols

    elements = {}
    for z in range(1, 104):
        try:
            elements[z] = element_functions(chemical_symbols[z], basis, xc)
        except GpawError:
            continue
    return OverlapBasis(f"gpaw-{basis}-{xc.lower()}", DR, elements)
