"""The ``TightBinding`` container: a validated real-space Hamiltonian ``H(R)``, ``S(R)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable
from hts_z2.hamiltonian.bloch import TRIM, bloch_sum, check_overlap, orthogonalized_eigh
from hts_z2.hamiltonian.timereversal import time_reversal_error

HERMITICITY_TOL = 1e-8


class TightBindingError(ValueError):
    """A tight-binding model is malformed (shapes, Hermiticity, occupation, NaN...)."""


def _minus_index(R: np.ndarray) -> np.ndarray:
    """Index of ``-R`` for every row of ``R``; raises if the set is not closed under ``-R``."""
    lookup = {tuple(r): i for i, r in enumerate(R.tolist())}
    try:
        return np.array([lookup[tuple((-r).tolist())] for r in R], dtype=int)
    except KeyError as err:
        raise TightBindingError(f"R-vectors are not closed under R -> -R (missing {err})") from None


def block_checks(M: np.ndarray, minus: np.ndarray) -> tuple[float, float]:
    """``(max |M|, max |M(-R) - M(R)^H|)`` over all blocks; NaN or inf where any entry is.

    Parameters
    ----------
    M : [n_R, n, n] blocks; minus : [n_R] index of ``-R`` for every ``R``.

    Each pair ``(R, -R)`` is visited once, one [n, n] block at a time, so the checks need
    no temporaries of the size of ``M`` (dense spinful models reach 100s of MiB).
    """
    size, err = 0.0, 0.0
    for r, m in enumerate(np.asarray(minus).tolist()):
        if m < r:
            continue
        a = float(np.max(np.abs(M[[r, m]]), initial=0.0))
        e = float(np.max(np.abs(M[m] - M[r].conj().T), initial=0.0))
        if not np.isfinite(a + e):  # Python's max() would drop a NaN
            return a, e
        size, err = max(size, a), max(err, e)
    return size, err


def hermiticity_error(R: np.ndarray, M: np.ndarray) -> float:
    """``max |M(-R) - M(R)^H|`` over blocks [n_R, n, n] (``R`` closed under ``-R``; see
    :func:`block_checks`)."""
    return block_checks(np.asarray(M), _minus_index(np.asarray(R)))[1]


def _check_blocks(name: str, M: np.ndarray, n_R: int, minus: np.ndarray) -> np.ndarray:
    """``M`` as complex128 (no copy when it already is), validated."""
    M = np.asarray(M)
    if M.ndim != 3 or M.shape[0] != n_R or M.shape[1] != M.shape[2]:
        raise TightBindingError(f"{name} must have shape [n_R={n_R}, n, n], got {M.shape}")
    M = np.asarray(M, dtype=np.complex128)
    size, err = block_checks(M, minus)
    if not np.isfinite(size + err):
        raise TightBindingError(f"{name} contains NaN or infinite entries")
    if err > HERMITICITY_TOL * max(1.0, size):
        raise TightBindingError(
            f"{name} is not Hermitian: max |{name}(-R) - {name}(R)^H| = {err:.3e}"
        )
    return M


@dataclass(frozen=True, eq=False)
class TightBinding:
    """A periodic tight-binding Hamiltonian in the project's conventions.

    Parameters
    ----------
    lattice : [3, 3] rows are the lattice vectors (Angstrom).
    R : [n_R, 3] integer lattice vectors (reduced); must contain 0 and be closed under -R.
    H : [n_R, n, n] complex Hamiltonian blocks (eV), ``H(-R) = H(R)^H``.
    S : [n_R, n, n] overlap blocks, or None for an orthogonal basis.
    n_occ : number of occupied bands (even for spinful models, ``0 < n_occ < n``).
    spinful : ``True`` when indices are ``2*mu + sigma`` (orbital-major, spin inner).
    orbitals : optional per-(spatial-)orbital metadata (atom, l, m).
    positions : optional [n_atoms, 3] fractional atomic positions.
    numbers : optional [n_atoms] atomic numbers.
    overlap_cutoff : 0 for the exact generalized eigenproblem (S must be positive-definite);
        > 0 solves it canonically, dropping overlap directions with eigenvalue at or below
        the cutoff (:func:`~hts_z2.hamiltonian.bloch.canonical_transform`). Meant for
        predicted models in a nearly linearly dependent basis, where ``S^-1`` would
        amplify small errors of H along those directions into eV-sized band errors.

    The validated ``H`` and ``S`` share memory with the arrays passed in when these are
    already complex128 (dense spinful models are large): treat them as read-only.
    """

    lattice: np.ndarray
    R: np.ndarray
    H: np.ndarray
    S: np.ndarray | None = None
    n_occ: int = 0
    spinful: bool = True
    orbitals: OrbitalTable | None = None
    positions: np.ndarray | None = None
    numbers: np.ndarray | None = None
    overlap_cutoff: float = 0.0
    _minus: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lattice = np.asarray(self.lattice, dtype=float)
        if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
            raise TightBindingError(f"lattice must be a finite [3, 3] array, got {lattice.shape}")
        if abs(np.linalg.det(lattice)) < 1e-8:
            raise TightBindingError("lattice vectors are linearly dependent")
        R = np.asarray(self.R)
        if R.ndim != 2 or R.shape[1] != 3:
            raise TightBindingError(f"R must have shape [n_R, 3], got {R.shape}")
        if not np.all(np.equal(np.round(R), R)):
            raise TightBindingError("R must contain integer lattice vectors")
        R = np.round(R).astype(int)
        if len({tuple(r) for r in R.tolist()}) != len(R):
            raise TightBindingError("R contains duplicate lattice vectors")
        if not np.any(np.all(R == 0, axis=1)):
            raise TightBindingError("R must contain the on-site vector (0, 0, 0)")
        minus = _minus_index(R)
        H = _check_blocks("H", self.H, len(R), minus)
        S = None if self.S is None else _check_blocks("S", self.S, len(R), minus)
        if S is not None and S.shape != H.shape:
            raise TightBindingError(f"S has shape {S.shape} but H has {H.shape}")
        n = H.shape[1]
        if self.spinful and n % 2:
            raise TightBindingError(f"a spinful model needs an even dimension, got {n}")
        n_occ = int(self.n_occ)
        if n_occ != self.n_occ or not 0 < n_occ < n:
            raise TightBindingError(
                f"n_occ must be an integer with 0 < n_occ < {n}, got {self.n_occ}"
            )
        if self.spinful and n_occ % 2:
            raise TightBindingError(f"n_occ must be even for a spinful model, got {n_occ}")
        n_spatial = n // 2 if self.spinful else n
        if self.orbitals is not None and len(self.orbitals) != n_spatial:
            raise TightBindingError(
                f"orbital table has {len(self.orbitals)} orbitals, model has {n_spatial}"
            )
        for name, value in (("lattice", lattice), ("R", R), ("H", H), ("S", S)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "n_occ", n_occ)
        object.__setattr__(self, "_minus", minus)
        if self.positions is not None:
            object.__setattr__(self, "positions", np.asarray(self.positions, dtype=float))
            object.__setattr__(self, "numbers", np.asarray(self.numbers, dtype=int))
        if S is not None:
            self._check_overlap()

    def _check_overlap(self) -> None:
        """S(k) at the eight TRIM: positive-definite, or with a cutoff, more kept
        directions than occupied bands and no eigenvalue below ``-overlap_cutoff``."""
        Sk, spatial = self.overlap_k(TRIM)
        check_overlap(Sk, TRIM, self.overlap_cutoff, self.n_occ, spatial)

    # --- sizes -------------------------------------------------------------------------
    @property
    def n_bands(self) -> int:
        """Matrix dimension (spinful bands for a spinful model)."""
        return int(self.H.shape[1])

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        """[3, 3] rows ``b_i`` with ``a_i . b_j = 2 pi delta_ij`` (1/Angstrom)."""
        return 2 * np.pi * np.linalg.inv(self.lattice).T

    # --- k-space -----------------------------------------------------------------------
    def hk(self, k: np.ndarray) -> np.ndarray:
        """H(k) for k [n_k, 3] (reduced) -> [n_k, n, n]."""
        return bloch_sum(self.R, self.H, k)

    def sk(self, k: np.ndarray) -> np.ndarray | None:
        """S(k) for k [n_k, 3] -> [n_k, n, n], or None for an orthogonal basis."""
        return None if self.S is None else bloch_sum(self.R, self.S, k)

    @cached_property
    def spatial_overlap(self) -> np.ndarray | None:
        """[n_R, n/2, n/2] spin-independent overlap when ``S(R) = S_s(R) (x) I2`` holds
        exactly (always for models built with ``spinful_blocks``), else None.

        The k-space solvers then factorize ``S_s(k)`` at half the size.
        """
        if not self.spinful or self.S is None:
            return None
        S = self.S
        up = S[:, 0::2, 0::2]
        if np.any(S[:, 0::2, 1::2]) or np.any(S[:, 1::2, 0::2]) or not np.array_equal(
            up, S[:, 1::2, 1::2]
        ):
            return None
        return np.ascontiguousarray(up)

    def overlap_k(self, k: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """``(S(k), spatial)``: the spin-independent ``S_s(k)`` [n_k, n/2, n/2] with
        ``spatial=True`` where :attr:`spatial_overlap` exists, else the full ``S(k)``."""
        if self.spatial_overlap is not None:
            return bloch_sum(self.R, self.spatial_overlap, k), True
        return self.sk(k), False

    def eigh(
        self,
        k: np.ndarray,
        vectors: bool = False,
        orthogonalization: str = "cholesky",
        device: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Band energies [n_k, n] and orthonormalized states [n_k, n, n] (columns).

        States are ``y = L^H c`` (see :func:`orthogonalized_eigh`). ``device``: a torch
        device ("cpu", "cuda") for the Bloch sums and the eigensolve (the blocks are
        copied there once per device); None for numpy. Results are numpy arrays.
        """
        k = np.atleast_2d(np.asarray(k, dtype=float))
        if device is None:
            Sk, spatial = self.overlap_k(k)
            Hk = self.hk(k)
        else:
            H, S, spatial = self._device_blocks(device)
            Hk = bloch_sum(self.R, H, k)
            Sk = None if S is None else bloch_sum(self.R, S, k)
        E, Y, _ = orthogonalized_eigh(
            Hk, Sk, k, orthogonalization, vectors, self.overlap_cutoff, spatial
        )
        if device is not None:
            return E.cpu().numpy(), None if Y is None else Y.cpu().numpy()
        return E, Y

    def release_device_copies(self) -> None:
        """Drop the torch copies :meth:`eigh` made on devices (GPU memory)."""
        self.__dict__.pop("_on_device", None)

    def _device_blocks(self, device: str):
        """(H, S or spatial S, spatial) as torch tensors on ``device``, cached."""
        cache = self.__dict__.setdefault("_on_device", {})
        if device not in cache:
            import torch

            spatial = self.spatial_overlap is not None
            S = self.spatial_overlap if spatial else self.S
            cache[device] = (
                torch.as_tensor(self.H, device=device),
                None if S is None else torch.as_tensor(S, device=device),
                spatial,
            )
        return cache[device]

    # --- symmetry ----------------------------------------------------------------------
    def time_reversal_error(self) -> float:
        """Largest violation (eV) of ``Theta H(k) Theta^-1 = H(-k)``; spinful models only.

        The overlap is spin-independent and real in R, so it is TR-symmetric by
        construction when it is given as ``S(R) (x) I2``; it is checked too.
        """
        if not self.spinful:
            raise TightBindingError("time reversal with Theta^2 = -1 needs a spinful model")
        err = time_reversal_error(self.H)
        if self.S is not None:
            err = max(err, time_reversal_error(self.S))
        return err

    # --- derived models ----------------------------------------------------------------
    def replace(self, **changes) -> TightBinding:
        """A validated copy with some fields replaced."""
        fields = {
            "lattice": self.lattice,
            "R": self.R,
            "H": self.H,
            "S": self.S,
            "n_occ": self.n_occ,
            "spinful": self.spinful,
            "orbitals": self.orbitals,
            "positions": self.positions,
            "numbers": self.numbers,
            "overlap_cutoff": self.overlap_cutoff,
        }
        fields.update(changes)
        return TightBinding(**fields)

    def sub_basis(self, index: np.ndarray, orbitals: OrbitalTable | None) -> TightBinding:
        """The model restricted to some spatial orbitals (both spins of each when spinful):
        the blocks of H and S between them, the same occupation.

        Parameters
        ----------
        index : [n_kept] spatial orbital indices to keep, in the order of the new basis.
        orbitals : the kept orbitals' table, or None.
        """
        idx = np.asarray(index, dtype=int)
        rows = np.stack([2 * idx, 2 * idx + 1], 1).reshape(-1) if self.spinful else idx
        H = self.H[:, rows][:, :, rows]
        S = None if self.S is None else self.S[:, rows][:, :, rows]
        return self.replace(H=H, S=S, orbitals=orbitals)

    def onsite_index(self) -> int:
        """Row of ``R`` holding (0, 0, 0)."""
        return int(np.flatnonzero(np.all(self.R == 0, axis=1))[0])

    def shifted(self, mu: float) -> TightBinding:
        """``H -> H + mu S`` (all energies shift by ``mu``)."""
        if self.S is not None:
            return self.replace(H=self.H + mu * self.S)
        H = self.H.copy()
        H[self.onsite_index()] += mu * np.eye(self.n_bands)
        return self.replace(H=H)
