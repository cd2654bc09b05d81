"""Canonical orthogonalization: the generalized eigenproblem in a nearly linearly
dependent basis, with the near-null overlap directions dropped."""

import numpy as np
import pytest
import torch
from random_matrices import random_herm, random_pd

from hts_z2.hamiltonian.bloch import (
    PROJECTED_OUT_ENERGY,
    OverlapNotPositiveDefiniteError,
    canonical_transform,
    eigh_generalized,
    orthogonalized_eigh,
)
from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.topology import compute_z2

EPS = 1e-3  # admixture that makes the third orbital nearly redundant: lambda_min(S) ~ EPS^2
ETA = 1e-3  # eV of Hamiltonian error along the nearly redundant direction


def redundant_wilson_dirac(m: float, cutoff: float, error: float = ETA) -> TightBinding:
    """The Wilson–Dirac model plus a decoupled spectator orbital at +20 eV, written in the
    basis ``psi_1 = phi_1, psi_2 = phi_2, psi_3 = (phi_1 + phi_2)/sqrt2 + EPS phi_3``, with
    ``-error`` eV added to H along the nearly null overlap direction (TR-symmetric)."""
    wd = wilson_dirac(m)
    H = np.zeros((len(wd.R), 6, 6), dtype=np.complex128)
    H[:, :4, :4] = wd.H
    H[wd.onsite_index(), 4:, 4:] = 20.0 * np.eye(2)
    T = np.array([[1, 0, 2**-0.5], [0, 1, 2**-0.5], [0, 0, EPS]])
    Ts = np.kron(T, np.eye(2))
    Hp = np.conj(Ts.T) @ H @ Ts
    S = np.zeros_like(Hp)
    S[wd.onsite_index()] = Ts.T @ Ts
    null = np.linalg.solve(T, [0, 0, 1.0])
    null /= np.linalg.norm(null)
    Hp[wd.onsite_index()] -= error * np.kron(np.outer(null, null), np.eye(2))
    return TightBinding(wd.lattice, wd.R, Hp, S, n_occ=2, overlap_cutoff=cutoff)


def test_canonical_equals_exact_when_nothing_is_dropped():
    rng = np.random.default_rng(7)
    H, S = random_herm(rng, 4, 6), random_pd(rng, 4, 6)
    E, _ = eigh_generalized(H, S, vectors=False)
    cutoff = 0.5 * float(np.linalg.eigvalsh(S).min())
    Ec, Y, L = orthogonalized_eigh(H, S, overlap_cutoff=cutoff)
    np.testing.assert_allclose(Ec, E, atol=1e-10)
    assert L is None
    np.testing.assert_allclose(
        np.conj(np.swapaxes(Y, 1, 2)) @ Y, np.eye(6)[None].repeat(4, 0), atol=1e-10
    )
    Et, _, _ = orthogonalized_eigh(torch.as_tensor(H), torch.as_tensor(S), overlap_cutoff=cutoff)
    np.testing.assert_allclose(Et.numpy(), E, atol=1e-10)


def test_transform_drops_exactly_the_small_and_negative_directions():
    S = np.diag([2.0, 1e-6, -1e-3, 0.5])[None].astype(np.complex128)
    G, P = canonical_transform(S, 1e-4)
    np.testing.assert_allclose(np.diag(G[0]).real, [2**-0.5, 0, 0, 2**0.5], atol=1e-12)
    np.testing.assert_allclose(np.diag(P[0]).real, [0, 1, 1, 0], atol=1e-12)
    # G S G is the identity on the kept subspace
    np.testing.assert_allclose(G[0] @ S[0] @ G[0] + P[0], np.eye(4), atol=1e-12)


def test_nearly_redundant_basis_gives_the_original_bands():
    k = np.random.default_rng(8).uniform(-0.5, 0.5, (20, 3))
    original = wilson_dirac(-2.0).eigh(k)[0]
    exact = redundant_wilson_dirac(-2.0, cutoff=0.0).eigh(k)[0]
    canonical = redundant_wilson_dirac(-2.0, cutoff=1e-4).eigh(k)[0]
    # 1 meV of error along a direction with overlap ~1e-6 makes a spurious state near -1 keV
    assert exact[:, 0].max() < -100.0
    np.testing.assert_allclose(canonical[:, :4], original, atol=5 * ETA)
    np.testing.assert_allclose(canonical[:, 4:], PROJECTED_OUT_ENERGY, rtol=1e-6)


def test_z2_survives_the_redundant_basis_only_with_the_cutoff():
    expected = compute_z2(wilson_dirac(-2.0), n_max=16)
    assert expected.label == "STI (1;000)"
    assert compute_z2(redundant_wilson_dirac(-2.0, cutoff=1e-4), n_max=16).label == expected.label
    assert compute_z2(redundant_wilson_dirac(-2.0, cutoff=0.0), n_max=16).label != expected.label
    trivial = compute_z2(redundant_wilson_dirac(-4.0, cutoff=1e-4), n_max=16)
    assert trivial.label == "trivial (0;000)"


def test_cutoff_rejects_a_grossly_indefinite_overlap():
    tb = redundant_wilson_dirac(-2.0, cutoff=1e-4)
    S = tb.S.copy()
    S[tb.onsite_index()] -= 0.5 * np.eye(6)
    with pytest.raises(OverlapNotPositiveDefiniteError, match="below"):
        tb.replace(S=S)
    with pytest.raises(OverlapNotPositiveDefiniteError, match="occupied"):
        tb.replace(n_occ=4, overlap_cutoff=0.9)
