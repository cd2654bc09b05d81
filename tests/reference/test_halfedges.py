import numpy as np
from toy_model import toy_sample

from hts_z2.reference.halfedges import canonical_mask, expand, halve


def test_canonical_mask_picks_one_edge_of_every_reverse_pair():
    ei = np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 1, 1, 0, 0],
            [1, 0, -1, 0, 0],
            [0, 0, 0, -1, 2],
            [0, 0, 0, 1, -2],
            [1, 1, 0, 0, 0],
        ]
    )
    assert canonical_mask(ei).tolist() == [True, True, False, False, True, True]


def test_expand_of_halve_restores_every_block_by_symmetry():
    sample = toy_sample()
    half = halve(sample.edge_blocks())
    full = expand(half, sample.n_orbitals_per_atom)
    assert len(full.edge_index) == sample.n_edges
    original = {tuple(e): k for k, e in enumerate(sample.edge_index.tolist())}
    nat = sample.n_orbitals_per_atom
    for k, e in enumerate(full.edge_index.tolist()):
        o = original[tuple(e)]
        a, b = full.offset[k], full.offset[k + 1]
        c, d = sample.offset[o], sample.offset[o + 1]
        np.testing.assert_allclose(full.h0[a:b], sample.h0[c:d], atol=1e-12)
        np.testing.assert_allclose(full.s[a:b], sample.s[c:d], atol=1e-12)
        np.testing.assert_allclose(full.soc[:, a:b], sample.soc[:, c:d], atol=1e-12)
    assert nat.sum() > 0
