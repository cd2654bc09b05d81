"""Z2 (FHS and Wilson) is unchanged by changes of description that keep the physics.

Basis changes (non-orthogonal ``A(k)``, orbital mixing, global spin rotation), energy
shifts, the lattice metric and small time-reversal-symmetric perturbations keep the
indices; supercells transform them as ``nu0' = nu0``, ``nu' = P nu mod 2``.
"""

import numpy as np
import pytest
from models_helpers import (
    KNOWN,
    TRICLINIC,
    assert_phase,
    indices_of,
    nonorthogonal,
    planes_from_indices,
    rotated,
    tr_perturbation,
    with_terms,
)

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.hamiltonian.supercell import supercell
from hts_z2.topology import compute_z2, z2_invariants

METHODS = ["fhs", "wilson"]
ORTHOGONALIZATIONS = ["cholesky", "lowdin"]
SUPERCELLS = {
    "double a1": np.diag([2, 1, 1]),
    "shear": np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]]),
    "double a3": np.diag([1, 1, 2]),
}


def random_k(n=9, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 3))


def fixed_grid_gap(tb, **kw):
    """Smallest direct gap on the six n=16 half-plane grids (defined even if not converged)."""
    return compute_z2(tb, n_start=16, n_max=16, **kw).min_plane_gap


def assert_same_gap(tb, tb2, **kw):
    assert fixed_grid_gap(tb2, **kw) == pytest.approx(fixed_grid_gap(tb), abs=1e-9)


# --- (a) non-orthogonal basis ----------------------------------------------------------------
@pytest.mark.parametrize("name", list(KNOWN))
def test_nonorthogonal_basis_keeps_bands(name):
    tb = KNOWN[name][0]()
    tb2 = nonorthogonal(tb, np.random.default_rng(1))
    off_site = [np.abs(S).max() for R, S in zip(tb2.R, tb2.S, strict=True) if np.any(R)]
    assert max(off_site) > 0.01
    assert tb2.time_reversal_error() < 1e-12
    k = random_k()
    for orth in ORTHOGONALIZATIONS:
        np.testing.assert_allclose(tb2.eigh(k, orthogonalization=orth)[0], tb.eigh(k)[0], atol=1e-9)
    assert_same_gap(tb, tb2)


@pytest.mark.parametrize("orthogonalization", ORTHOGONALIZATIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(KNOWN))
def test_nonorthogonal_basis_keeps_z2(name, method, orthogonalization):
    factory, planes, label = KNOWN[name]
    tb2 = nonorthogonal(factory(), np.random.default_rng(2))
    res = compute_z2(tb2, method=method, orthogonalization=orthogonalization)
    assert_phase(res, label, planes)


# --- (b) orbital mixing and global spin rotation ----------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(KNOWN))
def test_orbital_mixing_and_spin_rotation_keep_z2(name, method):
    factory, planes, label = KNOWN[name]
    tb = factory()
    tb2 = rotated(tb, np.random.default_rng(3))
    assert tb2.time_reversal_error() < 1e-12
    assert np.abs(tb2.H - tb.H).max() > 0.1
    assert_phase(compute_z2(tb2, method=method), label, planes)
    assert_same_gap(tb, tb2)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["wilson_dirac(m=-2)", "fu_kane_mele(dt=+0.4)", "kane_mele()"])
def test_rotation_of_nonorthogonal_model_keeps_z2(name, method):
    factory, planes, label = KNOWN[name]
    tb2 = rotated(nonorthogonal(factory(), np.random.default_rng(4)), np.random.default_rng(5))
    assert tb2.time_reversal_error() < 1e-12
    for orth in ORTHOGONALIZATIONS:
        assert_phase(compute_z2(tb2, method=method, orthogonalization=orth), label, planes)


# --- (c) supercells --------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("cell", list(SUPERCELLS))
@pytest.mark.parametrize("name", list(KNOWN))
def test_supercell_transforms_weak_indices(name, cell, method):
    factory, _planes, label = KNOWN[name]
    P = SUPERCELLS[cell]
    nu0, nu = indices_of(label)
    nu_p = tuple(int(x) for x in (P @ np.array(nu)) % 2)
    tb = supercell(factory(), P)
    assert tb.time_reversal_error() < 1e-12
    res = compute_z2(tb, method=method)
    assert res.nu0 == nu0
    assert res.nu == nu_p
    assert res.planes == planes_from_indices(nu0, nu_p)
    assert res.converged is True
    assert res.lattice == tuple(map(tuple, (P @ factory().lattice).tolist()))


