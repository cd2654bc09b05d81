import numpy as np
import pytest
import torch
from random_matrices import random_herm, random_pd

from hts_z2.hamiltonian.bloch import (
    PROJECTED_OUT_ENERGY,
    bloch_sum,
    eigh_generalized,
    orthogonalized_eigh,
)
from hts_z2.hamiltonian.lattice_models import fu_kane_mele


def test_bloch_sum_matches_loop():
    tb = fu_kane_mele(0.3)
    k = np.random.default_rng(1).random((3, 3))
    ref = np.array(
        [sum(h * np.exp(2j * np.pi * kk @ r) for r, h in zip(tb.R, tb.H, strict=True)) for kk in k]
    )
    assert np.allclose(bloch_sum(tb.R, tb.H, k), ref)


def test_bloch_sum_periodic_and_torch():
    tb = fu_kane_mele(0.3)
    k = np.random.default_rng(2).random((4, 3))
    assert np.allclose(tb.hk(k), tb.hk(k + np.array([1, -2, 3])))
    Ht = bloch_sum(tb.R, torch.as_tensor(tb.H), torch.as_tensor(k))
    assert isinstance(Ht, torch.Tensor)
    assert np.allclose(Ht.numpy(), tb.hk(k))


@pytest.mark.parametrize("ortho", ["cholesky", "lowdin"])
def test_generalized_eigenproblem(ortho):
    rng = np.random.default_rng(3)
    H, S = random_herm(rng, 5, 6), random_pd(rng, 5, 6)
    E, C = eigh_generalized(H, S)
    assert np.allclose(H @ C, S @ C * E[:, None, :], atol=1e-10)
    assert np.allclose(np.conj(np.swapaxes(C, 1, 2)) @ S @ C, np.eye(6), atol=1e-10)
    E2, Y, _ = orthogonalized_eigh(H, S, orthogonalization=ortho)
    assert np.allclose(E, E2)
    assert np.allclose(np.conj(np.swapaxes(Y, 1, 2)) @ Y, np.eye(6), atol=1e-10)


def test_torch_and_numpy_agree():
    rng = np.random.default_rng(4)
    H, S = random_herm(rng, 3, 5), random_pd(rng, 3, 5)
    E, _ = eigh_generalized(H, S, vectors=False)
    Et, Ct = eigh_generalized(torch.as_tensor(H), torch.as_tensor(S))
    assert np.allclose(E, Et.numpy())
    Ct = Ct.numpy()
    assert np.allclose(H @ Ct, S @ Ct * Et.numpy()[:, None, :], atol=1e-10)


def test_unknown_orthogonalization():
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="orthogonalization"):
        orthogonalized_eigh(random_herm(rng, 1, 2), random_pd(rng, 1, 2), orthogonalization="x")


def _spin_expand_dense(S):
    return np.stack([np.kron(s, np.eye(2)) for s in S])


@pytest.mark.parametrize(
    ("ortho", "cutoff"), [("cholesky", 0.0), ("lowdin", 0.0), ("cholesky", 2.5)]
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_spatial_overlap_path_equals_the_full_spinful_overlap(ortho, cutoff, backend):
    """Factorizing S_s and expanding it (or the canonical G, P) gives the same bands and
    states as factorizing S = S_s (x) I2; the cutoff 2.5 drops a few directions."""
    rng = np.random.default_rng(7)
    m = 5
    Ss = random_pd(rng, 3, m) / m  # eigenvalues from ~1 upward: some fall below 2.5
    H = random_herm(rng, 3, 2 * m)
    S = _spin_expand_dense(Ss)
    if backend == "torch":
        H, S, Ss = (torch.as_tensor(x) for x in (H, S, Ss))
    E1, Y1, L1 = orthogonalized_eigh(H, S, None, ortho, overlap_cutoff=cutoff)
    E2, Y2, L2 = orthogonalized_eigh(
        H, Ss, None, ortho, overlap_cutoff=cutoff, spatial_overlap=True
    )
    E1, E2, Y1, Y2 = (np.asarray(x) for x in (E1, E2, Y1, Y2))
    if cutoff:
        assert (E1 > PROJECTED_OUT_ENERGY / 2).sum() > 0  # directions were dropped
        assert L1 is None and L2 is None
    else:
        np.testing.assert_allclose(np.asarray(L1), np.asarray(L2), atol=1e-12)
    np.testing.assert_allclose(E1, E2, atol=1e-10)
    overlap = np.abs(np.einsum("kai,kai->ki", Y1.conj(), Y2))  # same states up to a phase
    kept = E1 < PROJECTED_OUT_ENERGY / 2  # the dropped ones are exactly degenerate
    assert kept.sum() >= 3
    np.testing.assert_allclose(overlap[kept], 1.0, atol=1e-8)


def test_spatial_overlap_size_is_checked():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="spatial overlap of size 3"):
        orthogonalized_eigh(random_herm(rng, 1, 4), random_pd(rng, 1, 3), spatial_overlap=True)
