"""Dense real-space matrices -> edge blocks of a :class:`ReferenceSample`, with pruning."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError
from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.reference.sample import (
    QUANTA,
    ReferenceSample,
    SampleError,
    dequantize,
    quantize,
)
from hts_z2.reference.soc_fit import fit_xi


@dataclass(frozen=True)
class PruneSettings:
    """Which atom-pair blocks a sample keeps.

    Attributes
    ----------
    h_tol : keep a block if any |H0| or |soc| element exceeds this (eV).
    s_tol : ... or any |S| element exceeds this.
    cutoff : and the pair distance is at most this (Angstrom); None = no distance limit.
    """

    h_tol: float = 1e-5
    s_tol: float = 1e-9
    cutoff: float | None = None


def atom_block_max(M: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Largest |element| of every atom-pair block: [..., n, n] -> [..., n_atoms, n_atoms]."""
    a = np.maximum.reduceat(np.abs(M), starts, axis=-2)
    return np.maximum.reduceat(a, starts, axis=-1)


def pair_distances(lattice: np.ndarray, positions: np.ndarray, R: np.ndarray) -> np.ndarray:
    """|r_j + R - r_i| for all (R, i, j): [n_R, n_atoms, n_atoms] (Angstrom)."""
    cart = positions @ lattice
    shift = R @ lattice
    d = cart[None, None, :, :] + shift[:, None, None, :] - cart[None, :, None, :]
    return np.linalg.norm(d, axis=-1)


def to_edges(
    lattice: np.ndarray,
    positions: np.ndarray,
    shells,
    R: np.ndarray,
    H0: np.ndarray,
    S: np.ndarray,
    B: np.ndarray,
    prune: PruneSettings,
    quanta: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kept atom-pair blocks as flat arrays.

    Parameters
    ----------
    R : [n_R, 3]; H0, S : [n_R, n, n]; B : [n_R, 3, n, n] (SOC components).

    Returns
    -------
    edge_index [n_e, 5] int32 (i, j, R), offset [n_e + 1], h0 [n_val], s [n_val],
    soc [3, n_val], rounded to the storage quanta (``sample.QUANTA``) so that what is kept
    in memory is exactly what a file holds. The kept set is closed under
    (i, j, R) -> (j, i, -R).
    """
    nat = np.array([sum(2 * l + 1 for l in sh) for sh in shells])
    starts = np.concatenate([[0], np.cumsum(nat)])
    big = (
        (atom_block_max(H0, starts[:-1]) > prune.h_tol)
        | (atom_block_max(S, starts[:-1]) > prune.s_tol)
        | (atom_block_max(B, starts[:-1]).max(axis=1) > prune.h_tol)
    )
    onsite = np.all(R == 0, axis=1)
    big[onsite] |= np.eye(len(nat), dtype=bool)
    if prune.cutoff is not None:
        big &= pair_distances(lattice, positions, R) <= prune.cutoff
    r_idx, i_idx, j_idx = np.nonzero(big)
    edge_index = np.column_stack([i_idx, j_idx, R[r_idx]]).astype(np.int32)
    sizes = nat[i_idx] * nat[j_idx]
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    h0 = np.empty(offset[-1])
    s = np.empty(offset[-1])
    soc = np.empty((3, offset[-1]))
    for e, (r, i, j) in enumerate(zip(r_idx, i_idx, j_idx, strict=True)):
        rows = slice(starts[i], starts[i + 1])
        cols = slice(starts[j], starts[j + 1])
        a, b = offset[e], offset[e + 1]
        h0[a:b] = H0[r, rows, cols].ravel()
        s[a:b] = S[r, rows, cols].ravel()
        soc[:, a:b] = B[r, :, rows, cols].reshape(3, -1)
    rounded = [
        dequantize(quantize(x, name, quanta), name, quanta)
        for x, name in ((h0, "h0"), (s, "s"), (soc, "soc"))
    ]
    return edge_index, offset, *rounded


def xi_on_edges(
    edge_index: np.ndarray, R: np.ndarray, B: np.ndarray, shells
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fitted ``xi`` for every kept edge and equal-``l`` shell pair.

    Returns
    -------
    value [n_xi] float32, index [n_xi, 3] int32 (edge, local shell_i, local shell_j),
    relative residual of the fit over all blocks.
    """
    orbitals = orbital_table(shells)
    fit = fit_xi(B, orbitals)
    shell_atom = orbitals.shell_atom
    first = np.searchsorted(shell_atom, np.arange(len(shells)))
    lookup = {tuple(r): k for k, r in enumerate(R.tolist())}
    values, index = [], []
    for e, (i, j, *r) in enumerate(edge_index.tolist()):
        si = np.flatnonzero(shell_atom == i)
        sj = np.flatnonzero(shell_atom == j)
        block = fit.xi[lookup[tuple(r)]][np.ix_(si, sj)]
        a, b = np.nonzero(block)
        values.append(block[a, b])
        index.append(np.column_stack([np.full(len(a), e), si[a] - first[i], sj[b] - first[j]]))
    value = np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32)
    idx = np.concatenate(index).astype(np.int32) if index else np.zeros((0, 3), np.int32)
    return value, idx, fit.residual


