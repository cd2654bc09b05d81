"""The band edges of the Z2 planes: a finer k sample than a screening's band grid, merged
into the reported gap."""

import pytest

from hts_z2.hamiltonian.gap import band_gap, merge_gaps
from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.topology import compute_z2

METHODS = ["fhs", "wilson"]


@pytest.mark.parametrize("method", METHODS)
def test_plane_band_edges_find_a_gap_minimum_a_coarse_grid_misses(method):
    """wilson_dirac(1.1): the 0.2 eV gap at the three TRIM (0, 1/2, 1/2) lies on the Z2
    planes; at Gamma alone the gap is 2 (1.1 + 3) = 8.2 eV."""
    tb = wilson_dirac(1.1)
    res = compute_z2(tb, method=method)
    coarse = band_gap(tb, mesh=(1, 1, 1), path=False)
    assert coarse.direct == pytest.approx(8.2)
    assert res.plane_gap.direct == pytest.approx(res.min_plane_gap)
    merged = merge_gaps(coarse, res.plane_gap)
    assert merged.direct == pytest.approx(0.2) and merged.indirect == pytest.approx(0.2)
    assert sorted(merged.k_direct).count(0.5) == 2 and 0.0 in merged.k_direct
    assert merged.n_k == 1 + res.plane_gap.n_k
