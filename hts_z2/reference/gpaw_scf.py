"""Running the GPAW LCAO reference calculation: settings, k-grids, atoms, checks, SCF.

Legacy LCAO calculator, PBE, spin-paired, ``nbands='nao'`` (so that GPAW's second-variation
SOC spans the whole basis), complex wave functions; see ``gpaw_lcao`` for the extraction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ase import Atoms


class GpawError(RuntimeError):
    """A GPAW reference calculation cannot be run or its result cannot be used."""


@dataclass(frozen=True)
class GpawSettings:
    """Parameters of the GPAW LCAO reference calculation.

    Attributes
    ----------
    basis : GPAW basis name; gpaw-data ships only ``dzp`` files, reduced sets are written
        ``'sz(dzp)'``, ``'szp(dzp)'``.
    xc : exchange–correlation functional (setup name, e.g. ``'PBE'``).
    kpt_density : Monkhorst–Pack points per reciprocal length (1/Angstrom, ``|b_i|``
        including 2 pi); see :func:`kpoint_grid`.
    kpts : explicit Monkhorst–Pack grid; overrides ``kpt_density``.
    width : Fermi–Dirac smearing (eV).
    maxiter : maximum number of SCF iterations.
    convergence : GPAW ``convergence`` dictionary (GPAW defaults when None).
    txt : GPAW log file, or None for no log.
    point_group : use point-group symmetry in the SCF. Off by default (the reference
        setting: every k of the SCF grid is explicit, as GPAW's eigenvalue comparisons in
        ``gpaw_checks`` expect). The extraction rebuilds H(k) from the converged potential,
        so it works either way; on PbTe (6x6x6) symmetry cuts the SCF from 86 s to 24 s and
        changes H0(R) by at most 1.4 meV (SCF convergence), S not at all.
    max_kpoints : cap on the number of SCF k-points (see :func:`capped_kpoint_grid`).
    """

    basis: str = "dzp"
    xc: str = "PBE"
    kpt_density: float = 3.5
    kpts: tuple[int, int, int] | None = None
    width: float = 0.01
    maxiter: int = 300
    convergence: dict | None = None
    txt: str | None = None
    point_group: bool = False
    max_kpoints: int | None = None


def kpoint_grid(lattice: np.ndarray, density: float) -> tuple[int, int, int]:
    """Monkhorst–Pack grid with ``size_i = max(1, round(density * |b_i|))``.

    ``b_i`` are the reciprocal vectors including 2 pi (1/Angstrom), so the k spacing is
    about ``1/density`` 1/Angstrom. With density 3.5: PbTe rocksalt (a = 6.46) and the
    Bi2Se3 rhombohedral cell give 6x6x6, a 20 Angstrom cube 1x1x1.

    Parameters
    ----------
    lattice : [3, 3] rows are lattice vectors (Angstrom).
    density : points per 1/Angstrom, > 0.
    """
    if not density > 0:
        raise ValueError(f"k-point density must be positive, got {density}")
    recip = 2 * np.pi * np.linalg.inv(np.asarray(lattice, dtype=float)).T
    sizes = [max(1, math.floor(density * float(b) + 0.5)) for b in np.linalg.norm(recip, axis=1)]
    return (sizes[0], sizes[1], sizes[2])


def capped_kpoint_grid(
    lattice: np.ndarray, density: float, max_kpoints: int | None
) -> tuple[int, int, int]:
    """:func:`kpoint_grid`, with the density lowered until the grid has at most
    ``max_kpoints`` points (None: no cap). Small metallic cells otherwise get 500+ points."""
    grid = kpoint_grid(lattice, density)
    while max_kpoints is not None and math.prod(grid) > max_kpoints and density > 0.5:
        density *= 0.9
        grid = kpoint_grid(lattice, density)
    return grid


def gpaw_atoms(lattice: np.ndarray, positions_frac: np.ndarray, numbers: np.ndarray) -> Atoms:
    """Periodic ``ase.Atoms`` from lattice [3, 3] rows (Angstrom), fractional positions
    [n_atoms, 3] and atomic numbers [n_atoms]."""
    from ase import Atoms

    positions_frac = np.asarray(positions_frac, dtype=float)
    numbers = np.asarray(numbers, dtype=int)
    if positions_frac.shape != (len(numbers), 3):
        raise ValueError(
            f"positions have shape {positions_frac.shape}, expected ({len(numbers)}, 3)"
        )
    return Atoms(
        numbers=numbers,
        cell=np.asarray(lattice, dtype=float),
        scaled_positions=positions_frac,
        pbc=True,
    )


# --- SCF -----------------------------------------------------------------------------------


def check_elements(numbers: np.ndarray, settings: GpawSettings) -> None:
    """Raise :class:`GpawError` unless every element has a PAW setup and a basis set.

    Reads the setup and basis files exactly as GPAW will (cheap; nothing is computed).
    """
    from ase.data import chemical_symbols
    from gpaw.basis_data import Basis
    from gpaw.setup_data import SetupData
    from gpaw.xc import XC

    setup_name = XC(settings.xc).get_setup_name()
    problems = []
    for Z in sorted({int(z) for z in np.asarray(numbers).ravel()}):
        symbol = chemical_symbols[Z] if 0 < Z < len(chemical_symbols) else f"Z={Z}"
        try:
            SetupData.find_and_read_path(symbol, setup_name, setuptype="paw")
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            problems.append(f"{symbol}: no {setup_name} PAW setup ({_first_line(err)})")
            continue
        try:
            Basis.find(symbol, settings.basis)
        except (OSError, RuntimeError, ValueError, KeyError, AssertionError) as err:
            problems.append(f"{symbol}: no basis {settings.basis!r} ({_first_line(err)})")
    if problems:
        raise GpawError("GPAW cannot treat this structure: " + "; ".join(problems))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def gpaw_parameters(atoms: Atoms, settings: GpawSettings) -> dict[str, Any]:
    """Keyword arguments of the legacy GPAW LCAO calculator for ``atoms``.

    Complex wave functions are forced so that Gamma-only runs keep the lattice
    displacements that :func:`extract_lcao` needs; ``nbands='nao'`` keeps every LCAO band
    so that ``soc_eigenstates`` spans the full basis.
    """
    kpts = (
        settings.kpts
        if settings.kpts is not None
        else capped_kpoint_grid(atoms.cell[:], settings.kpt_density, settings.max_kpoints)
    )
    params: dict[str, Any] = {
        "mode": {"name": "lcao", "force_complex_dtype": True},
        "legacy_gpaw": True,
        "basis": settings.basis,
        "xc": settings.xc,
        "kpts": {"size": tuple(int(n) for n in kpts), "gamma": False},
        "symmetry": {"point_group": settings.point_group, "time_reversal": True},
        "occupations": {"name": "fermi-dirac", "width": settings.width},
        "nbands": "nao",
        "maxiter": settings.maxiter,
        "txt": settings.txt,
    }
    if settings.convergence is not None:
        params["convergence"] = dict(settings.convergence)
    return params


def run_scf(atoms: Atoms, settings: GpawSettings) -> Any:
    """Converge a spin-paired legacy-LCAO GPAW calculation; returns the calculator.

    Raises
    ------
    GpawError : non-periodic cell, initial magnetic moments, a missing setup or basis, or
        an SCF that does not converge within ``settings.maxiter`` iterations.
    """
    if not np.all(atoms.pbc):
        raise GpawError(f"the structure must be periodic in all directions (pbc={atoms.pbc})")
    magmoms = atoms.get_initial_magnetic_moments()
    if np.any(np.abs(magmoms) > 0):
        raise GpawError(
            "initial magnetic moments were requested; the reference backend handles only "
            "non-magnetic, spin-paired calculations"
        )
    if settings.kpts is not None and (
        len(settings.kpts) != 3 or any(int(n) < 1 for n in settings.kpts)
    ):
        raise GpawError(f"kpts must be three positive integers, got {settings.kpts}")
    check_elements(atoms.numbers, settings)

    from gpaw import GPAW, KohnShamConvergenceError

    atoms = atoms.copy()
    atoms.calc = GPAW(**gpaw_parameters(atoms, settings))
    try:
        atoms.get_potential_energy()
    except KohnShamConvergenceError as err:
        raise GpawError(
            f"GPAW SCF did not converge within maxiter={settings.maxiter} iterations "
            f"({atoms.get_chemical_formula()}): {_first_line(err)}"
        ) from err
    calc = atoms.calc
    if not calc.scf.converged:
        raise GpawError(f"GPAW SCF did not converge ({atoms.get_chemical_formula()})")
    return calc


# --- GPAW matrices at arbitrary k --------------------------------------------------------
