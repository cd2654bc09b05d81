"""Known phases through the block-sparse model: identical gaps and Z2 to the dense path."""

import numpy as np
import pytest
from models_helpers import KNOWN

from hts_z2.hamiltonian.gap import band_gap
from hts_z2.hamiltonian.sparse import SparseTightBinding
from hts_z2.topology.invariants import compute_z2

K = np.random.default_rng(3).random((7, 3))


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_phases_give_identical_gaps_and_z2_on_both_paths(name):
    dense = KNOWN[name][0]()
    sparse = SparseTightBinding.from_dense(dense)
    np.testing.assert_allclose(sparse.hk(K), dense.hk(K), atol=1e-13)
    g1, g2 = band_gap(dense, kspacing=0.6), band_gap(sparse, kspacing=0.6)
    for field in ("indirect", "direct", "vbm", "cbm"):  # (k of degenerate edges may differ)
        assert getattr(g2, field) == pytest.approx(getattr(g1, field), abs=1e-12)
    assert g2.n_k == g1.n_k
    z1, z2 = compute_z2(dense, n_max=32), compute_z2(sparse, n_max=32)
    assert z2.planes == z1.planes == KNOWN[name][1]
    assert z2.label == z1.label == KNOWN[name][2]
    assert z2.min_plane_gap == pytest.approx(z1.min_plane_gap, abs=1e-12)


@pytest.mark.parametrize("name", ["wilson_dirac(m=-2)", "kane_mele()"])
def test_torch_bloch_sums_and_eigensolves_give_the_same_gap_and_z2(name):
    """``device="cpu"``: the block-sparse Bloch sums and the eigensolves run in torch (what
    a GPU runs); gap and Z2 are those of numpy."""
    sparse = SparseTightBinding.from_dense(KNOWN[name][0]())
    np.testing.assert_allclose(
        sparse.spin_blocks_k(K, device="cpu").numpy(), sparse.spin_blocks_k(K), atol=1e-13
    )
    g1, g2 = band_gap(sparse, kspacing=0.6), band_gap(sparse, kspacing=0.6, device="cpu")
    assert g2.indirect == pytest.approx(g1.indirect, abs=1e-12)
    z1, z2 = compute_z2(sparse, n_max=32), compute_z2(sparse, n_max=32, device="cpu")
    assert z2.planes == z1.planes == KNOWN[name][1]
