"""Fukui–Hatsugai–Suzuki Z2: known phases and the pieces (Kramers frames, TR gauge, wrap)."""

import numpy as np
import pytest
from models_helpers import (
    KNOWN,
    assert_phase,
    indices_of,
    planes_from_indices,
    tr_perturbation,
    with_terms,
)

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.hamiltonian.timereversal import apply_theta
from hts_z2.topology import z2_invariants
from hts_z2.topology.fhs import (
    fhs_plane,
    fix_tr_gauge,
    kramers_frame,
    link_phases,
    tr_symmetric_edges,
    wrap,
)
from hts_z2.topology.planes import PLANES, half_plane_grid, occupied_states

TRIMS = np.array(np.meshgrid(*[[0.0, 0.5]] * 3, indexing="ij")).reshape(3, -1).T


def random_unitary(n, rng):
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def kramers_subspace(n, m, rng):
    """Orthonormal columns [n, 2m] spanning a random Theta-closed subspace, in a random gauge."""
    phi = rng.normal(size=(n, m)) + 1j * rng.normal(size=(n, m))
    q, _ = np.linalg.qr(np.concatenate([phi, apply_theta(phi)], axis=1))
    return q @ random_unitary(2 * m, rng)


def projector(V):
    return V @ V.conj().T


def assert_kramers_frame(F, V):
    m2 = V.shape[1]
    np.testing.assert_allclose(F.conj().T @ F, np.eye(m2), atol=1e-10)
    np.testing.assert_allclose(F[:, 1::2], apply_theta(F[:, 0::2]), atol=1e-10)
    np.testing.assert_allclose(projector(F), projector(V), atol=1e-10)


def perturbed_fkm(dt=0.4, seed=0):
    """FKM without inversion symmetry (random TR-symmetric terms), so Berry flux is nonzero."""
    return with_terms(fu_kane_mele(dt), tr_perturbation(2, np.random.default_rng(seed), 0.03))


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_phases(name):
    factory, planes, label = KNOWN[name]
    res = z2_invariants(factory())
    assert res.method == "fhs"
    assert_phase(res, label, planes)
    assert res.defined
    assert res.indices == label[label.index("(") + 1 : -1]


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_table_is_consistent(name):
    _factory, planes, label = KNOWN[name]
    assert planes_from_indices(*indices_of(label)) == planes


def test_torch_cpu_backend_matches_numpy():
    tb = perturbed_fkm()
    a = z2_invariants(tb)
    b = z2_invariants(tb, device="cpu")
    assert a.planes == b.planes == (0, 1, 0, 1, 0, 1)
    assert b.min_plane_gap == pytest.approx(a.min_plane_gap, abs=1e-10)


@pytest.mark.parametrize(("n", "m"), [(4, 1), (8, 2), (12, 3)])
def test_kramers_frame_random_subspace(n, m):
    V = kramers_subspace(n, m, np.random.default_rng(n))
    assert_kramers_frame(kramers_frame(V), V)


@pytest.mark.parametrize("factory", [lambda: fu_kane_mele(0.4), perturbed_fkm])
def test_kramers_frame_occupied_states_at_trims(factory):
    tb = factory()
    _E, Y = tb.eigh(TRIMS, vectors=True)
    for V in Y[..., : tb.n_occ]:
        assert_kramers_frame(kramers_frame(V), V)


def test_kramers_frame_rejects_subspace_not_closed_under_theta():
    rng = np.random.default_rng(3)
    V, _ = np.linalg.qr(rng.normal(size=(8, 2)) + 1j * rng.normal(size=(8, 2)))
    with pytest.raises(ValueError, match="Kramers"):
        kramers_frame(V)