def band_kpoints(sample_id: str, n_random: int = 9) -> np.ndarray:
    """Gamma plus ``n_random`` k-points seeded by the sample id: [n_random + 1, 3]."""
    seed = int.from_bytes(sample_id.encode()[:8].ljust(8, b"\0"), "little")
    rng = np.random.default_rng(seed)
    return np.concatenate([np.zeros((1, 3)), rng.random((n_random, 3))])


MAX_STORED_BAND_ERROR = 2e-3
"""Largest change (eV) of the bands near the gap that storage (pruning + quanta) may cause."""
MID_QUANTA = {"h0": 1e-6, "s": 1e-9, "soc": 1e-7}
FINE_QUANTA = {"h0": 1e-7, "s": 1e-10, "soc": 1e-8}
"""Quanta for bases so nearly linearly dependent that the default ones move the bands."""


def _storage_error(
    sample: ReferenceSample, k: np.ndarray, e_full: np.ndarray, window: slice, n_occ: int
) -> float:
    """Largest band change near the gap of the stored model vs the full one (eV)."""
    R, H0, S, B = sample.dense_blocks()
    stored = TightBinding(
        sample.lattice,
        R,
        spinful_blocks(H0, B),
        spinful_blocks(S),
        n_occ=n_occ,
    )
    try:
        e = stored.eigh(k)[0]
    except OverlapNotPositiveDefiniteError:
        return float("inf")
    return float(np.abs(e[:, window] - e_full[:, window]).max())


