"""Cases where Z2 must not be reported as a number: closed gaps, metals, broken time
reversal, spinless models, unconverged grids; and invalid arguments."""

import numpy as np
import pytest
from models_helpers import assert_phase, with_terms

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, kane_mele, wilson_dirac
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.topology import compute_z2, wilson_z2, z2_invariants

METHODS = ["fhs", "wilson"]
SIGMA_Z = np.diag([1.0, -1.0])


def assert_no_indices(res, label="undefined"):
    assert res.label == label
    assert res.planes is None
    assert res.nu0 is None
    assert res.nu is None
    assert res.indices is None
    assert res.defined is False
    assert res.converged is False
    assert res.reason


def zeeman(tb, b):
    H = tb.H.copy()
    H[tb.onsite_index()] += b * np.kron(np.eye(tb.n_bands // 2), SIGMA_Z)
    return tb.replace(H=H)


def bandwidth_term(w):
    """``w * sum_i cos(2 pi k_i)`` times the identity: shifts energies k-dependently."""
    terms = []
    for i in range(3):
        R = [0, 0, 0]
        R[i] = 1
        terms.append((tuple(R), 0.5 * w * np.eye(4, dtype=np.complex128)))
    return terms


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("m", "trims"),
    [
        (1.0, ["[0.0, 0.5, 0.5]", "[0.5, 0.0, 0.5]", "[0.5, 0.5, 0.0]"]),
        (3.0, ["[0.5, 0.5, 0.5]"]),
        (-1.0, ["[0.5, 0.0, 0.0]", "[0.0, 0.5, 0.0]", "[0.0, 0.0, 0.5]"]),
        (-3.0, ["[0.0, 0.0, 0.0]"]),
    ],
)
def test_gap_closing_at_trim_gives_no_indices(m, trims, method):
    res = compute_z2(wilson_dirac(m), method=method)
    assert res.label in ("undefined", "metal")
    assert_no_indices(res, res.label)
    assert res.min_plane_gap < 1e-9
    if res.label == "undefined":
        assert "direct gap closes" in res.reason
        assert any(t in res.reason for t in trims)
    else:
        assert "bands overlap" in res.reason


@pytest.mark.parametrize("method", METHODS)
def test_gap_below_gap_tol_is_undefined(method):
    """wilson_dirac(m=1.05) has a 0.1 eV direct gap at three TRIMs."""
    res = compute_z2(wilson_dirac(1.05), method=method, gap_tol=0.2)
    assert_no_indices(res)
    assert "direct gap closes" in res.reason
    assert res.min_plane_gap == pytest.approx(0.1)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("factory", [lambda: wilson_dirac(2.0), lambda: fu_kane_mele(0.4)])
def test_zeeman_term_breaks_time_reversal(factory, method):
    res = compute_z2(zeeman(factory(), 0.1), method=method)
    assert_no_indices(res)
    assert "time reversal" in res.reason


@pytest.mark.parametrize("method", METHODS)
def test_time_reversal_error_below_tolerance_is_accepted(method):
    tb = zeeman(wilson_dirac(2.0), 1e-7)
    assert 0 < tb.time_reversal_error() < 1e-5
    assert_phase(compute_z2(tb, method=method), "STI (1;111)")
    assert "time reversal" in compute_z2(tb, method=method, tr_tol=1e-8).reason


@pytest.mark.parametrize("method", METHODS)
def test_spinless_models_are_undefined(method):
    tb = wilson_dirac(2.0)
    two_band = TightBinding(
        np.eye(3),
        np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0]]),
        np.array([np.diag([1.0, -1.0]), 0.5 * np.eye(2), 0.5 * np.eye(2)]),
        n_occ=1,
        spinful=False,
    )
    for model in (tb.replace(spinful=False), two_band):
        res = compute_z2(model, method=method)
        assert_no_indices(res)
        assert "spinless" in res.reason


@pytest.mark.parametrize("method", METHODS)
def test_overlapping_bands_are_a_metal(method):
    """A k-dependent shift ``1.5 sum cos`` pushes the valence top at Gamma (-5 + 4.5) above the
    conduction bottom at R (1 - 4.5) while every direct gap stays >= 2 eV."""
    tb = with_terms(wilson_dirac(2.0), bandwidth_term(1.5))
    assert tb.time_reversal_error() < 1e-12
    res = compute_z2(tb, method=method)
    assert_no_indices(res, "metal")
    assert "bands overlap" in res.reason
    assert res.min_plane_gap == pytest.approx(2.0)


@pytest.mark.parametrize("method", METHODS)
def test_grid_that_cannot_converge(method, monkeypatch):
    """kane_mele(lam_v=0.25): a small gap near K without inversion symmetry, so the Berry
    flux is peaked off the grid; n_max=8 cannot resolve it, refinement can. (The Wilson
    method inserts lines by itself; with at most 9 lines it cannot converge either.)"""
    import hts_z2.topology.wilson as wilson

    monkeypatch.setattr(wilson, "MAX_LINES", 9)
    tb = kane_mele(lam_v=0.25)
    res = compute_z2(tb, method=method, n_start=8, n_max=8)
    assert_no_indices(res)
    assert res.reason.startswith("not converged up to n=8")
    assert "k3=0" in res.reason
    assert "k3=1/2" in res.reason
    assert res.grid == (8, 5)
    assert res.min_plane_gap > 0.1
    monkeypatch.setattr(wilson, "MAX_LINES", 513)
    assert_phase(compute_z2(tb, method=method, n_max=128), "WTI (0;001)")


def test_wilson_inserts_lines_where_wccs_move_fast():
    """wilson_dirac(m=1.05): the WCCs wind within a few lines near the 0.1 eV gap; the
    Wilson method inserts lines there (as Z2Pack does) and converges on n=8 loops, while
    FHS needs nothing (PT symmetry: zero plaquette flux everywhere)."""
    tb = wilson_dirac(1.05)
    res = wilson_z2(tb, n_start=8, n_max=8)
    assert_phase(res, "STI (1;111)")
    assert max(p.quality["lines"] for p in res.plane_results) > 5
    fhs = z2_invariants(tb, n_start=8, n_max=8)
    assert_phase(fhs, "STI (1;111)")
    assert fhs.grid == (8, 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "berry"}, "unknown Z2 method"),
        ({"n_start": 6}, "multiple of 4"),
        ({"n_start": 4}, "multiple of 4"),
        ({"n_start": 16, "n_max": 8}, "n_max"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compute_z2(wilson_dirac(2.0), **kwargs)

