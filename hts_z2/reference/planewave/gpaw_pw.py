"""GPAW plane-wave glue: SCF, non-self-consistent spin–orbit states at chosen k-points,
and the arrays the pure parity and Wilson-loop functions need.

Legacy GPAW calculator, PW mode, PBE, spin-paired SCF with point-group symmetry; spin–orbit
coupling is added by ``gpaw.spinorbit.soc_eigenstates`` (second variation over the scalar
bands of a fixed-density run without symmetry, so every requested k is explicit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hts_z2.reference.gpaw_scf import GpawError, kpoint_grid
from hts_z2.reference.planewave.settings import PlaneWaveSettings

NSCF_MAXITER = 100
"""Eigensolver iterations of a non-self-consistent run before it counts as not converged
(then retried converging fewer of the top bands). Converged runs need 20-60; one band that
stalls just above the threshold otherwise costs GPAW's default of 333 (hours on 80 k-points:
seen on Sb2Te3)."""


def inversion_translation(
    lattice: np.ndarray, frac: np.ndarray, numbers: np.ndarray, symprec: float = 1e-4
) -> np.ndarray | None:
    """Reduced translation t of a symmetry ``r -> -r + t`` of the crystal, or None.

    Parameters
    ----------
    lattice : [3, 3] rows (Å); frac : [n_atoms, 3]; numbers : [n_atoms].
    """
    import spglib

    cell = (np.asarray(lattice, float), np.asarray(frac, float), np.asarray(numbers, int))
    sym = spglib.get_symmetry(cell, symprec=symprec)
    if sym is None:
        return None
    minus = -np.eye(3, dtype=int)
    for rot, trans in zip(sym["rotations"], sym["translations"], strict=True):
        if np.array_equal(rot, minus):
            return np.asarray(trans, dtype=float)
    return None


def point_group(
    lattice: np.ndarray, frac: np.ndarray, numbers: np.ndarray, symprec: float = 1e-4
) -> np.ndarray:
    """[r, 3, 3] integer rotations (fractional coordinates) of the crystal's point group."""
    import spglib

    cell = (np.asarray(lattice, float), np.asarray(frac, float), np.asarray(numbers, int))
    sym = spglib.get_symmetry(cell, symprec=symprec)
    if sym is None:
        return np.eye(3, dtype=int)[None]
    return np.unique(np.asarray(sym["rotations"], dtype=int), axis=0)


def check_setups(numbers: np.ndarray, xc: str) -> None:
    """Raise :class:`GpawError` unless every element has a PAW setup for ``xc``."""
    from ase.data import chemical_symbols
    from gpaw.setup_data import SetupData
    from gpaw.xc import XC

    name = XC(xc).get_setup_name()
    missing = []
    for Z in sorted({int(z) for z in np.asarray(numbers).ravel()}):
        try:
            SetupData.find_and_read_path(chemical_symbols[Z], name, setuptype="paw")
        except (OSError, RuntimeError, ValueError, KeyError, IndexError):
            missing.append(chemical_symbols[Z] if 0 < Z < len(chemical_symbols) else str(Z))
    if missing:
        raise GpawError(f"no {name} PAW setup for {', '.join(missing)}")


def run_pw_scf(atoms: Any, settings: PlaneWaveSettings, txt: str | None = None) -> Any:
    """Converged spin-paired PW calculation of ``atoms`` (legacy GPAW calculator).

    Raises
    ------
    GpawError : missing setups or an SCF that does not converge.
    """
    from gpaw import GPAW, PW, FermiDirac, KohnShamConvergenceError

    check_setups(atoms.numbers, settings.xc)
    grid = kpoint_grid(atoms.cell[:], settings.kpt_density)
    atoms = atoms.copy()
    atoms.calc = GPAW(
        mode=PW(settings.ecut),
        xc=settings.xc,
        kpts={"size": grid, "gamma": True},
        occupations=FermiDirac(settings.width),
        symmetry={"point_group": True, "time_reversal": True},
        maxiter=settings.maxiter,
        txt=txt,
        legacy_gpaw=True,
    )
    try:
        atoms.get_potential_energy()
    except KohnShamConvergenceError as err:
        raise GpawError(
            f"plane-wave SCF of {atoms.get_chemical_formula()} did not converge within "
            f"{settings.maxiter} iterations"
        ) from err
    if not atoms.calc.scf.converged:
        raise GpawError(f"plane-wave SCF of {atoms.get_chemical_formula()} did not converge")
    return atoms.calc


def n_valence(calc: Any) -> int:
    """Valence electrons of a calculation (an integer for a neutral cell)."""
    n = float(calc.get_number_of_electrons())
    if abs(n - round(n)) > 1e-6:
        raise GpawError(f"non-integer electron count {n}")
    return round(n)