def make_sample(
    sample_id: str,
    lattice: np.ndarray,
    positions: np.ndarray,
    numbers: np.ndarray,
    shells,
    R: np.ndarray,
    H0: np.ndarray,
    S: np.ndarray,
    B: np.ndarray,
    n_electrons: int,
    prune: PruneSettings | None = None,
    meta: dict | None = None,
) -> ReferenceSample:
    """Assemble a sample from dense real-space matrices (the full, unpruned model).

    Band energies at :func:`band_kpoints` come from the full model. Storage is tried from
    the most compact to the most faithful — ``prune`` with the default quanta, with
    :data:`MID_QUANTA`, with :data:`FINE_QUANTA`, then unpruned with :data:`FINE_QUANTA` —
    until the bands within 10 of the gap move by at most :data:`MAX_STORED_BAND_ERROR`;
    ``meta["pruning"]`` records the level and the error.

    Raises
    ------
    SampleError when even the most faithful storage moves the bands more than that.
    """
    prune = prune or PruneSettings()
    k = band_kpoints(sample_id)
    n = H0.shape[1]
    n_eval = max(2, min(2 * n - 2, n_electrons - n_electrons % 2))
    full = TightBinding(
        lattice,
        R,
        spinful_blocks(H0, B),
        spinful_blocks(S),
        n_occ=n_eval,
    )
    spinless = TightBinding(
        lattice,
        R,
        H0.astype(complex),
        S.astype(complex),
        n_occ=max(1, min(n - 1, n_electrons // 2)),
        spinful=False,
    )
    e_full = full.eigh(k)[0]
    window = slice(max(0, n_electrons - 10), min(2 * n, n_electrons + 10))
    unpruned = PruneSettings(0.0, 0.0, None)
    levels = (
        (prune, QUANTA),
        (prune, MID_QUANTA),
        (prune, FINE_QUANTA),
        (unpruned, FINE_QUANTA),
    )
    errors = []
    for pr, quanta in levels:
        edge_index, offset, h0, s, soc = to_edges(
            lattice, positions, shells, R, H0, S, B, pr, quanta
        )
        sample = ReferenceSample(
            sample_id=sample_id,
            lattice=np.asarray(lattice, float),
            positions=np.asarray(positions, float),
            numbers=np.asarray(numbers, np.int32),
            shells=tuple(tuple(int(l) for l in sh) for sh in shells),
            edge_index=edge_index,
            offset=offset,
            h0=h0,
            s=s,
            soc=soc,
            xi_value=np.zeros(0, np.float32),
            xi_index=np.zeros((0, 3), np.int32),
            band_k=k,
            band_energies=e_full.astype(np.float32),
            band_energies_spinless=spinless.eigh(k)[0].astype(np.float32),
            n_electrons=int(n_electrons),
            meta={"quanta": dict(quanta)},
        )
        errors.append(_storage_error(sample, k, e_full, window, n_eval))
        if errors[-1] <= MAX_STORED_BAND_ERROR:
            break
    else:
        raise SampleError(
            f"{sample_id}: stored blocks move the bands near the gap by "
            f"{min(errors) * 1e3:.1f} meV even unpruned (nearly linearly dependent basis)"
        )
    xi_value, xi_index, residual = xi_on_edges(edge_index, R, B, shells)
    info = dict(meta or {})
    info["quanta"] = dict(quanta)
    info["pruning"] = {
        "h_tol": pr.h_tol,
        "s_tol": pr.s_tol,
        "cutoff": pr.cutoff,
        "storage_level": len(errors) - 1,
        "n_edges": len(edge_index),
        "n_R_full": len(R),
        "max_band_error_eV": errors[-1],
    }
    info["xi_fit_residual"] = residual
    return ReferenceSample(
        **{**sample.__dict__, "xi_value": xi_value, "xi_index": xi_index, "meta": info}
    )


def components_from_spinful(H: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Split a TR-symmetric spinful ``H = H0 (x) 1 + i sum_v B_v (x) sigma_v``.

    Parameters
    ----------
    H : [n_R, 2n, 2n] (orbital-major, spin-inner).

    Returns
    -------
    H0 [n_R, n, n] real, B [n_R, 3, n, n] real, and the largest imaginary part that had to
    be dropped (zero for an exactly TR-symmetric H in a real-orbital basis).
    """
    n_R, n2, _ = H.shape
    blocks = H.reshape(n_R, n2 // 2, 2, n2 // 2, 2)
    uu, ud = blocks[:, :, 0, :, 0], blocks[:, :, 0, :, 1]
    du, dd = blocks[:, :, 1, :, 0], blocks[:, :, 1, :, 1]
    parts = [(uu + dd) / 2, (ud + du) / 2j, (ud - du) / 2, (uu - dd) / 2j]
    dropped = max(float(np.abs(p.imag).max(initial=0.0)) for p in parts)
    H0 = parts[0].real
    B = np.stack([p.real for p in parts[1:]], axis=1)
    return H0, B, dropped


def shells_from_table(orbitals) -> tuple[tuple[int, ...], ...]:
    """Per-atom shell angular momenta from an :class:`OrbitalTable`."""
    l_of_shell = orbitals.shell_l
    atom_of_shell = orbitals.shell_atom
    n_atoms = int(orbitals.atom.max()) + 1
    return tuple(tuple(int(l) for l in l_of_shell[atom_of_shell == a]) for a in range(n_atoms))


def sample_from_tight_binding(
    tb,
    sample_id: str,
    prune: PruneSettings | None = None,
    meta: dict | None = None,
    tr_tol: float = 1e-6,
) -> ReferenceSample:
    """Turn a spinful model with orbital, position and species metadata (e.g. read from a
    DeepH directory) into a training sample; ``n_electrons = tb.n_occ``.

    Raises
    ------
    ValueError when metadata is missing or H is not time-reversal symmetric.
    """
    if not tb.spinful or tb.orbitals is None or tb.positions is None or tb.numbers is None:
        raise ValueError(
            f"{sample_id}: a training sample needs a spinful model with orbital, position "
            "and species metadata"
        )
    H0, B, dropped = components_from_spinful(tb.H)
    if dropped > tr_tol:
        raise ValueError(f"{sample_id}: H is not time-reversal symmetric ({dropped:.2e} eV)")
    S = np.zeros_like(H0) if tb.S is None else tb.S[:, ::2, ::2].real
    if tb.S is None:
        S[tb.onsite_index()] = np.eye(H0.shape[1])
    return make_sample(
        sample_id,
        tb.lattice,
        tb.positions,
        tb.numbers,
        shells_from_table(tb.orbitals),
        tb.R,
        H0,
        S,
        B,
        tb.n_occ,
        prune,
        meta,
    )
