"""Block-sparse models: the same H(k), S(k), bands, gaps and Z2 as the dense models they
come from, at a fraction of the memory."""

import numpy as np
import pytest
import torch
from test_canonical import redundant_wilson_dirac

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.hamiltonian.bloch import spin_expand
from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.hamiltonian.sparse import (
    PairBlocks,
    SparseTightBinding,
    fold_pairs,
    hermiticity_error,
    k_chunk,
    unfold_pairs,
)
from hts_z2.hamiltonian.tightbinding import TightBinding, TightBindingError
from hts_z2.topology.invariants import compute_z2

K = np.random.default_rng(3).random((7, 3))


def two_atom_model(cutoff: float = 0.0, seed: int = 0) -> TightBinding:
    """A random TR-symmetric model of two atoms (2 and 3 orbitals) with nearest-neighbour
    blocks and a spin-independent positive-definite overlap."""
    rng = np.random.default_rng(seed)
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    n = 5
    M = rng.normal(size=(len(R), n, n))
    B = rng.normal(size=(len(R), 3, n, n)) * 0.2
    Ss = rng.normal(size=(len(R), n, n)) * 0.05
    Ss[0] = np.eye(n)
    for r in range(1, len(R), 2):  # R and -R are neighbours in the list
        M[r + 1], Ss[r + 1] = M[r].T, Ss[r].T
        B[r + 1] = -np.swapaxes(B[r], -1, -2)
    M[0] = 0.5 * (M[0] + M[0].T)
    B[0] = 0.5 * (B[0] - np.swapaxes(B[0], -1, -2))
    from hts_z2.hamiltonian.soc import spinful_blocks

    H = spinful_blocks(M, B)
    return TightBinding(
        np.eye(3) * 4.0, R, H, spin_expand(Ss.astype(complex)), n_occ=4,
        orbitals=orbital_table([[0, 0], [1]]), overlap_cutoff=cutoff,
    )  # fmt: skip


@pytest.mark.parametrize("cutoff", [0.0, 1e-4])
def test_redundant_basis_bands_and_z2_agree_with_and_without_the_cutoff(cutoff):
    """Canonical (reduced) and Cholesky solves of a nearly redundant basis: the sparse
    model's bands are the dense model's, the dropped directions included."""
    dense = redundant_wilson_dirac(-2.0, cutoff=cutoff)
    sparse = SparseTightBinding.from_dense(dense)
    E1, Y1 = dense.eigh(K, vectors=True)
    E2, Y2 = sparse.eigh(K, vectors=True)
    np.testing.assert_allclose(E2, E1, atol=1e-9)
    if cutoff:  # Cholesky states of the nearly singular basis carry its conditioning
        occ = np.einsum("kai,kaj->kij", Y1[..., :2].conj(), Y2[..., :2])
        np.testing.assert_allclose(np.linalg.svd(occ, compute_uv=False), 1.0, atol=1e-8)
    assert compute_z2(sparse, n_max=16).label == compute_z2(dense, n_max=16).label


@pytest.mark.parametrize("cutoff", [0.0, 0.5])
def test_two_atom_blocks_round_trip_and_solve_like_the_dense_model(cutoff):
    dense = two_atom_model(cutoff)
    sparse = SparseTightBinding.from_dense(dense)
    assert [(p.i, p.j) for p in sparse.hoppings] == [(0, 0), (0, 1), (1, 1)]  # the half
    back = sparse.to_dense()
    np.testing.assert_allclose(back.hk(K), dense.hk(K), atol=1e-13)
    np.testing.assert_allclose(back.sk(K), dense.sk(K), atol=1e-13)
    np.testing.assert_allclose(sparse.sk(K), dense.sk(K), atol=1e-13)
    E1, _ = dense.eigh(K)
    E2, _ = sparse.eigh(K)
    np.testing.assert_allclose(E2, E1, atol=1e-10)
    Et, Yt = sparse.eigh(K, vectors=True, device="cpu")  # torch eigensolver
    np.testing.assert_allclose(Et, E1, atol=1e-10)
    assert isinstance(Yt, np.ndarray)
    if cutoff:
        assert (E1 > 1e3).any()  # directions were dropped


