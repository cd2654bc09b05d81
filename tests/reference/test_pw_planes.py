"""Wilson-loop planes of the plane-wave backend, driven by a tight-binding model standing in
for the plane-wave states (same LineData), so the adaptive line insertion, band groups and
the plane results are checked against known phases."""

import numpy as np
import pytest

from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.reference.planewave.backend import parity_z2, wilson_z2
from hts_z2.reference.planewave.links import link_matrix, loop_wcc
from hts_z2.reference.planewave.parity import TrimParity
from hts_z2.reference.planewave.planes import (
    LineData,
    WilsonPlane,
    band_groups,
    critical_lines,
    line_kpoints,
    loop_points,
    wilson_plane,
)
from hts_z2.topology import z2_invariants
from hts_z2.topology.planes import PLANES


def tb_compute(tb, fixed, value, groups=None, calls=None):
    """``(kb, n) -> LineData`` from a tight-binding model (orthonormal basis: no PAW part)."""
    groups = groups or [slice(0, tb.n_occ)]

    def compute(kb, n):
        if calls is not None:
            calls.append((len(kb), n))
        k = line_kpoints(fixed, value, kb, n)
        E, Y = tb.eigh(k, vectors=True)
        wccs = [[] for _ in groups]
        singular = np.ones(len(kb))
        for line in range(len(kb)):
            idx = line * n + np.arange(n)
            V = [Y[i][:, : tb.n_occ].T for i in idx]
            N = Y.shape[1] // 2
            links = [link_matrix(np.eye(N), V[i], V[(i + 1) % n], [], [], [], [])
                     for i in range(n)]
            for g, group in enumerate(groups):
                x, sv = loop_wcc([M[group, group] for M in links])
                wccs[g].append(x)
                singular[line] = min(singular[line], sv)
        return LineData(np.asarray(kb, float), [np.array(w) for w in wccs], singular,
                        np.full(len(kb), n), k, E[:, tb.n_occ - 1], E[:, tb.n_occ])

    return compute


@pytest.mark.parametrize("m", [2.0, -2.0, 0.0, 4.0])
def test_adaptive_planes_reproduce_fhs(m):
    tb = wilson_dirac(m)
    planes = []
    for p, (fixed, value) in enumerate(PLANES):
        result, data = wilson_plane(tb_compute(tb, fixed, value), p, 8, 25)
        assert result.converged and result.min_direct_gap > 0
        assert data.k.shape[0] >= result.lines * 8
        planes.append(result)
    assert wilson_z2(planes).planes == list(z2_invariants(tb).planes)


def test_closed_gap_plane_is_undefined():
    tb = wilson_dirac(1.0)  # gap closes at m = 1 (at a TRIM on the k = 0 planes)
    result, _ = wilson_plane(tb_compute(tb, 0, 0.0), 0, 8, 25)
    assert result.z2 is None and "direct gap closes" in result.reason
    z = wilson_z2([result] * 6)
    assert z.label == "undefined" and "direct gap closes" in z.reason


def test_band_groups_split_only_at_gaps_everywhere():
    E = np.array([[-10, -10, -9.5, -9.5, 0, 0, 1, 1, 3, 3],
                  [-10, -10, -9.0, -9.0, 0.5, 0.5, 1.2, 1.2, 3, 3]], float)
    assert band_groups(E, 8) == [slice(0, 4), slice(4, 8)]
    assert band_groups(E, 8, min_gap=20.0) == [slice(0, 8)]
    E[1, 4] = -9.2  # the gap above the semicore pair closes at one k
    assert band_groups(E, 8) == [slice(0, 8)]


def stacked(m_low, m_high, offset=-20.0):
    """Two Wilson–Dirac blocks, the first shifted far down and filled: 6 occupied bands in
    three groups separated by > 1 eV (the first block's two pairs, the second's valence
    pair); the Z2 is the second block's (a filled block is trivial)."""
    from hts_z2.hamiltonian.tightbinding import TightBinding

    low, high = wilson_dirac(m_low), wilson_dirac(m_high)
    assert np.array_equal(low.R, high.R)
    H = np.zeros((len(low.R), 8, 8), complex)
    H[:, :4, :4], H[:, 4:, 4:] = low.H, high.H
    H[np.flatnonzero(~low.R.any(axis=1))[0], :4, :4] += offset * np.eye(4)
    return TightBinding(low.lattice, low.R, H, n_occ=6)


