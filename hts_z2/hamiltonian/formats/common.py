"""Pieces shared by the file-format readers and writers: errors, spin orders, Hermiticity.

Spin orders of a spinful basis of ``n`` spatial orbitals (``2n`` states):

- ``"interleaved"``: index ``2*mu + sigma`` (the project's order, orbital-major);
- ``"blocks"``: index ``sigma*n + mu`` (all spin-up orbitals, then all spin-down).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError
from hts_z2.hamiltonian.tightbinding import TightBinding, TightBindingError

FILE_HERMITICITY_TOL = 1e-6
"""Largest ``|M(-R) - M(R)^H|`` (relative to ``max(1, max|M|)``) accepted in a file."""

SPIN_ORDERS = ("interleaved", "blocks")


class HamiltonianFileError(ValueError):
    """A Hamiltonian file (or directory) is missing, malformed or inconsistent.

    The message always starts with the offending path.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


def require_n_occ(n_occ: int | None, source: str | Path, n_bands: int) -> int:
    """``n_occ`` or a ValueError telling the user how to give it."""
    if n_occ is None:
        raise ValueError(
            f"{source}: the number of occupied bands is not stored in this file "
            f"({n_bands} bands); pass n_occ=... (command line: --n-occ)"
        )
    return int(n_occ)


def spin_permutation(n_spatial: int, order: str) -> np.ndarray:
    """File index of every project index ``2*mu + sigma``.

    Parameters
    ----------
    n_spatial : number of spatial orbitals ``n``.
    order : "interleaved" or "blocks".

    Returns
    -------
    [2n] int ``p`` with ``M_project = M_file[p][:, p]`` (and ``M_file[argsort(p)]`` back).
    """
    if order not in SPIN_ORDERS:
        raise ValueError(f"unknown spin order {order!r}; use one of {', '.join(SPIN_ORDERS)}")
    mu, sigma = np.divmod(np.arange(2 * n_spatial), 2)
    if order == "interleaved":
        return np.arange(2 * n_spatial)
    return sigma * n_spatial + mu


def minus_index(R: np.ndarray, where: str | Path) -> np.ndarray:
    """Row of ``-R`` for every row of ``R`` [n_R, 3]; a HamiltonianFileError if absent."""
    lookup = {tuple(r): i for i, r in enumerate(np.asarray(R).tolist())}
    minus = []
    for r in np.asarray(R).tolist():
        j = lookup.get(tuple(-x for x in r))
        if j is None:
            raise HamiltonianFileError(
                where,
                f"R = {tuple(r)} is present but -R = {tuple(-x for x in r)} is not "
                "(the R-vectors of a Hermitian model must be closed under R -> -R)",
            )
        minus.append(j)
    return np.array(minus, dtype=int)


def hermitized(
    name: str,
    M: np.ndarray,
    minus: np.ndarray,
    where: str | Path,
    tol: float = FILE_HERMITICITY_TOL,
) -> np.ndarray:
    """``(M(R) + M(-R)^H) / 2`` after checking that the file data are Hermitian.

    Parameters
    ----------
    M : [n_R, n, n] blocks as read; ``minus`` [n_R] row of ``-R``.

    Raises
    ------
    HamiltonianFileError when ``max |M(-R) - M(R)^H| > tol * max(1, max|M|)``.
    """
    Mh = np.swapaxes(M.conj(), 1, 2)[minus]
    err = float(np.max(np.abs(M - Mh), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(M), initial=0.0)))
    if err > tol * scale:
        r, i, j = np.unravel_index(int(np.argmax(np.abs(M - Mh))), M.shape)
        raise HamiltonianFileError(
            where,
            f"{name} is not Hermitian: max |{name}(-R) - {name}(R)^H| = {err:.3e} "
            f"(tolerance {tol * scale:.1e}) at R-row {r}, element ({i + 1}, {j + 1})",
        )
    return 0.5 * (M + Mh)


def build_model(where: str | Path, make: Callable[[], TightBinding]) -> TightBinding:
    """Run the TightBinding constructor, reporting validation failures against the file."""
    try:
        return make()
    except (TightBindingError, OverlapNotPositiveDefiniteError) as err:
        raise HamiltonianFileError(where, f"invalid tight-binding model: {err}") from err
