"""Bloch sums and the (generalized) Hermitian eigenproblem, batched over k-points.

Convention I (see docs/design.md): ``M(k) = sum_R M(R) exp(2 pi i k.R)`` with ``k`` in reduced
coordinates and no orbital positions in the phase, so ``M(k)`` is periodic in ``k``.
Every function accepts numpy arrays or torch tensors and returns the same kind; torch
tensors stay on their device (CPU or CUDA).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

Array = Any
"""A numpy array or a torch tensor (torch is imported only by callers that use it)."""


def is_tensor(x: object) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch (none exists before)."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(x, torch_module.Tensor)


class OverlapNotPositiveDefiniteError(ValueError):
    """S(k) has a non-positive eigenvalue at some k-point."""


def bloch_sum(R: Array, M: Array, k: Array) -> Array:
    """Fourier sum of real-space blocks.

    Parameters
    ----------
    R : [n_R, 3] int lattice vectors (reduced).
    M : [n_R, n, n] real-space matrices.
    k : [n_k, 3] k-points (reduced).

    Returns
    -------
    [n_k, n, n] complex ``sum_R M(R) exp(2 pi i k.R)``.
    """
    if is_tensor(M):
        import torch
        Rt = torch.as_tensor(R, dtype=torch.float64, device=M.device)
        kt = torch.as_tensor(k, dtype=torch.float64, device=M.device)
        phase = torch.exp(2j * torch.pi * (kt @ Rt.T).to(torch.complex128))
        flat = M.to(torch.complex128).reshape(M.shape[0], -1)
        return (phase @ flat).reshape(kt.shape[0], *M.shape[1:])
    k = np.atleast_2d(np.asarray(k, dtype=float))
    phase = np.exp(2j * np.pi * (k @ np.asarray(R, dtype=float).T))
    flat = np.asarray(M).reshape(M.shape[0], -1)
    return (phase @ flat).reshape(k.shape[0], *M.shape[1:])


def _first_bad_overlap(Sk: Array, k: Array | None) -> str:
    """Describe the first k-point at which S(k) is not positive-definite."""
    S = Sk.detach().cpu().numpy() if is_tensor(Sk) else np.asarray(Sk)
    w = np.linalg.eigvalsh(S)[:, 0]
    i = int(np.argmin(w))
    where = f"k = {np.round(np.asarray(k)[i], 6).tolist()}" if k is not None else f"k-index {i}"
    return f"overlap S(k) is not positive-definite at {where} (lowest eigenvalue {w[i]:.3e})"


def cholesky(Sk: Array, k: Array | None = None) -> Array:
    """Lower Cholesky factor ``L`` with ``S = L L^H`` for a batch ``[n_k, n, n]``.

    Raises
    ------
    OverlapNotPositiveDefiniteError naming the first offending k-point.
    """
    if is_tensor(Sk):
        import torch
        L, info = torch.linalg.cholesky_ex(Sk)
        if bool((info != 0).any()):
            raise OverlapNotPositiveDefiniteError(_first_bad_overlap(Sk, k))
        return L
    try:
        return np.linalg.cholesky(Sk)
    except np.linalg.LinAlgError:
        raise OverlapNotPositiveDefiniteError(_first_bad_overlap(Sk, k)) from None


def lowdin(Sk: Array, k: Array | None = None) -> Array:
    """Hermitian square root ``S^(1/2)`` of a batch ``[n_k, n, n]`` of overlaps."""
    if is_tensor(Sk):
        import torch
        w, V = torch.linalg.eigh(Sk)
        if bool((w[:, 0] <= 0).any()):
            raise OverlapNotPositiveDefiniteError(_first_bad_overlap(Sk, k))
        return (V * w.sqrt().unsqueeze(-2).to(V.dtype)) @ V.mH
    w, V = np.linalg.eigh(Sk)
    if np.any(w[:, 0] <= 0):
        raise OverlapNotPositiveDefiniteError(_first_bad_overlap(Sk, k))
    return (V * np.sqrt(w)[:, None, :]) @ np.swapaxes(V.conj(), -1, -2)


PROJECTED_OUT_ENERGY = 1.0e4
"""Energy (eV) given to the overlap directions that canonical orthogonalization drops: far
above every physical band, so they never enter an occupied manifold or a gap."""


def canonical_transform(Sk: Array, cutoff: float) -> tuple[Array, Array]:
    """Pseudo-inverse square root of ``S`` on the directions with eigenvalue > ``cutoff``.

    Canonical orthogonalization for a nearly linearly dependent basis: with
    ``S = V diag(w) V^H``, ``G = V_+ diag(w_+^-1/2) V_+^H`` keeps only ``w > cutoff``.
    ``G H G`` is the Hamiltonian in the Loewdin frame restricted to the kept subspace;
    errors of ``H`` along the dropped (nearly null) directions, which ``S^-1`` would amplify
    by ``1/w``, do not reach the bands. ``G`` commutes with time reversal because ``S`` does.

    Parameters
    ----------
    Sk : [n_k, n, n] Hermitian overlaps (may be indefinite: negative directions are dropped).
    cutoff : smallest eigenvalue kept (> 0).

    Returns
    -------
    G : [n_k, n, n] the pseudo-inverse root; P : [n_k, n, n] the projector onto the dropped
    directions.
    """
    if is_tensor(Sk):
        import torch
        w, V = torch.linalg.eigh(Sk)
        keep = w > cutoff
        inv_root = torch.where(keep, w.clamp(min=cutoff).rsqrt(), torch.zeros_like(w))
        drop = (~keep).to(V.dtype)
        G = (V * inv_root.unsqueeze(-2).to(V.dtype)) @ V.mH
        return G, (V * drop.unsqueeze(-2)) @ V.mH
    w, V = np.linalg.eigh(Sk)
    keep = w > cutoff
    inv_root = np.where(keep, 1.0 / np.sqrt(np.maximum(w, cutoff)), 0.0)
    Vh = np.swapaxes(V.conj(), -1, -2)
    return (V * inv_root[:, None, :]) @ Vh, (V * (~keep)[:, None, :]) @ Vh


TRIM = np.array(np.meshgrid(*[[0.0, 0.5]] * 3, indexing="ij")).reshape(3, -1).T
"""[8, 3] the time-reversal-invariant momenta (reduced)."""


def check_overlap(Sk: np.ndarray, k: np.ndarray, cutoff: float, n_occ: int, spatial: bool):
    """Raise unless the overlaps ``Sk`` [n_k, m, m] at ``k`` can be solved: positive-definite
    for ``cutoff = 0``; otherwise no eigenvalue below ``-cutoff`` and more kept directions
    than ``n_occ`` occupied bands (``spatial``: ``Sk`` is ``S_s`` of ``S = S_s (x) I2``).

    Raises
    ------
    OverlapNotPositiveDefiniteError naming the k-point or the count.
    """
    if cutoff <= 0:
        cholesky(Sk, k)
        return
    w = np.linalg.eigvalsh(Sk)
    if spatial:  # S = S_s (x) I2 has every eigenvalue of S_s twice
        w = np.repeat(w, 2, axis=1)
    i = int(np.argmin(w[:, 0]))
    if w[i, 0] < -cutoff:
        raise OverlapNotPositiveDefiniteError(
            f"overlap S(k) has eigenvalue {w[i, 0]:.3e} at k = {k[i].tolist()}, below "
            f"-{cutoff:g}: not a small indefiniteness the cutoff may drop"
        )
    kept = int((w > cutoff).sum(axis=1).min())
    if kept <= n_occ:
        raise OverlapNotPositiveDefiniteError(
            f"only {kept} overlap directions above the cutoff {cutoff:g} "
            f"for {n_occ} occupied bands"
        )


def spin_expand(M: Array) -> Array:
    """``M (x) I2`` for a batch: [..., m, m] -> [..., 2m, 2m] (orbital-major, spin inner)."""
    *lead, m, _ = M.shape
    if is_tensor(M):
        out = M.new_zeros((*lead, m, 2, m, 2))
    else:
        out = np.zeros((*lead, m, 2, m, 2), dtype=M.dtype)
    out[..., :, 0, :, 0] = M
    out[..., :, 1, :, 1] = M
    return out.reshape(*lead, 2 * m, 2 * m)


def spin_congruence(Hk: Array, G: Array, D: Array) -> Array:
    """``(G (x) I2) H (G (x) I2) + D (x) I2`` without forming the spinful factors.

    Parameters
    ----------
    Hk : [n_k, 2m, 2m] (orbital-major, spin inner); G, D : [n_k, m, m].

    Returns
    -------
    [n_k, 2m, 2m]: each of the four spin blocks ``H_st`` becomes ``G H_st G (+ D if s = t)``,
    half the multiplications of the dense product.
    """
    n_k, n, _ = Hk.shape
    m = n // 2
    if is_tensor(Hk):
        blocks = Hk.reshape(n_k, m, 2, m, 2).permute(0, 2, 4, 1, 3)
    else:
        blocks = Hk.reshape(n_k, m, 2, m, 2).transpose(0, 2, 4, 1, 3)
    G4 = G[:, None, None]
    out = G4 @ blocks @ G4  # [n_k, 2, 2, m, m]
    out[:, 0, 0] += D
    out[:, 1, 1] += D
    if is_tensor(out):
        return out.permute(0, 3, 1, 4, 2).reshape(n_k, n, n)
    return out.transpose(0, 3, 1, 4, 2).reshape(n_k, n, n)


def spin_blocks(Hk: Array) -> Array:
    """The four spin blocks of spinful matrices: [n_k, 2m, 2m] -> [n_k, 2, 2, m, m] (a view
    where possible; orbital-major, spin-inner input)."""
    n_k, n, _ = Hk.shape
    m = n // 2
    if is_tensor(Hk):
        return Hk.reshape(n_k, m, 2, m, 2).permute(0, 2, 4, 1, 3)
    return Hk.reshape(n_k, m, 2, m, 2).transpose(0, 2, 4, 1, 3)


def _eigh(A: Array, vectors: bool) -> tuple[Array, Array | None]:
    if is_tensor(A):
        import torch
        if vectors:
            return torch.linalg.eigh(A)
        return torch.linalg.eigvalsh(A), None
    if vectors:
        return np.linalg.eigh(A)
    return np.linalg.eigvalsh(A), None


def _spin_congruence_reduced(blocks: Array, X: Array) -> Array:
    """``(X (x) I2)^H H (X (x) I2)`` from spin blocks, as two contiguous batched GEMMs.

    Parameters
    ----------
    blocks : [b, 2, 2, m, m] spin blocks; X : [b, m, r].

    Returns
    -------
    [b, 2r, 2r] (orbital-major, spin inner).
    """
    b, m, r = X.shape
    if is_tensor(X):
        right = blocks.reshape(b, 4 * m, m) @ X  # rows (s, t, mu)
        left = right.reshape(b, 4, m, r).permute(0, 2, 1, 3).reshape(b, m, 4 * r)
        out = (X.mH @ left).reshape(b, r, 2, 2, r).permute(0, 1, 2, 4, 3)
        return out.reshape(b, 2 * r, 2 * r)
    right = np.ascontiguousarray(blocks).reshape(b, 4 * m, m) @ X
    left = right.reshape(b, 4, m, r).transpose(0, 2, 1, 3).reshape(b, m, 4 * r)
    out = (np.swapaxes(X.conj(), -1, -2) @ left).reshape(b, r, 2, 2, r).transpose(0, 1, 2, 4, 3)
    return out.reshape(b, 2 * r, 2 * r)


def reduced_canonical_eigh(
    blocks: Array, Sk: Array, cutoff: float, vectors: bool = False
) -> tuple[Array, Array | None]:
    """Spinful bands in the kept overlap subspace, at the size of that subspace.

    With ``S_s(k) = V diag(w) V^H`` and ``X = V_+ diag(w_+^-1/2)`` (the ``m_k`` directions
    with ``w > cutoff``), the bands are the eigenvalues of ``(X (x) I2)^H H (X (x) I2)``,
    a ``2 m_k`` matrix: the same spectrum and states as the ``2m`` matrix
    ``G H G + PROJECTED_OUT_ENERGY P`` of :func:`canonical_transform` (``G = X V_+^H``)
    without its dropped directions, so the eigensolve costs ``(m_k/m)^3`` of it.
    k-points with equally many kept directions are solved as one batch.

    Parameters
    ----------
    blocks : [n_k, 2, 2, m, m] spin blocks ``H_st(k)`` (see :func:`spin_blocks`).
    Sk : [n_k, m, m] spin-independent overlap.
    cutoff : smallest overlap eigenvalue kept (> 0).
    vectors : also return the states.

    Returns
    -------
    E : [n_k, 2m] ascending, the dropped directions at :data:`PROJECTED_OUT_ENERGY`.
    Y : [n_k, 2m, 2m] orthonormal states in the Loewdin frame (``S^(1/2) c`` on the kept
        subspace, as :func:`orthogonalized_eigh` returns them): ``(V_+ (x) I2) z`` for the
        kept bands, then ``V_- (x) I2`` (the dropped directions); or None.
    """
    torch_mode = is_tensor(blocks)
    n_k, m = Sk.shape[0], Sk.shape[-1]
    w, V = _eigh(Sk, True)
    counts = (w > cutoff).sum(-1)
    if torch_mode:
        import torch
        E = torch.full((n_k, 2 * m), PROJECTED_OUT_ENERGY, dtype=torch.float64,
                       device=blocks.device)
        Y = (
            torch.zeros((n_k, 2 * m, 2 * m), dtype=blocks.dtype, device=blocks.device)
            if vectors
            else None
        )
        groups = [int(c) for c in torch.unique(counts).tolist()]
    else:
        E = np.full((n_k, 2 * m), PROJECTED_OUT_ENERGY)
        Y = np.zeros((n_k, 2 * m, 2 * m), dtype=np.complex128) if vectors else None
        groups = [int(c) for c in np.unique(counts)]
    for mk in groups:
        idx = (counts == mk).nonzero()[:, 0] if torch_mode else np.flatnonzero(counts == mk)
        b = len(idx)
        Vk, wk = V[idx], w[idx]
        Vp = Vk[:, :, m - mk :]
        scale = wk[:, m - mk :] ** -0.5 if mk else wk[:, :0]
        X = Vp * scale[:, None, :].to(Vp.dtype) if torch_mode else Vp * scale[:, None, :]
        Hr = _spin_congruence_reduced(blocks[idx], X)
        Hr = 0.5 * (Hr + _herm(Hr))
        Er, Z = _eigh(Hr, vectors)
        E[idx, : 2 * mk] = Er
        if not vectors:
            continue
        # rows 2a + s of z -> rows 2 mu + s of (V_+ (x) I2) z
        Y[idx, :, : 2 * mk] = (Vp @ Z.reshape(b, mk, 4 * mk)).reshape(b, 2 * m, 2 * mk)
        drop = m - mk
        if drop:
            Vm = Vk[:, :, :drop]
            dropped = Y[idx, :, 2 * mk :].reshape(b, m, 2, drop, 2)
            dropped[:, :, 0, :, 0] = Vm
            dropped[:, :, 1, :, 1] = Vm
            Y[idx, :, 2 * mk :] = dropped.reshape(b, 2 * m, 2 * drop)
    return E, (Y if vectors else None)


def _solve_lower(L: Array, X: Array) -> Array:
    """``L^-1 X`` for a batch of invertible ``L`` (Cholesky factor or its adjoint, Loewdin root)."""
    if is_tensor(L):
        import torch
        return torch.linalg.solve(L, X)
    return np.linalg.solve(L, X)


def _herm(A: Array) -> Array:
    return A.mH if is_tensor(A) else np.swapaxes(A.conj(), -1, -2)


def orthogonalized_eigh(
    Hk: Array,
    Sk: Array | None = None,
    k: Array | None = None,
    orthogonalization: str = "cholesky",
    vectors: bool = True,
    overlap_cutoff: float = 0.0,
    spatial_overlap: bool = False,
) -> tuple[Array, Array | None, Array | None]:
    """Solve ``H c = E S c`` through an orthogonalized basis.

    With ``S = L L^H`` (``L`` the Cholesky factor, or ``L = S^(1/2)`` for Loewdin), the
    states ``y = L^H c`` are the eigenvectors of ``L^-1 H L^-H`` and are orthonormal in
    the plain inner product. Both maps are smooth, periodic in k and commute with time
    reversal, so topological invariants computed from ``y`` equal those of ``c``.

    With ``overlap_cutoff > 0`` the solve is canonical (see :func:`canonical_transform`):
    ``y`` are eigenvectors of ``G H G + PROJECTED_OUT_ENERGY P``, i.e. ``y = S^(1/2) c``
    for the states in the kept subspace, and the dropped directions sit at
    :data:`PROJECTED_OUT_ENERGY`. ``L`` is then returned as None.

    Parameters
    ----------
    Hk, Sk : [n_k, n, n] Hermitian; ``Sk=None`` means an orthogonal basis.
    k : [n_k, 3] only used to name a failing k-point in errors.
    orthogonalization : "cholesky" (default, cheapest) or "lowdin".
    vectors : return eigenvectors as well.
    overlap_cutoff : drop overlap directions with eigenvalue <= this (0: exact solve).
    spatial_overlap : ``Sk`` is the spin-independent overlap [n_k, n/2, n/2] of a spinful
        basis, ``S = Sk (x) I2``: the factorization of S is done at half the size and
        expanded (the same G, P, L as the full ``S`` gives, at an eighth of the cost).

    Returns
    -------
    E : [n_k, n] ascending eigenvalues (float64).
    Y : [n_k, n, n] orthonormal states (columns), or None.
    L : [n_k, n, n] the orthogonalizing factor, or None for an orthogonal basis.
    """
    is_torch = is_tensor(Hk)
    L = None
    expand = spin_expand if spatial_overlap else (lambda M: M)
    if Sk is not None and spatial_overlap and 2 * Sk.shape[-1] != Hk.shape[-1]:
        raise ValueError(f"spatial overlap of size {Sk.shape[-1]} for H of size {Hk.shape[-1]}")
    if Sk is not None and overlap_cutoff > 0:
        if spatial_overlap:
            E, Y = reduced_canonical_eigh(spin_blocks(Hk), Sk, overlap_cutoff, vectors)
            return E, Y, None
        G, P = canonical_transform(Sk, overlap_cutoff)
        Hk = G @ Hk @ G + PROJECTED_OUT_ENERGY * P
        Hk = 0.5 * (Hk + _herm(Hk))
    elif Sk is not None:
        if orthogonalization == "cholesky":
            L = expand(cholesky(Sk, k))
        elif orthogonalization == "lowdin":
            L = expand(lowdin(Sk, k))
        else:
            raise ValueError(f"unknown orthogonalization {orthogonalization!r}")
        Hk = _solve_lower(L, _herm(_solve_lower(L, Hk)))
        Hk = 0.5 * (Hk + _herm(Hk))
    if is_torch:
        import torch
        if vectors:
            E, Y = torch.linalg.eigh(Hk)
            return E, Y, L
        return torch.linalg.eigvalsh(Hk), None, L
    if vectors:
        E, Y = np.linalg.eigh(Hk)
        return E, Y, L
    return np.linalg.eigvalsh(Hk), None, L


def eigh_generalized(
    Hk: Array, Sk: Array | None = None, k: Array | None = None, vectors: bool = True
) -> tuple[Array, Array | None]:
    """Generalized eigenpairs ``H c = E S c`` with ``c^H S c = 1`` (Cholesky, float64).

    Parameters
    ----------
    Hk, Sk : [n_k, n, n]; ``Sk=None`` is the ordinary eigenproblem.

    Returns
    -------
    E : [n_k, n]; C : [n_k, n, n] S-orthonormal eigenvectors (columns) or None.
    """
    E, Y, L = orthogonalized_eigh(Hk, Sk, k, "cholesky", vectors)
    if Y is None or L is None:
        return E, Y
    return E, _solve_lower(_herm(L), Y)