def test_fold_keeps_the_half_and_halves_the_onsite_block():
    blocks = np.arange(3 * 4, dtype=np.float32).reshape(3, 1, 2, 2)
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0]])
    (p,) = fold_pairs((PairBlocks(0, 0, R, blocks),))
    assert p.R.tolist() == [[0, 0, 0], [1, 0, 0]]
    np.testing.assert_array_equal(p.blocks[0], 0.5 * blocks[0])
    assert fold_pairs((PairBlocks(1, 0, R, blocks),)) == ()


def test_unfold_restores_every_ordered_pair_and_the_model():
    sparse = SparseTightBinding.from_dense(two_atom_model())
    full = unfold_pairs(sparse.hoppings)
    assert sorted((p.i, p.j) for p in full) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    onsite = next(p for p in full if p.i == p.j == 0)
    assert len(onsite.R) == 7  # R = 0 once, at full weight, and both signs of the rest
    again = SparseTightBinding(
        sparse.lattice, sparse.starts, full, unfold_pairs(sparse.overlaps), n_occ=4
    )
    np.testing.assert_array_equal(again.hk(K), sparse.hk(K))
    np.testing.assert_array_equal(again.sk(K), sparse.sk(K))


def test_within_radius_keeps_the_near_pairs_only():
    dense = two_atom_model()
    dense = TightBinding(dense.lattice, dense.R, dense.H, dense.S, n_occ=4,
                         orbitals=dense.orbitals, positions=np.array([[0, 0, 0], [0.5, 0, 0]]),
                         numbers=np.array([1, 1]))
    sparse = SparseTightBinding.from_dense(dense)
    assert sparse.within_radius(100.0).hk(K) == pytest.approx(sparse.hk(K))
    near = sparse.within_radius(2.0)  # the two atoms 2 A apart along x, R = 0 and -x
    bonds = {(p.i, p.j, tuple(r)) for p in near.hoppings for r in p.R.tolist()}
    assert bonds == {(0, 0, (0, 0, 0)), (1, 1, (0, 0, 0)), (0, 1, (0, 0, 0)), (0, 1, (-1, 0, 0))}
    onsite = sparse.within_radius(0.0)
    assert {(p.i, p.j) for p in onsite.hoppings} == {(0, 0), (1, 1)}


def test_non_hermitian_and_time_reversal_odd_models_are_refused():
    dense = two_atom_model()
    sparse = SparseTightBinding.from_dense(dense)
    pairs = list(SparseTightBinding.from_dense(dense).hoppings)
    assert hermiticity_error(tuple(pairs), soc=True)[0] > 0  # folded: partners missing
    bad = pairs[1]
    broken = PairBlocks(bad.i, bad.j, bad.R, bad.blocks + 0.1)
    full = (pairs[0], broken, broken.mirrored(np.ones((1, 4, 1, 1))), *pairs[2:])
    with pytest.raises(TightBindingError, match="not Hermitian"):
        SparseTightBinding(sparse.lattice, sparse.starts, full, None, n_occ=4)
    H = dense.H.copy()  # + i c (|0><1| - |1><0|) (x) I2 on site: Hermitian, TR-odd
    for s in (0, 1):
        H[0, s, 2 + s] += 0.3j
        H[0, 2 + s, s] -= 0.3j
    odd = dense.replace(H=H)
    assert odd.time_reversal_error() > 0.1
    with pytest.raises(ValueError, match="breaks time reversal"):
        SparseTightBinding.from_dense(odd)
    with pytest.raises(TightBindingError, match="n_occ"):
        SparseTightBinding(sparse.lattice, sparse.starts, sparse.hoppings, None, n_occ=3)


def test_memory_is_the_blocks_and_chunks_are_bounded():
    sparse = SparseTightBinding.from_dense(wilson_dirac(-2.0))
    assert sparse.nbytes < 4 * 7 * 4 * 8 + 7 * 3 * 8  # 7 blocks of 4 components, fewer kept
    assert k_chunk(170) * 16 * 170**2 <= 8 * 2**20
    assert k_chunk(4000) == 4


def test_torch_tensors_are_not_needed_for_the_numpy_path():
    sparse = SparseTightBinding.from_dense(wilson_dirac(-2.0))
    E, Y = sparse.eigh(K)
    assert isinstance(E, np.ndarray) and Y is None
    assert not isinstance(E, torch.Tensor)


def test_torch_overlap_sums_equal_numpy():
    sparse = SparseTightBinding.from_dense(two_atom_model(0.5))
    np.testing.assert_allclose(
        sparse.spatial_sk(K, device="cpu").numpy(), sparse.spatial_sk(K), atol=1e-14
    )