@pytest.mark.parametrize("factory", [lambda: wilson_dirac(2.0), perturbed_fkm])
@pytest.mark.parametrize("fixed", [(0.5, 0.0), (0.0, 0.5)])
def test_fix_tr_gauge(factory, fixed):
    tb = factory()
    n = 12
    k = np.zeros((n, 3))
    k[:, 0] = np.arange(n) / n
    k[:, 1:] = fixed
    _E, Y = tb.eigh(k, vectors=True)
    line = Y[..., : tb.n_occ]
    out = fix_tr_gauge(line)
    for i in range(1, n // 2):
        np.testing.assert_allclose(out[n - i], apply_theta(out[i]), atol=1e-10)
    np.testing.assert_allclose(out[1 : n // 2], line[1 : n // 2])
    for i in (0, n // 2):
        assert_kramers_frame(out[i], line[i])
    for a, b in zip(out, line, strict=True):
        np.testing.assert_allclose(projector(a), projector(b), atol=1e-10)


def test_wrap_known_values():
    x = np.array([np.pi, -np.pi, 3 * np.pi, 0.0, 2 * np.pi, 0.5, -0.5, np.pi + 0.1, -np.pi + 0.1])
    expected = [np.pi, np.pi, np.pi, 0.0, 0.0, 0.5, -0.5, -np.pi + 0.1, -np.pi + 0.1]
    np.testing.assert_allclose(wrap(x), expected, atol=1e-12)


def test_wrap_random():
    x = np.random.default_rng(0).uniform(-50, 50, size=1000)
    w = wrap(x)
    assert np.all(w > -np.pi)
    assert np.all(w <= np.pi)
    turns = (x - w) / (2 * np.pi)
    np.testing.assert_allclose(turns, np.rint(turns), atol=1e-9)
    np.testing.assert_allclose(wrap(w), w, atol=1e-12)


def test_link_phases_of_diagonal_rotation():
    rng = np.random.default_rng(1)
    Y1 = kramers_subspace(8, 2, rng)
    theta = np.array([0.3, -1.2, 2.0, 0.4])
    phase, modulus = link_phases(Y1, Y1 * np.exp(1j * theta))
    assert phase == pytest.approx(wrap(theta.sum()))
    assert modulus == pytest.approx(1.0)


@pytest.mark.parametrize("plane", range(6))
def test_fhs_plane_is_gauge_invariant(plane):
    tb = perturbed_fkm()
    n = 16
    k = half_plane_grid(*PLANES[plane], n)
    _E, Y = occupied_states(tb, k.reshape(-1, 3))
    Y = Y.reshape(*k.shape[:2], *Y.shape[1:])
    z, q = fhs_plane(Y)
    rng = np.random.default_rng(plane)
    U = np.array([random_unitary(tb.n_occ, rng) for _ in range(n * (n // 2 + 1))])
    Yg = Y @ U.reshape(n, n // 2 + 1, tb.n_occ, tb.n_occ)
    zg, qg = fhs_plane(Yg)
    assert z == zg == (0, 1, 0, 1, 0, 1)[plane]
    assert q["max_flux"] > 1e-3
    assert qg["max_flux"] == pytest.approx(q["max_flux"], abs=1e-9)
    assert qg["min_overlap"] == pytest.approx(q["min_overlap"], abs=1e-9)


def test_fhs_flux_vanishes_with_inversion_symmetry():
    """PT symmetry makes the abelian (det) Berry curvature zero on every plaquette."""
    res = z2_invariants(fu_kane_mele(0.4))
    assert max(p.quality["max_flux"] for p in res.plane_results) < 1e-9


def test_tr_partner_edge_links_get_identical_phases():
    """A det = -1 link reads +pi or -pi by the sign of a rounding-level imaginary part;
    partners on the TR-invariant edges must agree or the edge plaquettes flip the Z2."""
    n = 8
    rng = np.random.default_rng(3)
    Aa = rng.uniform(-np.pi, np.pi, size=(n, n // 2 + 1))
    Aa[1, 0], Aa[n - 2, 0] = np.pi, -np.pi  # partners: link 1->2 and link 6->7
    Aa[0, -1], Aa[n - 1, -1] = -np.pi, np.pi
    out = tr_symmetric_edges(Aa)
    half = np.arange(n // 2)
    for j in (0, -1):
        assert np.array_equal(out[n - 1 - half, j], out[half, j])
    assert np.array_equal(out[:, 1:-1], Aa[:, 1:-1])  # interior links untouched
    assert out[n - 2, 0] == np.pi and out[n - 1, -1] == -np.pi
