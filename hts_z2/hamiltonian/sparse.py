"""Block-sparse spinful models: the predicted atom-pair blocks, Bloch-summed on demand.

A model predicted for a crystal has, per ordered atom pair ``(i, j)`` and lattice vector
``R``, four real ``[n_i, n_j]`` blocks: the spin-independent ``M`` and the spin–orbit
components ``B_x, B_y, B_z`` of ``H(R) = M (x) I2 + i sum_v B_v (x) sigma_v`` (the form
:func:`~hts_z2.hamiltonian.soc.spin_pair_blocks` writes), and the real overlap blocks
``S(R)`` of the spatial orbitals. :class:`SparseTightBinding` keeps exactly these and
computes ``H(k)``, ``S(k)`` and the bands from them, batched over k-points; it never forms
the dense ``[n_R, 2n, 2n]`` lists of :class:`~hts_z2.hamiltonian.tightbinding.TightBinding`
(which :meth:`SparseTightBinding.to_dense` still gives, for export and checks).

Only the half of the blocks that determines a Hermitian model is kept (:func:`fold_pairs`).
Memory is that of the blocks (float32 as the network writes them, widened exactly to
float64 in every sum) plus the k-points in flight; a 5-atom dzp cell needs ~2.3 MiB where
its dense model needs ~114 MiB. Real components make the model time-reversal symmetric and
its Bloch matrices Hermitian when ``(j, i, -R)`` holds the transposed blocks (checked).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable
from hts_z2.hamiltonian.bloch import (
    TRIM,
    check_overlap,
    is_tensor,
    orthogonalized_eigh,
    reduced_canonical_eigh,
    spin_expand,
)

HERMITICITY_TOL = 1e-8
CHUNK_BYTES = 8 * 2**20
"""Size of one k-batch of spinful matrices (complex128) that the k-space methods aim at:
a few such arrays are alive at a time, so memory stays bounded by the k-points in flight
and the batches stay near the processor's caches."""


