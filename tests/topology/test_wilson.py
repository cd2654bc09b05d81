"""Wilson-loop (WCC largest-gap) Z2: known phases and the pieces on hand-made WCCs."""

import numpy as np
import pytest
from models_helpers import KNOWN, assert_phase

from hts_z2.hamiltonian.lattice_models import fu_kane_mele
from hts_z2.topology import wilson_z2, z2_invariants
from hts_z2.topology.planes import PLANES, half_plane_grid, occupied_states
from hts_z2.topology.wilson import (
    largest_gap,
    unitary_part,
    wcc,
    wilson_loops,
    wilson_plane,
    z2_from_wcc,
)


def kramers_pairs(n_lines, centres, winds, amplitude=0.2):
    """Sorted WCCs [n_lines, 2 * len(centres)] on lines t = 0 .. 1/2.

    A pair centred at ``c`` either winds (``c +- t``: degenerate at ``c`` for t = 0 and at
    ``c + 1/2`` for t = 1/2) or returns (``c +- amplitude sin(2 pi t)``).
    """
    t = np.linspace(0.0, 0.5, n_lines)
    x = []
    for c, w in zip(centres, winds, strict=True):
        d = t if w else amplitude * np.sin(2 * np.pi * t)
        x += [c + d, c - d]
    return np.sort(np.mod(np.array(x).T, 1.0), axis=1)


def random_unitary(n, rng):
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_phases(name):
    factory, planes, label = KNOWN[name]
    res = wilson_z2(factory())
    assert res.method == "wilson"
    assert_phase(res, label, planes)
    assert res.planes == z2_invariants(factory()).planes


@pytest.mark.parametrize(
    ("x", "mid", "size"),
    [
        ([0.1, 0.2, 0.7], 0.45, 0.5),
        ([0.6, 0.7, 0.7], 0.15, 0.9),
        ([0.0, 0.0, 0.0], 0.5, 1.0),
        ([0.25, 0.5, 0.75], 0.0, 0.5),
        ([0.05, 0.95], 0.5, 0.9),
    ],
)
def test_largest_gap(x, mid, size):
    z, g = largest_gap(np.array([x]))
    assert z[0] == pytest.approx(mid, abs=1e-12) or z[0] == pytest.approx(mid + 1, abs=1e-12)
    assert g[0] == pytest.approx(size)


def test_largest_gap_rows_are_independent():
    x = np.array([[0.1, 0.2, 0.7], [0.6, 0.7, 0.7]])
    z, g = largest_gap(x)
    np.testing.assert_allclose(z, [0.45, 0.15])
    np.testing.assert_allclose(g, [0.5, 0.9])


@pytest.mark.parametrize(
    ("centres", "winds", "z2"),
    [
        ((0.0,), (1,), 1),
        ((0.3,), (1,), 1),
        ((0.0,), (0,), 0),
        ((0.7,), (0,), 0),
        ((0.0, 0.3), (1, 0), 1),
        ((0.0, 0.3), (1, 1), 0),
        ((0.0, 0.3), (0, 0), 0),
        ((0.1, 0.4, 0.8), (1, 1, 1), 1),
    ],
)
def test_z2_from_hand_made_wcc(centres, winds, z2):
    value, quality = z2_from_wcc(kramers_pairs(41, centres, winds))
    assert value == z2
    assert quality["ok"] is True
    assert quality["min_gap_distance"] >= 0.3


def test_z2_from_wcc_flags_too_few_lines():
    value, quality = z2_from_wcc(kramers_pairs(6, (0.0, 0.3), (1, 1)))
    assert quality["ok"] is False
    assert quality["min_gap_distance"] < 0.3
    assert value in (0, 1)


def test_unitary_part_is_unitary_and_keeps_unitaries():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(5, 3, 3)) + 1j * rng.normal(size=(5, 3, 3))
    U = unitary_part(M)
    np.testing.assert_allclose(
        U @ np.swapaxes(U.conj(), -1, -2), np.broadcast_to(np.eye(3), U.shape), atol=1e-12
    )
    V = np.array([random_unitary(3, rng) for _ in range(4)])
    np.testing.assert_allclose(unitary_part(V), V, atol=1e-12)


def test_wcc_of_constant_frames_is_zero():
    Y = np.broadcast_to(np.eye(4)[:, :2], (10, 3, 4, 2))
    np.testing.assert_allclose(wcc(Y), 0.0, atol=1e-12)
    W = wilson_loops(Y)
    np.testing.assert_allclose(W, np.broadcast_to(np.eye(2), W.shape), atol=1e-12)


@pytest.mark.parametrize("theta", [0.4, 1.3, 2.5])
def test_wcc_of_a_spin_half_loop_is_its_berry_phase(theta):
    """u(k) = (cos(theta/2), sin(theta/2) exp(2 pi i k)) has WCC sin^2(theta/2) (mod 1)."""
    n = 400
    k = np.arange(n) / n
    u = np.stack([np.full(n, np.cos(theta / 2)), np.sin(theta / 2) * np.exp(2j * np.pi * k)], -1)
    x = wcc(u[:, None, :, None])
    assert x.shape == (1, 1)
    assert x[0, 0] == pytest.approx(np.sin(theta / 2) ** 2, abs=1e-3)


@pytest.mark.parametrize("plane", range(6))
def test_wcc_are_gauge_invariant(plane):
    tb = fu_kane_mele(0.4)
    n = 16
    k = half_plane_grid(*PLANES[plane], n)
    _E, Y = occupied_states(tb, k.reshape(-1, 3))
    Y = Y.reshape(n, n // 2 + 1, tb.n_bands, tb.n_occ)
    rng = np.random.default_rng(plane)
    U = np.array([random_unitary(tb.n_occ, rng) for _ in range(n * (n // 2 + 1))])
    Yg = Y @ U.reshape(n, n // 2 + 1, tb.n_occ, tb.n_occ)
    d = np.abs(wcc(Yg) - wcc(Y))
    np.testing.assert_allclose(np.minimum(d, 1 - d), 0.0, atol=1e-10)
    assert wilson_plane(Yg)[0] == wilson_plane(Y)[0] == (0, 1, 0, 1, 0, 1)[plane]


def test_wcc_are_kramers_degenerate_on_tr_invariant_lines():
    tb = fu_kane_mele(0.4)
    n = 32
    k = half_plane_grid(0, 0.5, n)
    _E, Y = occupied_states(tb, k.reshape(-1, 3))
    x = wcc(Y.reshape(n, n // 2 + 1, tb.n_bands, tb.n_occ))
    for line in (x[0], x[-1]):
        d = abs(line[1] - line[0])
        assert min(d, 1 - d) < 1e-8
