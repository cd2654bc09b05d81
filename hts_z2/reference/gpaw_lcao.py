"""GPAW LCAO (+ spin–orbit) reference Hamiltonians in the project's conventions.

A converged, spin-paired, legacy-LCAO GPAW calculation is turned into real-space blocks
``H0(R)``, ``S(R)`` and the spin–orbit part ``H_soc(R) = i sum_v soc_v(R) (x) sigma_v``.

Conventions (verified against GPAW, see ``tests/reference/test_gpaw_lcao.py``):

* GPAW stores the complex conjugate of the physical Bloch matrices in the lattice-vector
  gauge (no orbital positions in the phase). Here ``H(R)[mu, nu] = <phi_mu(r - tau_mu) | H |
  phi_nu(r - tau_nu - R)>`` with ``tau`` = GPAW's wrapped positions, so
  ``H(k) = sum_R H(R) exp(2 pi i k.R)`` (convention I of docs/design.md).
* ``H(R)`` is obtained by an exact (alias-free) Fourier transform: the set of R that any
  matrix element can reach is enumerated from the basis/projector cutoffs, and the
  Gamma-centred transform grid has ``N_c = 2 max|R_c| + 1`` points per direction.
* Spin–orbit is GPAW's PAW-sphere operator (``gpaw.spinorbit.soc``): per atom
  ``h^a = sum_v dVL^a_v (x) sigma_v`` sandwiched between projector overlaps, applied
  non-self-consistently on the scalar-relativistic density, like ``soc_eigenstates``.
* Orbitals: per atom, per radial shell of the GPAW basis file (dzp: all single-zeta shells,
  then split-valence, then polarization), m = -l..l real harmonics (l=1: y, z, x) — GPAW's
  order and signs coincide with the project's. Energies in eV on GPAW's absolute scale.

Only serial calculations are supported (projections are not gathered across ranks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hts_z2.hamiltonian.overlap import neighbour_images
from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.reference.gpaw_scf import GpawError

if TYPE_CHECKING:
    from hts_z2.hamiltonian import TightBinding

REAL_TOL = 1e-9  # relative tolerance for the imaginary / real residuals of the FT
K_CHUNK = 64  # k-points per batch in the Fourier transform


@dataclass(frozen=True, eq=False)
class LcaoHamiltonian:
    """Real-space LCAO Hamiltonian with spin–orbit coupling from GPAW.

    Attributes
    ----------
    lattice : [3, 3] lattice vectors as rows (Angstrom).
    positions : [n_atoms, 3] fractional positions (GPAW's, wrapped into [0, 1)).
    numbers : [n_atoms] atomic numbers.
    shells : per atom, ``l`` of each radial shell in GPAW basis order.
    R : [n_R, 3] int lattice vectors; contains 0 and is closed under ``-R``.
    H0 : [n_R, n, n] real spinless Hamiltonian (eV).
    S : [n_R, n, n] real overlap.
    soc : [n_R, 3, n, n] real; ``H_soc(R) = i sum_v soc[:, v] (x) sigma_v`` (eV).
    n_electrons : valence electrons of the setups (= spinful ``n_occ``; odd means a metal).
    fermi_level : GPAW's spinless Fermi level (eV, informational; lies somewhere in a gap).
    diagnostics : how the model was made (FT grid, residuals, number of reachable R...).
    """

    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    shells: tuple[tuple[int, ...], ...]
    R: np.ndarray
    H0: np.ndarray
    S: np.ndarray
    soc: np.ndarray
    n_electrons: int
    fermi_level: float
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = sum(2 * l + 1 for shells in self.shells for l in shells)
        n_R = len(self.R)
        expected = {
            "lattice": (3, 3),
            "positions": (len(self.shells), 3),
            "numbers": (len(self.shells),),
            "R": (n_R, 3),
            "H0": (n_R, n, n),
            "S": (n_R, n, n),
            "soc": (n_R, 3, n, n),
        }
        for name, shape in expected.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"LcaoHamiltonian.{name} has shape {np.shape(getattr(self, name))}, "
                    f"expected {shape} ({len(self.shells)} atoms, {n} orbitals, {n_R} R)"
                )

    @property
    def n_orbitals(self) -> int:
        """Number of spatial orbitals ``n``."""
        return int(self.H0.shape[1])

    def spinful_hamiltonian(self) -> np.ndarray:
        """``H0 (x) I2 + i sum_v soc_v (x) sigma_v``, index ``2*mu + sigma``.

        Returns
        -------
        [n_R, 2n, 2n] complex (eV).
        """
        return spinful_blocks(self.H0, self.soc)

    def spinful_overlap(self) -> np.ndarray:
        """``S (x) I2`` -> [n_R, 2n, 2n] complex."""
        return spinful_blocks(self.S)

    def tight_binding(self) -> TightBinding:
        """The spinful model as a validated :class:`hts_z2.hamiltonian.TightBinding`."""
        from hts_z2.hamiltonian import TightBinding, orbital_table

        return TightBinding(
            self.lattice,
            self.R,
            self.spinful_hamiltonian(),
            self.spinful_overlap(),
            n_occ=self.n_electrons,
            spinful=True,
            orbitals=orbital_table(self.shells),
            positions=self.positions,
            numbers=self.numbers,
        )


# --- structures and k-grids ----------------------------------------------------------------


@dataclass(frozen=True)
class ScfPotential:
    """The converged-potential pieces of a GPAW LCAO calculation (atomic units).

    Attributes
    ----------
    vt_xMM : [n_x, n, n] pseudo-potential matrices per cell displacement, lower part only.
    sdisp_xc : [n_x, 3] int cell displacement of each ``x`` (x=0 is the home cell).
    dH_aii : per atom [ni, ni] PAW Hamiltonian corrections (Hartree).
    dO_aii : per atom [ni, ni] PAW overlap corrections.
    dVL_avii : per atom [3, ni, ni] spin–orbit matrices ``gpaw.spinorbit.soc`` (Hartree).
    """

    vt_xMM: np.ndarray
    sdisp_xc: np.ndarray
    dH_aii: tuple[np.ndarray, ...]
    dO_aii: tuple[np.ndarray, ...]
    dVL_avii: tuple[np.ndarray, ...]


def _check_calculator(calc: Any) -> None:
    """Raise :class:`GpawError` when ``calc`` is not a usable converged serial LCAO run."""
    wfs = getattr(calc, "wfs", None)
    if wfs is None:
        raise GpawError("need a legacy GPAW calculator (GPAW(..., legacy_gpaw=True)) after SCF")
    if getattr(wfs, "mode", None) != "lcao":
        raise GpawError(f"need an LCAO calculation, got mode {getattr(wfs, 'mode', None)!r}")
    if wfs.nspins != 1:
        raise GpawError("spin-polarized calculations are not supported (need nspins=1)")
    if wfs.dtype != complex:
        raise GpawError(
            "need complex wave functions (Gamma-only real calculation); run with "
            "mode={'name': 'lcao', 'force_complex_dtype': True} as run_scf does"
        )
    if calc.world.size != 1:
        raise GpawError("only serial GPAW calculations can be extracted")
    if calc.scf is None or not calc.scf.converged:
        raise GpawError("the GPAW calculation has not converged")
    if abs(wfs.nvalence - wfs.setups.nvalence) > 1e-9:
        raise GpawError("charged cells are not supported")


def scf_potential(calc: Any) -> ScfPotential:
    """Collect the converged potential of a serial legacy LCAO calculation."""
    from gpaw.spinorbit import soc
    from gpaw.utilities import unpack_hermitian

    _check_calculator(calc)
    wfs, ham = calc.wfs, calc.hamiltonian
    bfs = wfs.basis_functions
    n_atoms = len(wfs.setups)
    return ScfPotential(
        vt_xMM=np.asarray(bfs.calculate_potential_matrices(ham.vt_sG[0])),
        sdisp_xc=np.array(bfs.sdisp_xc, dtype=int),
        dH_aii=tuple(unpack_hermitian(ham.dH_asp[a][0]) for a in range(n_atoms)),
        dO_aii=tuple(np.asarray(wfs.setups[a].dO_ii) for a in range(n_atoms)),
        dVL_avii=tuple(
            np.asarray(soc(wfs.setups[a], ham.xc, calc.density.D_asp[a])) for a in range(n_atoms)
        ),
    )


@dataclass(frozen=True)
class BlochMatrices:
    """Physical LCAO Bloch matrices at a batch of k-points.

    Attributes
    ----------
    H0 : [n_k, n, n] complex spinless Hamiltonian (eV).
    S : [n_k, n, n] complex overlap.
    soc : [n_k, 3, n, n] complex ``A_v(k)``; ``H_soc(k) = sum_v A_v(k) (x) sigma_v`` (eV).
    """

    H0: np.ndarray
    S: np.ndarray
    soc: np.ndarray

    def spinful(self) -> tuple[np.ndarray, np.ndarray]:
        """Spinful ``H(k)``, ``S(k)`` [n_k, 2n, 2n] (orbital-major, spin-inner)."""
        return spinful_blocks(self.H0, -1j * self.soc), spinful_blocks(self.S)


def bloch_matrices(
    calc: Any, k: np.ndarray, potential: ScfPotential | None = None
) -> BlochMatrices:
    """Evaluate GPAW's LCAO H(k), S(k) and SOC at arbitrary reduced k [n_k, 3].

    Rebuilds exactly what GPAW's direct LCAO eigensolver diagonalizes (grid potential
    + kinetic + PAW corrections), with fresh two-centre integrals at the requested k, and
    converts to the physical orientation (GPAW stores the complex conjugate).
    """
    from ase.units import Ha

    potential = scf_potential(calc) if potential is None else potential
    k = np.atleast_2d(np.asarray(k, dtype=float))
    wfs = calc.wfs
    nao = wfs.setups.nao
    mtci = wfs.tciexpansions.get_manytci_calculator(
        wfs.setups, wfs.gd, calc.spos_ac, k, complex, wfs.timer
    )
    O_kMM, T_kMM = mtci.O_qMM_T_qMM(wfs.gd.comm, 0, nao)
    P_akMi = mtci.P_aqMi(list(range(len(wfs.setups))))

    phase_kx = np.exp(2j * np.pi * k @ potential.sdisp_xc[1:].T)
    A = 0.5 * potential.vt_xMM[0][None].astype(complex) + np.einsum(
        "kx,xmn->kmn", phase_kx, potential.vt_xMM[1:]
    )
    S = np.array(O_kMM, dtype=complex)
    soc = np.zeros((len(k), 3, nao, nao), dtype=complex)
    for a, P in P_akMi.items():
        P = np.asarray(P)  # [n_k, n, ni]: P[mu, i] = <p_i | phi_mu,k>
        Pc = P.conj()
        A += 0.5 * P @ potential.dH_aii[a] @ np.swapaxes(Pc, 1, 2)
        S += P @ potential.dO_aii[a] @ np.swapaxes(Pc, 1, 2)
        soc += np.einsum("kmi,vij,knj->kvmn", Pc, potential.dVL_avii[a], P, optimize=True)
    H_gpaw = A + np.swapaxes(A.conj(), 1, 2) + T_kMM
    return BlochMatrices(H0=H_gpaw.conj() * Ha, S=S.conj(), soc=soc * Ha)


# --- real space ------------------------------------------------------------------------


def reachable_lattice_vectors(
    lattice: np.ndarray, positions: np.ndarray, rmax_ab: np.ndarray
) -> np.ndarray:
    """All R with ``|tau_b + R - tau_a| < rmax_ab[a, b]`` for some atom pair.

    Parameters
    ----------
    lattice : [3, 3] rows (any length unit, same as ``rmax_ab``).
    positions : [n_atoms, 3] fractional.
    rmax_ab : [n_atoms, n_atoms] interaction ranges.

    Returns
    -------
    [n_R, 3] int, closed under ``-R`` when ``rmax_ab`` is symmetric, contains 0.
    """
    return np.unique(neighbour_images(lattice, positions, rmax_ab)[2], axis=0)


def interaction_ranges(calc: Any) -> np.ndarray:
    """[n_atoms, n_atoms] range (Bohr) beyond which no H0, S or SOC element survives.

    Two-centre terms need ``rc_a + rc_b``; PAW terms (dH, dO, SOC) need both orbitals to
    touch a common projector sphere: ``rc_a + rc_b + 2 max(rc_proj)``.
    """
    tce = calc.wfs.tciexpansions
    phit = np.array([tce.phit_rcmax_I[I] for I in tce.I_a])
    proj = np.array([tce.pt_rcmax_I[I] for I in tce.I_a])
    return phit[:, None] + phit[None, :] + 2 * proj.max()


def gamma_grid(n_c: np.ndarray) -> np.ndarray:
    """Gamma-centred grid ``i_c / N_c`` -> [prod(N_c), 3]."""
    n_c = np.asarray(n_c, dtype=int)
    return np.indices(n_c).reshape(3, -1).T / n_c


def _real_part(name: str, M: np.ndarray, imaginary: bool = False) -> tuple[np.ndarray, float]:
    """Real (or imaginary) part of FT blocks; raise if the other part is not negligible."""
    keep, drop = (M.imag, M.real) if imaginary else (M.real, M.imag)
    residual = float(np.max(np.abs(drop), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(keep), initial=0.0)))
    if residual > REAL_TOL * scale:
        part = "real" if imaginary else "imaginary"
        raise GpawError(
            f"{name}(R) has a {part} part of {residual:.3e} (max element {scale:.3e}); "
            "the GPAW phase/orientation conventions assumed here do not hold"
        )
    return np.ascontiguousarray(keep), residual


def _prune(R: np.ndarray, blocks: list[np.ndarray], tol: float) -> np.ndarray:
    """Mask of R to keep: some block above ``tol``, symmetrized under ``-R``, 0 kept."""
    big = np.zeros(len(R), dtype=bool)
    for M in blocks:
        big |= np.abs(M).reshape(len(R), -1).max(axis=1) > tol
    index = {tuple(r): i for i, r in enumerate(R.tolist())}
    minus = np.array([index[tuple((-r).tolist())] for r in R])
    return big | big[minus] | np.all(R == 0, axis=1)


def extract_lcao(calc: Any, prune_tol: float = 1e-9) -> LcaoHamiltonian:
    """Real-space spinful LCAO Hamiltonian of a converged serial GPAW LCAO calculation.

    Parameters
    ----------
    calc : legacy GPAW calculator after SCF (e.g. from :func:`run_scf`).
    prune_tol : drop lattice vectors whose H0 (eV), S and SOC blocks are all below this
        (the kept set stays closed under ``-R``); ``<= 0`` keeps every reachable R.

    Raises
    ------
    GpawError : unsupported calculation, or FT residuals that break the conventions.
    """
    potential = scf_potential(calc)
    wfs = calc.wfs
    n = wfs.setups.nao
    lattice = np.array(calc.atoms.cell[:], dtype=float)
    positions = np.array(calc.spos_ac, dtype=float)
    R = reachable_lattice_vectors(wfs.gd.cell_cv, positions, interaction_ranges(calc))
    ft_grid = 2 * np.abs(R).max(axis=0) + 1
    k = gamma_grid(ft_grid)

    H0 = np.zeros((len(R), n * n), dtype=complex)
    S = np.zeros_like(H0)
    soc = np.zeros((len(R), 3 * n * n), dtype=complex)
    for start in range(0, len(k), K_CHUNK):
        kc = k[start : start + K_CHUNK]
        mats = bloch_matrices(calc, kc, potential)
        phase = np.exp(-2j * np.pi * R @ kc.T) / len(k)
        H0 += phase @ mats.H0.reshape(len(kc), -1)
        S += phase @ mats.S.reshape(len(kc), -1)
        soc += phase @ mats.soc.reshape(len(kc), -1)
    H0r, res_h = _real_part("H0", H0.reshape(-1, n, n))
    Sr, res_s = _real_part("S", S.reshape(-1, n, n))
    socr, res_soc = _real_part("SOC", soc.reshape(-1, 3, n, n), imaginary=True)

    keep = _prune(R, [H0r, Sr, socr], prune_tol) if prune_tol > 0 else np.ones(len(R), bool)
    shells = tuple(tuple(int(bf.l) for bf in setup.basis.bf_j) for setup in wfs.setups)
    return LcaoHamiltonian(
        lattice=lattice,
        positions=positions,
        numbers=np.array(calc.atoms.numbers, dtype=int),
        shells=shells,
        R=R[keep],
        H0=H0r[keep],
        S=Sr[keep],
        soc=socr[keep],
        n_electrons=round(wfs.setups.nvalence),
        fermi_level=float(calc.get_fermi_level()),
        diagnostics={
            "ft_grid": ft_grid.tolist(),
            "n_R_reachable": len(R),
            "n_R_kept": int(keep.sum()),
            "prune_tol": prune_tol,
            "imag_residual_H0": res_h,
            "imag_residual_S": res_s,
            "real_residual_soc": res_soc,
            "basis": calc.parameters.get("basis"),
            "xc": calc.parameters.get("xc"),
            "kpts": np.array(calc.wfs.kd.N_c).tolist(),
        },
    )
