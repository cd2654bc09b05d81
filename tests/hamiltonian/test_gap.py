import numpy as np
import pytest

from hts_z2.hamiltonian.gap import (
    band_gap,
    edges_gap,
    has_time_reversal,
    merge_gaps,
    mesh_for_spacing,
    monkhorst_pack,
    time_reversal_partners,
)
from hts_z2.hamiltonian.lattice_models import kane_mele, wilson_dirac


@pytest.mark.parametrize("m", [3.5, 4.0, 5.0])
def test_wilson_dirac_analytic_gap(m):
    """For m > 3 the gap is 2 (m - 3), at k = (1/2, 1/2, 1/2)."""
    gap = band_gap(wilson_dirac(m))
    assert gap.indirect == pytest.approx(2 * (m - 3), abs=1e-10)
    assert gap.direct == pytest.approx(2 * (m - 3), abs=1e-10)
    assert gap.k_vbm == (0.5, 0.5, 0.5)
    assert not gap.is_metal


def test_gap_closing_is_metal():
    assert band_gap(wilson_dirac(1.0)).is_metal


def test_overlapping_bands_negative_gap():
    tb = wilson_dirac(4.0)
    H = tb.H.copy()
    for i in range(3):
        e = np.zeros(3, dtype=int)
        e[i] = 1
        for sign in (1, -1):
            r = np.flatnonzero((tb.R == sign * e).all(axis=1))[0]
            H[r] += 2.0 * np.eye(4)  # + 4 (cos 2pi k1 + ...): a band-wide tilt
    gap = band_gap(tb.replace(H=H))
    assert gap.indirect < 0
    assert gap.is_metal
    assert gap.direct == pytest.approx(2.0, abs=1e-9)


def test_kane_mele_gap_at_k_points():
    """Kane–Mele with lam_v = 0: gap 6 sqrt(3) lam_so at K (on the seekpath path)."""
    lam = 0.06
    gap = band_gap(kane_mele(lam_so=lam), kspacing=0.5)
    assert gap.direct == pytest.approx(6 * np.sqrt(3) * lam, abs=1e-9)


def test_mesh():
    mesh = mesh_for_spacing(np.diag([4.0, 4.0, 20.0]), 0.2)
    assert mesh == (8, 8, 2)
    k = monkhorst_pack((4, 2, 2))
    assert len(k) == 16
    assert any(np.allclose(x, [0.5, 0.5, 0.5]) for x in k)


def random_tr_model(seed: int, zeeman: float = 0.0):
    """Triclinic random spinful model, time-reversal symmetric unless ``zeeman`` != 0
    (an on-site B.sigma term with a generic direction)."""
    from hts_z2.hamiltonian import TightBinding
    from hts_z2.hamiltonian.angular import PAULI
    from hts_z2.hamiltonian.soc import spinful_blocks

    rng = np.random.default_rng(seed)
    n = 3
    half = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, -1)]
    R = np.array([(0, 0, 0)] + half + [tuple(-x for x in r) for r in half])
    M = np.zeros((len(R), n, n))
    B = np.zeros((len(R), 3, n, n))
    A = rng.normal(size=(n, n))
    M[0] = A + A.T + np.diag([-3.0, 0.0, 3.0])
    C = 0.3 * rng.normal(size=(3, n, n))
    B[0] = C - np.swapaxes(C, 1, 2)
    for i in range(1, 1 + len(half)):
        M[i] = 0.4 * rng.normal(size=(n, n))
        M[i + len(half)] = M[i].T
        B[i] = 0.2 * rng.normal(size=(3, n, n))
        B[i + len(half)] = -np.swapaxes(B[i], 1, 2)
    H = spinful_blocks(M, B)
    H[0] += zeeman * np.kron(np.eye(n), np.einsum("v,vst->st", [0.3, -0.5, 0.8], PAULI))
    lattice = np.array([[4.0, 0.3, 0.1], [0.5, 4.4, -0.2], [0.3, 0.6, 5.1]])
    return TightBinding(lattice, R, H, n_occ=2)


def test_time_reversal_partners_negate_every_grid_point():
    mesh = (4, 3, 2)
    k = monkhorst_pack(mesh)
    p = time_reversal_partners(mesh)
    d = k + k[p]
    np.testing.assert_allclose(d - np.round(d), 0, atol=1e-12)
    np.testing.assert_array_equal(p[p], np.arange(len(k)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_half_grid_under_time_reversal_gives_the_full_grid_gap(seed):
    tb = random_tr_model(seed)
    assert has_time_reversal(tb)
    full = band_gap(tb, mesh=(6, 5, 4), path=False, time_reversal=False)
    half = band_gap(tb, mesh=(6, 5, 4), path=False)
    assert half.indirect == pytest.approx(full.indirect, abs=1e-12)
    assert half.direct == pytest.approx(full.direct, abs=1e-12)
    assert half.n_k == full.n_k == 120
    k_full = monkhorst_pack((6, 5, 4))
    e_plus = tb.eigh(k_full)[0]
    e_minus = tb.eigh(-k_full)[0]
    np.testing.assert_allclose(e_plus, e_minus, atol=1e-10)  # what the reduction relies on


def test_broken_time_reversal_uses_the_whole_grid():
    tb = random_tr_model(0, zeeman=0.4)
    assert not has_time_reversal(tb)
    k = monkhorst_pack((6, 5, 4))
    assert np.abs(tb.eigh(k)[0] - tb.eigh(-k)[0]).max() > 1e-3  # E(k) != E(-k) here
    auto = band_gap(tb, mesh=(6, 5, 4), path=False)
    full = band_gap(tb, mesh=(6, 5, 4), path=False, time_reversal=False)
    assert auto == full


def test_edges_gap_and_merge_take_each_edge_from_where_it_lies():
    k = np.array([[0.0, 0, 0], [0.5, 0, 0], [0, 0.5, 0]])
    a = edges_gap(k, np.array([0.0, -0.2, -0.1]), np.array([1.0, 0.6, 0.8]), 8)
    assert (a.indirect, a.direct, a.k_vbm, a.k_cbm) == (0.6, 0.8, (0, 0, 0), (0.5, 0, 0))
    assert a.k_direct == (0.5, 0, 0) and not a.is_metal and a.n_k == 8
    b = edges_gap(k[:2] + 0.25, np.array([0.3, -1.0]), np.array([0.7, 2.0]), 2)
    m = merge_gaps(a, b)
    assert m.vbm == 0.3 and m.k_vbm == (0.25, 0.25, 0.25) and m.cbm == 0.6
    assert m.indirect == pytest.approx(0.3) and m.direct == pytest.approx(0.4)
    assert m.k_direct == (0.25, 0.25, 0.25) and m.n_k == 10
    assert merge_gaps(b, a) == m
    assert merge_gaps(a, a).indirect == a.indirect


def test_merged_gaps_flag_an_overlap_neither_sample_shows():
    k = np.zeros((1, 3))
    a = edges_gap(k, np.array([0.0]), np.array([0.5]), 1)
    b = edges_gap(k + 0.5, np.array([0.6]), np.array([1.0]), 1)
    assert not a.is_metal and not b.is_metal
    assert merge_gaps(a, b).is_metal and merge_gaps(a, b).indirect == pytest.approx(-0.1)