def k_chunk(n_bands: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """k-points per batch so that one ``[chunk, n, n]`` complex128 array stays within
    ``chunk_bytes`` (at least 4)."""
    return max(4, int(chunk_bytes // (16 * n_bands * n_bands)))


@dataclass(frozen=True, eq=False)
class PairBlocks:
    """The blocks of one ordered atom pair over its lattice vectors.

    Attributes
    ----------
    i, j : atom indices (rows from atom ``i``, columns from atom ``j`` in cell ``R``).
    R : [E, 3] int lattice vectors, distinct.
    blocks : [E, c, n_i, n_j] real (c = 4: M, B_x, B_y, B_z; c = 1: S).
    """

    i: int
    j: int
    R: np.ndarray
    blocks: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.R.nbytes + self.blocks.nbytes)

    def mirrored(self, sign: np.ndarray) -> PairBlocks:
        """The partner ``(j, i, -R)`` with transposed blocks times ``sign`` [1, c, 1, 1]."""
        return PairBlocks(self.j, self.i, -self.R, sign * np.swapaxes(self.blocks, -1, -2))


def fold_pairs(pairs: tuple[PairBlocks, ...]) -> tuple[PairBlocks, ...]:
    """The half of a Hermitian block list that determines it: pairs ``i < j``, and of
    ``i = j`` the vectors ``R > 0`` (lexicographically) and ``R = 0`` at half weight, so
    that ``M(k) = A(k) + A(k)^H`` (signs of antisymmetric components included, see
    :meth:`SparseTightBinding.spin_blocks_k`). The pairs ``i > j`` are dropped: the
    Hermiticity check has shown them to be the partners' transposes."""
    out = []
    for p in pairs:
        if p.i < p.j:
            out.append(p)
        elif p.i == p.j:
            R = p.R
            positive = (R[:, 0] > 0) | ((R[:, 0] == 0) & (
                (R[:, 1] > 0) | ((R[:, 1] == 0) & (R[:, 2] > 0))))
            zero = ~np.any(R, axis=1)
            keep = positive | zero
            blocks = p.blocks[keep].copy()
            blocks[zero[keep]] *= 0.5  # exact in binary floating point
            out.append(PairBlocks(p.i, p.j, R[keep], blocks))
    return tuple(out)


HOPPING_SIGN = np.array([1.0, -1.0, -1.0, -1.0])[None, :, None, None]
"""Partner signs of (M, B_x, B_y, B_z) under ``(i, j, R) -> (j, i, -R)``: ``M`` is
transposed, the spin–orbit components change sign (``H`` Hermitian, ``i B`` anti-Hermitian)."""


def unfold_pairs(pairs: tuple[PairBlocks, ...]) -> list[PairBlocks]:
    """Inverse of :func:`fold_pairs`: the full Hermitian block list (every ordered pair,
    ``R = 0`` at full weight) from its folded half (4 components: :data:`HOPPING_SIGN`;
    1 component, an overlap: symmetric)."""
    out = []
    for p in pairs:
        sign = HOPPING_SIGN if p.blocks.shape[1] == 4 else np.ones((1, 1, 1, 1))
        if p.i < p.j:
            out += [p, p.mirrored(sign)]
            continue
        zero = ~np.any(p.R, axis=1)
        blocks = p.blocks.copy()
        blocks[zero] *= 2.0  # exact in binary floating point
        rest = PairBlocks(p.i, p.j, p.R[~zero], blocks[~zero]).mirrored(sign)
        out.append(PairBlocks(p.i, p.j, np.concatenate([p.R, rest.R]),
                              np.concatenate([blocks, rest.blocks])))
    return out


def group_pairs(
    i: np.ndarray, j: np.ndarray, R: np.ndarray, blocks: np.ndarray
) -> list[PairBlocks]:
    """Entries ``(i, j, R, block)`` grouped by atom pair.

    Parameters
    ----------
    i, j : [E] atoms; R : [E, 3] lattice vectors; blocks : [E, c, n_i, n_j] (one block
    shape per atom pair).
    """
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    order = np.lexsort((j, i))
    key = np.stack([i[order], j[order]], 1)
    cuts = np.flatnonzero(np.any(np.diff(key, axis=0) != 0, axis=1)) + 1
    out = []
    for part in np.split(order, cuts):
        if len(part):
            out.append(
                PairBlocks(int(i[part[0]]), int(j[part[0]]), np.asarray(R)[part].astype(np.int64),
                           np.ascontiguousarray(blocks[part]))
            )
    return out


def _phases(k: np.ndarray, R: np.ndarray) -> np.ndarray:
    """[2 n_k, E] stacked ``cos`` and ``sin`` of ``2 pi k.R`` (float64)."""
    theta = 2 * np.pi * (k @ R.T.astype(np.float64))
    return np.concatenate([np.cos(theta), np.sin(theta)])


def pair_bloch(k: np.ndarray, pair: PairBlocks) -> tuple[np.ndarray, np.ndarray]:
    """``sum_R blocks(R) exp(2 pi i k.R)`` of one pair as (real, imaginary) parts.

    Returns
    -------
    two [n_k, c, n_i, n_j] float64 arrays.
    """
    E, c, ni, nj = pair.blocks.shape
    flat = pair.blocks.reshape(E, -1).astype(np.float64)  # float32 widens exactly
    both = _phases(k, pair.R) @ flat
    n_k = len(k)
    return both[:n_k].reshape(n_k, c, ni, nj), both[n_k:].reshape(n_k, c, ni, nj)


def pair_bloch_torch(k, R, blocks):
    """:func:`pair_bloch` with torch tensors on one device: ``k`` [n_k, 3], ``R`` [E, 3]
    float64, ``blocks`` [E, c, n_i, n_j] float64 -> (real, imaginary) [n_k, c, n_i, n_j]."""
    import torch

    theta = 2 * torch.pi * (k @ R.T)
    E, c, ni, nj = blocks.shape
    both = torch.cat([torch.cos(theta), torch.sin(theta)]) @ blocks.reshape(E, -1)
    n_k = k.shape[0]
    return both[:n_k].reshape(n_k, c, ni, nj), both[n_k:].reshape(n_k, c, ni, nj)


@dataclass(frozen=True, eq=False)
class SparseTightBinding:
    """A spinful, time-reversal-symmetric tight-binding model kept as atom-pair blocks.

    Parameters
    ----------
    lattice : [3, 3] rows are the lattice vectors (Angstrom).
    starts : [n_atoms + 1] first spatial orbital of every atom (and the total).
    hoppings : :class:`PairBlocks` with 4 components (M, B_x, B_y, B_z), eV; each pair
        once; must hold the on-site pairs ``(a, a, R = 0)``.
    overlaps : :class:`PairBlocks` with 1 component, or None for an orthogonal basis.
    n_occ : occupied (spinful) bands, even, ``0 < n_occ < 2n``.
    orbitals, positions, numbers, overlap_cutoff : as in
        :class:`~hts_z2.hamiltonian.tightbinding.TightBinding`.

    The k-space interface (``hk``, ``sk``, ``overlap_k``, ``eigh``, ``n_bands``,
    ``time_reversal_error``) is that of ``TightBinding``; gap and Z2 code takes either.
    """

    lattice: np.ndarray
    starts: np.ndarray
    hoppings: tuple[PairBlocks, ...]
    overlaps: tuple[PairBlocks, ...] | None = None
    n_occ: int = 0
    orbitals: OrbitalTable | None = None
    positions: np.ndarray | None = None
    numbers: np.ndarray | None = None
    overlap_cutoff: float = 0.0
    spinful: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        from hts_z2.hamiltonian.tightbinding import TightBindingError

        lattice = np.asarray(self.lattice, dtype=float)
        if lattice.shape != (3, 3) or abs(np.linalg.det(lattice)) < 1e-8:
            raise TightBindingError("lattice must be a non-singular [3, 3] array")
        starts = np.asarray(self.starts, dtype=np.int64)
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "hoppings", tuple(self.hoppings))
        if self.overlaps is not None:
            object.__setattr__(self, "overlaps", tuple(self.overlaps))
        if self.positions is not None:
            object.__setattr__(self, "positions", np.asarray(self.positions, dtype=float))
            object.__setattr__(self, "numbers", np.asarray(self.numbers, dtype=int))
        for name, pairs, c in (("H", self.hoppings, 4), ("S", self.overlaps or (), 1)):
            seen = set()
            for p in pairs:
                shape = (c, starts[p.i + 1] - starts[p.i], starts[p.j + 1] - starts[p.j])
                if p.blocks.ndim != 4 or p.blocks.shape[1:] != shape or len(p.R) != len(p.blocks):
                    raise TightBindingError(
                        f"{name} blocks of atoms ({p.i}, {p.j}) have shape {p.blocks.shape}, "
                        f"expected [E, {', '.join(map(str, shape))}]"
                    )
                if np.iscomplexobj(p.blocks) or not np.all(np.isfinite(p.blocks)):
                    raise TightBindingError(f"{name} blocks must be real and finite")
                if (p.i, p.j) in seen:
                    raise TightBindingError(f"{name} holds atom pair ({p.i}, {p.j}) twice")
                seen.add((p.i, p.j))
        n = self.n_bands
        n_occ = int(self.n_occ)
        if n_occ != self.n_occ or not 0 < n_occ < n or n_occ % 2:
            raise TightBindingError(
                f"n_occ must be an even integer with 0 < n_occ < {n}, got {self.n_occ}"
            )
        object.__setattr__(self, "n_occ", n_occ)
        if self.orbitals is not None and len(self.orbitals) != n // 2:
            raise TightBindingError(
                f"orbital table has {len(self.orbitals)} orbitals, model has {n // 2}"
            )
        for name, pairs in (("H", self.hoppings), ("S", self.overlaps)):
            if pairs is None:
                continue
            err, size = hermiticity_error(pairs, name == "H")
            if err > HERMITICITY_TOL * max(1.0, size):
                raise TightBindingError(
                    f"{name} is not Hermitian: max |{name}(-R) - {name}(R)^H| = {err:.3e}"
                )
        object.__setattr__(self, "hoppings", fold_pairs(self.hoppings))
        if self.overlaps is not None:
            object.__setattr__(self, "overlaps", fold_pairs(self.overlaps))
            self._check_overlap()

    # --- sizes -------------------------------------------------------------------------
    @property
    def n_spatial(self) -> int:
        return int(self.starts[-1])

    @property
    def n_bands(self) -> int:
        """Matrix dimension (spinful bands)."""
        return 2 * self.n_spatial

    @property
    def nbytes(self) -> int:
        """Bytes of the stored blocks and lattice vectors."""
        return sum(p.nbytes for p in self.hoppings + (self.overlaps or ()))

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        return 2 * np.pi * np.linalg.inv(self.lattice).T

    # --- k-space -----------------------------------------------------------------------
    def release_device_copies(self) -> None:
        """Drop the torch copies :meth:`eigh` made on devices (GPU memory)."""
        self.__dict__.pop("_device_pairs", None)

    def _on_device(self, device: str):
        """(hopping, overlap) pairs as float64 torch tensors ``(i, j, R, blocks)`` on
        ``device``, copied once per device."""
        cache = self.__dict__.setdefault("_device_pairs", {})
        if device not in cache:
            import torch

            def move(pairs):
                return [
                    (p.i, p.j, torch.as_tensor(p.R, dtype=torch.float64, device=device),
                     torch.as_tensor(p.blocks, device=device).to(torch.float64))
                    for p in pairs
                ]  # fmt: skip

            cache[device] = (move(self.hoppings), move(self.overlaps or ()))
        return cache[device]

    def _pair_sums(self, k, which: int, device: str | None):
        """(pair, real, imaginary) Bloch sums of the hoppings (0) or overlaps (1)."""
        if device is None:
            for p in (self.hoppings, self.overlaps or ())[which]:
                yield (p.i, p.j), *pair_bloch(k, p)
            return
        import torch

        kt = torch.as_tensor(k, dtype=torch.float64, device=device)
        for i, j, R, blocks in self._on_device(device)[which]:
            yield (i, j), *pair_bloch_torch(kt, R, blocks)

    def _zeros(self, shape, device: str | None):
        if device is None:
            return np.zeros(shape, dtype=np.complex128)
        import torch

        return torch.zeros(shape, dtype=torch.complex128, device=device)

    def spin_blocks_k(self, k: np.ndarray, device: str | None = None):
        """The four spin blocks of ``H(k)``: [n_k, 2, 2, n, n] complex128 (contiguous);
        a torch tensor on ``device`` when one is given (Bloch sums computed there).

        The stored half ``A(k)`` (pairs ``i <= j``, see :func:`fold_pairs`) gives
        ``H(k) = A(k) + A(k)^H``: spin block ``(s, t)`` is ``A_st + A_ts^H``."""
        k = np.atleast_2d(np.asarray(k, dtype=float))
        n, st = self.n_spatial, self.starts
        out = self._zeros((len(k), 2, 2, n, n), device)
        for (i, j), re, im in self._pair_sums(k, 0, device):
            rows, cols = slice(st[i], st[i + 1]), slice(st[j], st[j + 1])
            # M + i Bz, M - i Bz, By + i Bx, i Bx - By with complex M(k), B_v(k)
            _put(out[:, 0, 0, rows, cols], re[:, 0] - im[:, 3], im[:, 0] + re[:, 3])
            _put(out[:, 1, 1, rows, cols], re[:, 0] + im[:, 3], im[:, 0] - re[:, 3])
            _put(out[:, 0, 1, rows, cols], re[:, 2] - im[:, 1], im[:, 2] + re[:, 1])
            _put(out[:, 1, 0, rows, cols], -im[:, 1] - re[:, 2], re[:, 1] - im[:, 2])
        if device is not None:
            return out + out.permute(0, 2, 1, 4, 3).conj()
        out += out.transpose(0, 2, 1, 4, 3).conj()
        return out

    def hk(self, k: np.ndarray) -> np.ndarray:
        """H(k) for k [n_k, 3] (reduced) -> [n_k, 2n, 2n] (orbital-major, spin inner)."""
        b = self.spin_blocks_k(k)
        n_k, n = b.shape[0], self.n_spatial
        return np.ascontiguousarray(b.transpose(0, 3, 1, 4, 2)).reshape(n_k, 2 * n, 2 * n)

    def spatial_sk(self, k: np.ndarray, device: str | None = None):
        """Spin-independent ``S_s(k)`` [n_k, n, n] (a torch tensor on ``device`` when one
        is given), or None for an orthogonal basis."""
        if self.overlaps is None:
            return None
        k = np.atleast_2d(np.asarray(k, dtype=float))
        n, st = self.n_spatial, self.starts
        out = self._zeros((len(k), n, n), device)
        for (i, j), re, im in self._pair_sums(k, 1, device):
            rows, cols = slice(st[i], st[i + 1]), slice(st[j], st[j + 1])
            _put(out[:, rows, cols], re[:, 0], im[:, 0])
        if device is not None:
            return out + out.transpose(1, 2).conj()
        out += out.transpose(0, 2, 1).conj()
        return out

    def overlap_k(self, k: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """``(S_s(k), True)``: the overlap is always spin-independent here."""
        return self.spatial_sk(k), True

    def sk(self, k: np.ndarray) -> np.ndarray | None:
        """Spinful S(k) [n_k, 2n, 2n], or None."""
        Ss = self.spatial_sk(k)
        return None if Ss is None else spin_expand(Ss)

    def eigh(
        self,
        k: np.ndarray,
        vectors: bool = False,
        orthogonalization: str = "cholesky",
        device: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Band energies [n_k, 2n] and orthonormalized states [n_k, 2n, 2n] (columns),
        as :meth:`TightBinding.eigh <hts_z2.hamiltonian.tightbinding.TightBinding.eigh>`.

        With an overlap cutoff the eigenproblem is solved in the kept overlap subspace
        (:func:`~hts_z2.hamiltonian.bloch.reduced_canonical_eigh`). ``device``: a torch
        device for the Bloch sums and the eigensolve (the blocks are copied there once);
        None for numpy. Results are numpy arrays.
        """
        k = np.atleast_2d(np.asarray(k, dtype=float))
        Sk = self.spatial_sk(k, device)
        blocks = self.spin_blocks_k(k, device)
        if Sk is not None and self.overlap_cutoff > 0:
            E, Y = reduced_canonical_eigh(blocks, Sk, self.overlap_cutoff, vectors)
        else:
            n_k, n = len(k), self.n_spatial
            perm = (0, 3, 1, 4, 2)
            Hk = (blocks.permute(*perm) if device is not None else blocks.transpose(perm))
            Hk = Hk.reshape(n_k, 2 * n, 2 * n)
            E, Y, _ = orthogonalized_eigh(Hk, Sk, k, orthogonalization, vectors, 0.0, True)
        if is_tensor(E):
            return E.cpu().numpy(), None if Y is None else Y.cpu().numpy()
        return E, Y

    # --- symmetry ----------------------------------------------------------------------
    def time_reversal_error(self) -> float:
        """0: real ``M`` and ``B_v`` blocks cannot express a time-reversal-odd term (the
        construction satisfies ``Theta H(k) Theta^-1 = H(-k)`` exactly; the blocks were
        checked real and finite)."""
        return 0.0

    def _check_overlap(self) -> None:
        """S(k) at the eight TRIM, as ``TightBinding`` checks it."""
        check_overlap(self.spatial_sk(TRIM), TRIM, self.overlap_cutoff, self.n_occ, True)

    # --- conversions -------------------------------------------------------------------
    def within_radius(self, r_cut: float) -> SparseTightBinding:
        """The model restricted to atom pairs at most ``r_cut`` (Å) apart (on-site blocks
        always kept): what a network predicting pairs within that radius can represent.
        Needs ``positions``."""
        if self.positions is None:
            raise ValueError("within_radius needs the atomic positions")

        def keep(pairs: tuple[PairBlocks, ...]) -> list[PairBlocks]:
            out = []
            for p in pairs:
                bond = (self.positions[p.j] + p.R - self.positions[p.i]) @ self.lattice
                near = np.linalg.norm(bond, axis=1) <= r_cut
                if near.any():
                    out.append(PairBlocks(p.i, p.j, p.R[near], p.blocks[near]))
            return out

        overlaps = None if self.overlaps is None else unfold_pairs(keep(self.overlaps))
        return SparseTightBinding(
            self.lattice, self.starts, unfold_pairs(keep(self.hoppings)), overlaps,
            n_occ=self.n_occ, orbitals=self.orbitals, positions=self.positions,
            numbers=self.numbers, overlap_cutoff=self.overlap_cutoff,
        )

    def to_dense(self):
        """The same model as a dense :class:`~hts_z2.hamiltonian.tightbinding.TightBinding`
        (``[n_R, 2n, 2n]`` lists; for export and cross-checks)."""
        from hts_z2.hamiltonian.soc import spin_pair_blocks
        from hts_z2.hamiltonian.tightbinding import TightBinding

        pairs = self.hoppings + (self.overlaps or ())
        R = np.vstack([np.zeros((1, 3), np.int64)] + [p.R for p in pairs])
        R = np.unique(np.vstack([R, -R]), axis=0)
        index = {tuple(r): n for n, r in enumerate(R.tolist())}
        n, st = self.n_spatial, self.starts
        H = np.zeros((len(R), n, 2, n, 2), dtype=np.complex128)
        S = None if self.overlaps is None else np.zeros_like(H)

        def scatter(pairs, sign, write) -> None:
            """Each stored pair and its Hermitian partner (j, i, -R), block by block."""
            for p in pairs:
                for x in (p, p.mirrored(sign)):
                    r = np.array([index[tuple(v)] for v in x.R.tolist()])[:, None, None]
                    rows = np.arange(st[x.i], st[x.i + 1])[None, :, None]
                    cols = np.arange(st[x.j], st[x.j + 1])[None, None, :]
                    write(r, rows, cols, x.blocks.astype(np.float64))

        def add_h(r, rows, cols, b) -> None:
            for (s, t), blk in spin_pair_blocks(b[:, 0], b[:, 1], b[:, 2], b[:, 3]).items():
                H[r, rows, s, cols, t] += blk

        def add_s(r, rows, cols, b) -> None:
            for s in (0, 1):
                S[r, rows, s, cols, s] += b[:, 0]

        scatter(self.hoppings, np.array([1.0, -1.0, -1.0, -1.0])[None, :, None, None], add_h)
        scatter(self.overlaps or (), np.ones((1, 1, 1, 1)), add_s)
        return TightBinding(
            self.lattice,
            R,
            H.reshape(len(R), 2 * n, 2 * n),
            None if S is None else S.reshape(len(R), 2 * n, 2 * n),
            n_occ=self.n_occ,
            orbitals=self.orbitals,
            positions=self.positions,
            numbers=self.numbers,
            overlap_cutoff=self.overlap_cutoff,
        )

    @classmethod
    def from_dense(cls, tb, tol: float = 1e-10) -> SparseTightBinding:
        """The block form of a dense spinful model whose ``H(R) = M (x) I2 + i B.sigma``
        with real ``M``, ``B`` (time-reversal symmetric) and ``S(R) = S_s (x) I2``.

        Atoms come from ``tb.orbitals`` (one block for the whole cell without a table).

        Raises
        ------
        ValueError if the model is spinless, breaks time reversal by more than ``tol``,
        or has a spin-dependent overlap.
        """
        if not tb.spinful:
            raise ValueError("a block-sparse model is spinful")
        n = tb.n_bands // 2
        blocks = tb.H.reshape(len(tb.R), n, 2, n, 2)
        uu, dd, ud, du = (blocks[:, :, s, :, t] for s, t in ((0, 0), (1, 1), (0, 1), (1, 0)))
        comps = np.stack([(uu + dd) / 2, (ud + du) / 2j, (ud - du) / 2, (uu - dd) / 2j], 1)
        err = float(np.max(np.abs(comps.imag), initial=0.0))
        if err > tol:
            raise ValueError(f"model breaks time reversal (imaginary component {err:.2e})")
        if tb.S is not None and tb.spatial_overlap is None:
            raise ValueError("the overlap is not spin-independent (S(R) = S_s(R) (x) I2)")
        atom = (
            np.asarray(tb.orbitals.atom) if tb.orbitals is not None else np.zeros(n, np.int64)
        )
        if np.any(np.diff(atom) < 0):
            raise ValueError("orbitals are not grouped by atom")
        starts = np.concatenate([[0], np.cumsum(np.bincount(atom))])

        def split(M: np.ndarray) -> list[PairBlocks]:
            """[n_R, c, n, n] -> the nonzero blocks of every atom pair (on-site always)."""
            out = []
            for a in range(len(starts) - 1):
                for b in range(len(starts) - 1):
                    sub = M[:, :, starts[a] : starts[a + 1], starts[b] : starts[b + 1]]
                    nz = np.flatnonzero(np.abs(sub).reshape(len(sub), -1).max(1, initial=0) > 0)
                    if a == b:
                        nz = np.union1d(nz, [tb.onsite_index()])
                    if len(nz):
                        out.append(PairBlocks(a, b, tb.R[nz], sub[nz]))
            return out

        overlaps = None
        if tb.S is not None:
            overlaps = split(np.ascontiguousarray(tb.spatial_overlap.real)[:, None])
        return cls(
            tb.lattice,
            starts,
            split(np.ascontiguousarray(comps.real)),
            overlaps,
            n_occ=tb.n_occ,
            orbitals=tb.orbitals,
            positions=tb.positions,
            numbers=tb.numbers,
            overlap_cutoff=tb.overlap_cutoff,
        )


def _put(view, real, imag) -> None:
    """Write ``real + i imag`` into a complex view (numpy array or torch tensor)."""
    if is_tensor(view):
        view.real.copy_(real)
        view.imag.copy_(imag)
    else:
        view.real = real
        view.imag = imag


def _r_keys(R: np.ndarray) -> np.ndarray:
    """One integer per lattice vector [E, 3] -> [E] (components within +-2^20)."""
    R = np.asarray(R, dtype=np.int64) + 2**20
    return (R[:, 0] << 42) | (R[:, 1] << 21) | R[:, 2]


def hermiticity_error(pairs: tuple[PairBlocks, ...], soc: bool) -> tuple[float, float]:
    """``(max |M(j, i, -R) - M(i, j, R)^T|, max |M|)`` over all blocks: components 0
    (M, S) symmetric, 1-3 (B_v, when ``soc``) antisymmetric under the exchange; the
    partner of a missing block is zero."""
    by = {(p.i, p.j): p for p in pairs}
    sign = np.array([1.0, -1.0, -1.0, -1.0] if soc else [1.0])[:, None, None]
    err, size = 0.0, 0.0
    for (i, j), p in by.items():
        b = p.blocks.astype(np.float64)
        size = max(size, float(np.abs(b).max(initial=0.0)))
        partner = np.zeros_like(b)
        q = by.get((j, i))
        if q is not None and len(q.R):  # match -R of p among the vectors of q
            keys = _r_keys(q.R)
            order = np.argsort(keys)
            want = _r_keys(-p.R)
            at = np.minimum(np.searchsorted(keys[order], want), len(keys) - 1)
            found = keys[order][at] == want
            f = order[at[found]]
            partner[found] = sign * np.swapaxes(q.blocks[f].astype(np.float64), -1, -2)
        err = max(err, float(np.abs(b - partner).max(initial=0.0)))
    return err, size