def test_groups_add_their_z2():
    tb = stacked(2.0, -2.0)
    E, _ = tb.eigh(np.random.default_rng(0).random((20, 3)))
    groups = band_groups(E, 6)
    assert groups == [slice(0, 2), slice(2, 4), slice(4, 6)]
    for p, (fixed, value) in enumerate(PLANES[:2]):
        split, data = wilson_plane(tb_compute(tb, fixed, value, groups), p, 8, 25)
        whole, _ = wilson_plane(tb_compute(tb, fixed, value), p, 8, 25)
        assert len(data.wcc) == 3 and split.converged
        assert split.z2 == whole.z2 == z2_invariants(wilson_dirac(-2.0)).planes[p]


def test_coarse_loops_are_refined_until_links_are_well_conditioned():
    """Near a gap closing (Wilson–Dirac m = -2.9, gap 0.2 at Gamma) 4-point loops have
    links down to 0.41; with a 0.5 floor those lines are recomputed with 8 points."""
    tb = wilson_dirac(-2.9)
    calls = []
    result, data = wilson_plane(tb_compute(tb, 0, 0.0, calls=calls), 0, 4, 25,
                                min_singular=0.5)
    assert any(n > 4 for _, n in calls)
    assert data.min_singular >= 0.5 and result.converged
    assert result.n_loop == int(data.n_loop.max()) > 4
    fhs = z2_invariants(tb).planes[0]
    assert result.z2 == fhs


def test_loop_points_follow_the_spacing():
    lattice = np.diag([4.0, 4.0, 20.0])
    assert loop_points(lattice, 0, 0.35, 6) == 6  # |b| = 1.57 / Å
    assert loop_points(lattice, 0, 0.1, 6) == 16
    assert loop_points(lattice, 2, 0.35, 4) == 4


def trim(delta, n_odd=2, deviation=0.0, gap=1.0):
    return TrimParity((0, 0, 0), delta, n_odd, deviation, gap, (1, -1))


def test_parity_z2_refuses_unclean_trims():
    clean = [trim(-1)] + [trim(1)] * 7
    assert parity_z2(clean).label == "STI (1;000)"  # inverted at Gamma only
    assert parity_z2([trim(1, n_odd=3)] + [trim(1)] * 7).label == "undefined"
    bad = parity_z2([trim(1, deviation=0.2)] + [trim(1)] * 7)
    assert bad.label == "undefined" and "from +-1" in bad.reason
    closed = parity_z2([trim(1, gap=0.0)] + [trim(1)] * 7)
    assert "direct gap closes" in closed.reason


def test_wilson_z2_flags_unconverged_planes():
    ok = WilsonPlane("k1=0", 0, 6, 4, 0.4, True, 0.5, 0.9)
    weak = WilsonPlane("k3=1/2", 0, 6, 25, 0.1, False, 0.5, 0.9, reason="largest-gap test fails")
    z = wilson_z2([ok] * 5 + [weak])
    assert z.label == "trivial (0;000)" and not z.converged and "largest-gap" in z.reason


def test_critical_lines_map_small_gap_points_onto_every_plane():
    """A hexagonal crystal (C3 about c): a small gap at (0, 0.04, 0.43) on the plane
    k1 = 0 is also at (0.04, 0, 0.43)-type images on k2 = 0, a line that plane must have."""
    c3 = np.array([[0, -1, 0], [1, -1, 0], [0, 0, 1]])
    rotations = np.array([np.eye(3, dtype=int), c3, c3 @ c3])
    point = np.array([[0.0, 0.04, 0.43]])
    on_k1 = critical_lines(point, rotations, 0)  # lines along k3 on k1 = 0
    on_k2 = critical_lines(point, rotations, 2)  # lines along k1 on k2 = 0
    assert 0.43 in on_k1.round(6)
    assert 0.04 in on_k2.round(6)
    assert len(critical_lines(point, rotations, 1)) == 0  # no image on k1 = 1/2
