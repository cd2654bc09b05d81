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
