"""Verification of an extracted :class:`LcaoHamiltonian` against GPAW itself.

GPAW's own eigenvalues are the reference: spinless LCAO eigenvalues of the SCF, and
``gpaw.spinorbit.soc_eigenstates`` (second variation). With ``nbands='nao'`` (as
:func:`run_scf` uses) the second variation spans the whole LCAO space, so both must agree
with the R-space model to numerical precision (~1e-8 meV), not just approximately.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla

from hts_z2.hamiltonian.bloch import bloch_sum
from hts_z2.hamiltonian.tightbinding import hermiticity_error
from hts_z2.hamiltonian.timereversal import conjugate_by_theta, time_reversal_error
from hts_z2.reference.gpaw_lcao import LcaoHamiltonian, bloch_matrices, scf_potential


def gpaw_spinless_eigenvalues(calc: Any) -> tuple[np.ndarray, np.ndarray]:
    """GPAW's spinless band energies on the full SCF k-grid.

    IBZ eigenvalues are mapped to the BZ with ``kd.bz2ibz_k`` (time reversal only).

    Returns
    -------
    k : [n_k, 3] reduced BZ k-points.
    eps : [n_k, nbands] eV.
    """
    kd = calc.wfs.kd
    eps_ibz = np.array([calc.get_eigenvalues(kpt=q) for q in range(len(kd.ibzk_kc))])
    return np.array(kd.bzk_kc, dtype=float), eps_ibz[kd.bz2ibz_k]


def gpaw_soc_eigenvalues(calc: Any) -> tuple[np.ndarray, np.ndarray]:
    """GPAW's spin–orbit band energies (``soc_eigenstates``) on the full SCF k-grid.

    Returns
    -------
    k : [n_k, 3] reduced BZ k-points.
    eps : [n_k, 2 nbands] eV.
    """
    from gpaw.spinorbit import soc_eigenstates

    eps = soc_eigenstates(calc).eigenvalues()
    return np.array(calc.wfs.kd.bzk_kc, dtype=float), np.asarray(eps)


def model_eigenvalues(model: LcaoHamiltonian, k: np.ndarray, soc: bool = True) -> np.ndarray:
    """Band energies of the R-space model, generalized eigenproblem with S(k).

    Parameters
    ----------
    k : [n_k, 3] reduced.
    soc : spinful ``H0 (x) I2 + H_soc`` (True) or spinless ``H0`` (False).

    Returns
    -------
    [n_k, 2n] (soc) or [n_k, n] eV, ascending.
    """
    k = np.atleast_2d(np.asarray(k, dtype=float))
    if soc:
        H, S = model.spinful_hamiltonian(), model.spinful_overlap()
    else:
        H, S = model.H0, model.S
    Hk, Sk = bloch_sum(model.R, H, k), bloch_sum(model.R, S, k)
    return np.array([sla.eigh(h, s, eigvals_only=True) for h, s in zip(Hk, Sk, strict=True)])


def band_window(n_electrons: int, n_bands: int, n_window: int | None) -> slice:
    """Spinful bands ``[n_el - n_window, n_el + n_window)`` clipped to ``[0, n_bands)``.

    ``n_window=None`` takes ``n_electrons``: all valence bands and as many conduction bands.
    """
    n_window = n_electrons if n_window is None else int(n_window)
    return slice(max(0, n_electrons - n_window), min(n_bands, n_electrons + n_window))


def _max_dev_mev(model_eps: np.ndarray, ref_eps: np.ndarray, window: slice) -> tuple[float, float]:
    n_b = min(model_eps.shape[1], ref_eps.shape[1])
    dev = np.abs(model_eps[:, :n_b] - ref_eps[:, :n_b])
    return 1e3 * float(dev.max()), 1e3 * float(dev[:, window].max())


def kspace_time_reversal_error(calc: Any, k: np.ndarray) -> float:
    """``max |T H(k)* T^-1 - H(-k)|`` (eV) of GPAW's own spinful Bloch matrices.

    Independent of the R-space model (whose structure makes it TR-symmetric by
    construction once ``soc`` is real): tests the raw GPAW matrices at k [n_k, 3].
    """
    potential = scf_potential(calc)
    k = np.atleast_2d(np.asarray(k, dtype=float))
    H_plus, _ = bloch_matrices(calc, k, potential).spinful()
    H_minus, _ = bloch_matrices(calc, -k, potential).spinful()
    return float(np.abs(conjugate_by_theta(H_plus) - H_minus).max())


def compare_direct(calc: Any, model: LcaoHamiltonian, k: np.ndarray) -> dict[str, float]:
    """R-space model summed at k [n_k, 3] vs GPAW's matrices evaluated directly at k.

    Returns max abs differences of H0 (eV), S and spinful H (eV): zero up to rounding
    when the Fourier transform is alias-free and no relevant R was pruned.
    """
    k = np.atleast_2d(np.asarray(k, dtype=float))
    direct = bloch_matrices(calc, k)
    H_direct, _ = direct.spinful()
    H_model = bloch_sum(model.R, model.spinful_hamiltonian(), k)
    return {
        "H0_eV": float(np.abs(bloch_sum(model.R, model.H0, k) - direct.H0).max()),
        "S": float(np.abs(bloch_sum(model.R, model.S, k) - direct.S).max()),
        "H_spinful_eV": float(np.abs(H_model - H_direct).max()),
    }


def compare_offgrid(calc: Any, model: LcaoHamiltonian, k: np.ndarray) -> dict[str, float]:
    """Model eigenvalues vs a non-self-consistent GPAW run (``fixed_density``) at k [n_k, 3].

    Returns max |dE| in meV for the spinless bands and for ``soc_eigenstates``.
    """
    from gpaw.spinorbit import soc_eigenstates

    k = np.atleast_2d(np.asarray(k, dtype=float))
    nscf = calc.fixed_density(kpts=k, symmetry="off", txt=None)
    kd = nscf.wfs.kd
    eps = np.array([nscf.get_eigenvalues(kpt=q) for q in range(len(kd.ibzk_kc))])
    eps_soc = np.asarray(soc_eigenstates(nscf).eigenvalues())
    n_b, n_s = eps.shape[1], eps_soc.shape[1]
    dev = np.abs(model_eigenvalues(model, kd.ibzk_kc, soc=False)[:, :n_b] - eps)
    dev_soc = np.abs(model_eigenvalues(model, kd.bzk_kc, soc=True)[:, :n_s] - eps_soc)
    return {"spinless_meV": 1e3 * float(dev.max()), "soc_meV": 1e3 * float(dev_soc.max())}


def compare_with_gpaw(
    calc: Any, model: LcaoHamiltonian, n_window: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Compare an extracted model with GPAW's eigenvalues on the SCF k-grid.

    Parameters
    ----------
    calc : the converged calculator the model was extracted from.
    model : from :func:`hts_z2.reference.gpaw_lcao.extract_lcao`.
    n_window : spinful bands on each side of the gap in the "window" deviations (spinless
        window: half of it); default all valence bands and as many conduction bands.
    seed : seed of the random k-points of the k-space time-reversal check.

    Returns
    -------
    dict with max |dE| (meV) ``spinless_max_meV``, ``spinless_window_max_meV``,
    ``soc_max_meV``, ``soc_window_max_meV``; ``time_reversal_error_eV`` (spinful H(R)),
    ``kspace_time_reversal_error_eV`` (raw GPAW matrices at random k),
    ``hermiticity_error_eV`` (spinful H), ``overlap_hermiticity_error``, the band
    windows, ``nbands`` (GPAW) and ``n_kpoints``.
    """
    n = model.n_orbitals
    nbands = int(calc.get_number_of_bands())
    window = band_window(model.n_electrons, 2 * n, n_window)
    window0 = slice(window.start // 2, (window.stop + 1) // 2)

    k, eps = gpaw_spinless_eigenvalues(calc)
    spinless = _max_dev_mev(model_eigenvalues(model, k, soc=False), eps, window0)
    k_soc, eps_soc = gpaw_soc_eigenvalues(calc)
    spinful = _max_dev_mev(model_eigenvalues(model, k_soc, soc=True), eps_soc, window)

    H = model.spinful_hamiltonian()
    k_random = np.random.default_rng(seed).random((3, 3)) - 0.5
    return {
        "spinless_max_meV": spinless[0],
        "spinless_window_max_meV": spinless[1],
        "soc_max_meV": spinful[0],
        "soc_window_max_meV": spinful[1],
        "time_reversal_error_eV": time_reversal_error(H),
        "kspace_time_reversal_error_eV": kspace_time_reversal_error(calc, k_random),
        "hermiticity_error_eV": hermiticity_error(model.R, H),
        "overlap_hermiticity_error": hermiticity_error(model.R, model.S),
        "window_spinful": (window.start, window.stop),
        "window_spinless": (window0.start, window0.stop),
        "nbands": nbands,
        "complete_second_variation": nbands == n,
        "n_kpoints": len(k),
    }