@pytest.mark.parametrize(
    ("name", "cell", "label"),
    [
        ("wilson_dirac(m=0)", "double a1", "WTI (0;011)"),
        ("fu_kane_mele(dt=-0.4)", "double a1", "WTI (0;011)"),
        ("wilson_dirac(m=2)", "double a1", "STI (1;011)"),
        ("fu_kane_mele(dt=+0.4)", "shear", "STI (1;011)"),
        ("wilson_dirac(m=2)", "double a3", "STI (1;110)"),
        ("kane_mele()", "shear", "WTI (0;001)"),
        ("kane_mele()", "double a3", "trivial (0;000)"),
        ("wilson_dirac(m=-2)", "double a3", "STI (1;000)"),
    ],
)
def test_supercell_labels(name, cell, label):
    res = z2_invariants(supercell(KNOWN[name][0](), SUPERCELLS[cell]))
    assert_phase(res, label)


# --- (d) energy shift H -> H + mu S ----------------------------------------------------------
@pytest.mark.parametrize("mu", [0.7, -3.1])
@pytest.mark.parametrize("orthogonal", [True, False], ids=["orthogonal", "nonorthogonal"])
@pytest.mark.parametrize("name", list(KNOWN))
def test_energy_shift_keeps_z2_and_gap(name, orthogonal, mu):
    factory, planes, label = KNOWN[name]
    tb = factory() if orthogonal else nonorthogonal(factory(), np.random.default_rng(6))
    tb2 = tb.shifted(mu)
    k = random_k(seed=1)
    np.testing.assert_allclose(tb2.eigh(k)[0], tb.eigh(k)[0] + mu, atol=1e-9)
    for method in METHODS:
        assert_phase(compute_z2(tb2, method=method), label, planes)
    assert_same_gap(tb, tb2)


# --- (e) triclinic lattice, non-orthogonal basis ---------------------------------------------
@pytest.mark.parametrize("orthogonalization", ORTHOGONALIZATIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("m", [2.0, 0.0, -2.0, 4.0, -4.0])
def test_triclinic_nonorthogonal_matches_cubic(m, method, orthogonalization):
    cubic = compute_z2(wilson_dirac(m), method=method)
    tb = nonorthogonal(wilson_dirac(m, lattice=TRICLINIC), np.random.default_rng(7))
    res = compute_z2(tb, method=method, orthogonalization=orthogonalization)
    assert_phase(res, cubic.label, cubic.planes)
    assert res.lattice == tuple(map(tuple, TRICLINIC.tolist()))


# --- (f) random time-reversal-symmetric perturbation -----------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("dt", "label"), [(0.4, "STI (1;111)"), (-0.4, "WTI (0;111)")])
def test_fkm_phase_survives_small_tr_symmetric_perturbation(dt, label, seed):
    tb = with_terms(fu_kane_mele(dt), tr_perturbation(2, np.random.default_rng(seed), 0.03))
    assert tb.time_reversal_error() < 1e-12
    assert len(tb.R) > len(fu_kane_mele(dt).R)
    for method in METHODS:
        res = compute_z2(tb, method=method)
        assert_phase(res, label)
        assert res.min_plane_gap > 0.3
    fhs = z2_invariants(tb)
    assert max(p.quality["max_flux"] for p in fhs.plane_results) > 1e-3


@pytest.mark.parametrize("method", METHODS)
def test_all_transforms_combined(method):
    """Perturbed FKM -> non-orthogonal -> rotated -> supercell diag(1, 2, 1): (1;111) -> (1;101)."""
    tb = with_terms(fu_kane_mele(0.4), tr_perturbation(2, np.random.default_rng(8), 0.03))
    tb = rotated(nonorthogonal(tb, np.random.default_rng(9)), np.random.default_rng(10))
    tb = supercell(tb, np.diag([1, 2, 1]))
    assert tb.time_reversal_error() < 1e-12
    assert_phase(compute_z2(tb, method=method), "STI (1;101)")
