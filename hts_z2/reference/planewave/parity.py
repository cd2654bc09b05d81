"""Fu–Kane parity invariants from plane-wave spinor states at the eight TRIM.

Inversion ``P: r -> -r + t`` commutes with the PAW transformation of a centrosymmetric
crystal (it maps every atom, with its partial waves and projectors, onto an atom of the
same species), so the pseudo wave functions of a P-invariant set of states transform
with the same matrix ``D`` as the true states: ``<psi~_m|P|psi~_n> = (S~ D)_mn`` with
``S~`` the pseudo overlap. The generalized eigenproblem ``P~ x = lambda S~ x`` therefore
gives the exact parities ``+-1`` without PAW corrections; how far ``|lambda|`` is from 1
measures how well the computed set is closed under P.

Parities are taken inside the whole occupied spinor subspace at each TRIM (never band
by band, which mis-assigns degenerate or near-degenerate levels); the Fu–Kane product
``delta_i = (-1)^(n_odd / 2)`` counts odd Kramers pairs. Frontier parities (highest
occupied and lowest empty level) say whether swapping those two levels would flip
``delta_i``: the energy of such a swap is the band inversion that decides the label.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

TRIM: np.ndarray = np.array(list(itertools.product((0.0, 0.5), repeat=3)))
"""[8, 3] the time-reversal-invariant momenta, k1 slowest: (000), (00h), (0h0), ..."""
DEGENERACY_TOL = 1e-3
"""Levels closer than this (eV) form one degenerate level when frontier parities are read."""


def inversion_partner_index(miller: np.ndarray, k: np.ndarray) -> np.ndarray:
    """For each plane wave ``k + G`` the index of the plane wave ``-(k + G)``.

    Parameters
    ----------
    miller : [n_G, 3] integer reduced coordinates of G.
    k : [3] a TRIM (``2k`` integer).

    Raises
    ------
    ValueError : k is not a TRIM, or the basis is not closed under inversion.
    """
    two_k = 2 * np.asarray(k, dtype=float)
    if not np.allclose(two_k, np.round(two_k), atol=1e-8):
        raise ValueError(f"k = {k} is not a time-reversal-invariant momentum")
    two_k = np.round(two_k).astype(int)
    miller = np.asarray(miller, dtype=int)
    index = {tuple(m): i for i, m in enumerate(miller.tolist())}
    try:
        return np.array([index[tuple(m)] for m in (-miller - two_k).tolist()], dtype=int)
    except KeyError as err:
        raise ValueError(
            f"the plane-wave basis at k = {k} is not closed under inversion (missing {err})"
        ) from None


def parity_matrices(
    coefficients: np.ndarray, miller: np.ndarray, k: np.ndarray, translation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inversion and overlap matrices of scalar plane-wave states at a TRIM.

    ``(P psi)(r) = psi(-r + t)``; for ``psi(r) = sum_G c_G e^{i(k+G).r}`` the image has the
    coefficient ``c_G e^{2 pi i (k+G).t}`` at the plane wave ``-(k + G)``.

    Parameters
    ----------
    coefficients : [n_bands, n_G] plane-wave coefficients of the pseudo wave functions.
    miller : [n_G, 3] integer reduced G of each coefficient.
    k : [3] reduced TRIM.
    translation : [3] reduced translation t of the inversion ``r -> -r + t``.

    Returns
    -------
    P : [n_bands, n_bands] ``<psi~_m|P|psi~_n>``; S : [n_bands, n_bands] ``<psi~_m|psi~_n>``
    (both up to the same normalization factor).
    """
    c = np.asarray(coefficients, dtype=np.complex128)
    partner = inversion_partner_index(miller, k)
    kG = np.asarray(miller, dtype=float) + np.asarray(k, dtype=float)
    phase = np.exp(2j * np.pi * (kG @ np.asarray(translation, dtype=float)))
    image = c[:, partner] * phase[partner]
    return c.conj() @ image.T, c.conj() @ c.T