@dataclass
class SocStates:
    """Spin–orbit states of a non-self-consistent run at explicit k-points.

    Attributes
    ----------
    k : [n_k, 3] reduced k-points, in the order requested.
    energies : [n_k, 2 N] spinor band energies (eV), ascending.
    calc : the fixed-density calculator (scalar bands, PW coefficients).
    soc : GPAW's ``BZWaveFunctions`` (eigenvectors over scalar bands x spin, projections).
    """

    k: np.ndarray
    energies: np.ndarray
    calc: Any
    soc: Any

    @property
    def n_scalar(self) -> int:
        return int(self.calc.get_number_of_bands())

    def coefficients(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Plane-wave coefficients [N, n_G] of the scalar bands at k-point i and the
        integer reduced G [n_G, 3] of each coefficient."""
        wfs = self.calc.wfs
        kG = wfs.pd.get_reciprocal_vectors(q=i, add_q=True)
        frac = kG @ wfs.gd.cell_cv.T / (2 * np.pi)
        miller = np.round(frac - self.k[i]).astype(int)
        if not np.allclose(frac - self.k[i], miller, atol=1e-6):
            raise GpawError("plane-wave vectors are not k + integer G")
        return np.array(wfs.kpt_u[i].psit_nG[:], dtype=np.complex128), miller

    def periodic_parts(self, i: int) -> np.ndarray:
        """[N, n1, n2, n3] periodic parts ``u~`` of the scalar pseudo wave functions."""
        wfs = self.calc.wfs
        psit = wfs.kpt_u[i].psit_nG
        return np.array([wfs.pd.ifft(psit[n], i) for n in range(self.n_scalar)])

    def vectors(self, i: int, m: int) -> np.ndarray:
        """[m, 2N] coefficients of the lowest m spinor states over scalar bands x spin."""
        return np.asarray(self.soc[i].v_mn[:m])

    def projections(self, i: int, m: int) -> list[np.ndarray]:
        """Per atom [m, 2, n_i] PAW projections of the lowest m spinor states."""
        proj = self.soc[i].projections
        return [np.asarray(proj[a][:m]) for a in range(len(self.calc.spos_ac))]

    def overlap_corrections(self) -> list[np.ndarray]:
        """Per atom [n_i, n_i] PAW overlap corrections ``dO``."""
        setups = self.calc.wfs.setups
        return [np.asarray(setups[a].dO_ii) for a in range(len(self.calc.spos_ac))]

    @property
    def grid_volume(self) -> float:
        """Volume element of the real-space grid (bohr^3)."""
        return float(self.calc.wfs.gd.dv)

    @property
    def positions(self) -> np.ndarray:
        """[n_atoms, 3] reduced atomic positions."""
        return np.asarray(self.calc.spos_ac, dtype=float)


def soc_states(
    calc: Any, k: np.ndarray, settings: PlaneWaveSettings, n_electrons: int
) -> SocStates:
    """Non-self-consistent scalar bands at k [n_k, 3] (no symmetry), then spin–orbit.

    ``settings.scalar_bands(n_electrons)`` bands are computed; all but the top tenth are
    converged (the highest ones of an iterative solver converge slowly and only pad the
    second-variation space).
    """
    from gpaw import KohnShamConvergenceError
    from gpaw.spinorbit import soc_eigenstates

    k = np.atleast_2d(np.asarray(k, dtype=float))
    nbands = settings.scalar_bands(n_electrons)
    nscf = None
    for fraction in (10, 4):  # on failure, retry converging fewer of the top bands
        converge = nbands - max(2, nbands // fraction)
        try:
            nscf = calc.fixed_density(
                kpts=k,
                symmetry="off",
                nbands=nbands,
                convergence={"bands": converge, "eigenstates": settings.eigenstates},
                maxiter=NSCF_MAXITER,
                txt=None,
            )
            break
        except KohnShamConvergenceError:
            continue
    if nscf is None:
        raise GpawError(f"non-self-consistent run with {nbands} bands did not converge")
    kd = nscf.wfs.kd
    if kd.nibzkpts != len(k) or not np.allclose(kd.ibzk_kc, k, atol=1e-10):
        raise GpawError("GPAW changed the requested k-points of a non-self-consistent run")
    soc = soc_eigenstates(nscf)
    energies = np.asarray(soc.eigenvalues(), dtype=float)
    return SocStates(k=k, energies=energies, calc=nscf, soc=soc)


def scf_ibz_kpoints(calc: Any) -> np.ndarray:
    """[n, 3] irreducible k-points of the SCF grid."""
    return np.asarray(calc.get_ibz_k_points(), dtype=float)


def unique_kpoints(*groups: np.ndarray, decimals: int = 8) -> tuple[np.ndarray, list[np.ndarray]]:
    """Concatenate k-point groups without repeats (modulo reciprocal vectors).

    Returns
    -------
    (k [n, 3], per group the indices of its points in k).
    """
    keys: dict[tuple, int] = {}
    out: list[np.ndarray] = []
    where = []
    for group in groups:
        idx = []
        for kk in np.atleast_2d(group):
            key = tuple(np.round(np.mod(kk, 1.0), decimals) % 1.0)
            if key not in keys:
                keys[key] = len(out)
                out.append(np.asarray(kk, dtype=float))
            idx.append(keys[key])
        where.append(np.array(idx, dtype=int))
    return np.array(out), where