def spinor_matrix(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A spin-independent scalar operator in a basis of spinors.

    Parameters
    ----------
    M : [N, N] matrix between scalar bands.
    v : [m, 2N] spinor states as rows over the scalar-band x spin basis ``2n + s``.

    Returns
    -------
    [m, m] ``sum_s v_s^* M v_s^T``.
    """
    up, down = v[:, 0::2], v[:, 1::2]
    return up.conj() @ M @ up.T + down.conj() @ M @ down.T


def subspace_parities(P: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Parity eigenvalues (ascending) of a P-invariant subspace: ``P x = lambda S x``."""
    return sla.eigh(0.5 * (P + P.conj().T), 0.5 * (S + S.conj().T), eigvals_only=True)


@dataclass(frozen=True)
class TrimParity:
    """Parity data of the occupied spinor subspace at one TRIM.

    Attributes
    ----------
    k : reduced TRIM.
    delta : Fu–Kane product over occupied Kramers pairs, +1 or -1.
    n_odd : odd occupied spinor states (even for a Kramers-degenerate spectrum).
    deviation : ``max | |lambda| - 1 |`` over the occupied subspace.
    direct_gap : lowest empty minus highest occupied level here (eV).
    frontier : parities (+1/-1, 0 when mixed) of the highest occupied and the lowest empty
        level.
    """

    k: tuple[float, float, float]
    delta: int
    n_odd: int
    deviation: float
    direct_gap: float
    frontier: tuple[int, int]

    @property
    def flippable(self) -> bool:
        """Swapping the frontier levels would change ``delta``."""
        a, b = self.frontier
        return a * b == -1


def level_parity(P: np.ndarray, S: np.ndarray, energies: np.ndarray, band: int) -> int:
    """Parity (+1/-1) of the degenerate level holding spinor ``band``, 0 when it mixes
    parities (a level of both parities cannot be swapped as a whole).

    Parameters
    ----------
    P, S : [m, m] spinor matrices of the lowest m states; energies : [m] ascending (eV).
    """
    level = np.flatnonzero(np.abs(energies - energies[band]) < DEGENERACY_TOL)
    lam = subspace_parities(P[np.ix_(level, level)], S[np.ix_(level, level)])
    signs = np.unique(np.sign(lam))
    return int(signs[0]) if len(signs) == 1 else 0


def trim_parity(
    P: np.ndarray, S: np.ndarray, energies: np.ndarray, n_occ: int, k: np.ndarray
) -> TrimParity:
    """Fu–Kane data at one TRIM from spinor parity and overlap matrices.

    Parameters
    ----------
    P, S : [m, m] spinor matrices of the lowest m > n_occ states.
    energies : [m] ascending spinor energies (eV).
    n_occ : occupied spinor states.
    """
    if len(energies) <= n_occ:
        raise ValueError(f"need states above the {n_occ} occupied ones, got {len(energies)}")
    occ = slice(0, n_occ)
    lam = subspace_parities(P[occ, occ], S[occ, occ])
    n_odd = int(np.sum(lam < 0))
    return TrimParity(
        k=tuple(float(x) for x in k),
        delta=-1 if (n_odd // 2) % 2 else 1,
        n_odd=n_odd,
        deviation=float(np.max(np.abs(np.abs(lam) - 1.0))),
        direct_gap=float(energies[n_occ] - energies[n_occ - 1]),
        frontier=(
            level_parity(P, S, energies, n_occ - 1),
            level_parity(P, S, energies, n_occ),
        ),
    )


def planes_from_deltas(delta: np.ndarray) -> tuple[int, ...]:
    """Z2 of the six TRIM planes from the eight Fu–Kane products.

    ``(-1)^{Z2(plane)}`` is the product of delta over the four TRIM of the plane.

    Parameters
    ----------
    delta : [8] +-1 in the order of :data:`TRIM`.

    Returns
    -------
    six ints in the project's plane order (k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2).
    """
    delta = np.asarray(delta, dtype=int)
    if delta.shape != (8,) or not np.all(np.abs(delta) == 1):
        raise ValueError(f"need eight Fu-Kane products of +-1, got {delta.tolist()}")
    planes = []
    for axis in range(3):
        for value in (0.0, 0.5):
            on_plane = np.isclose(TRIM[:, axis], value)
            planes.append(int(np.prod(delta[on_plane]) < 0))
    return tuple(planes)


def inversion_energy(parities: list[TrimParity]) -> float | None:
    """Smallest direct gap at a TRIM whose frontier levels have opposite parity: the band
    inversion (or anti-inversion) whose swap would change the Z2 indices. None when no
    TRIM has such a pair."""
    flips = [p.direct_gap for p in parities if p.flippable]
    return min(flips) if flips else None
