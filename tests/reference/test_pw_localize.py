"""Maximal localization: finite-difference neighbours, and known answers on a lattice model
whose Bloch states and overlaps are exact (tight-binding orbitals as point functions)."""

import numpy as np
import pytest
from test_pw_projected import extended_fkm, states_and_projections

from hts_z2.reference.planewave.localize import (
    bvectors,
    localize,
    neighbour_table,
    rotate,
    spread,
)
from hts_z2.reference.planewave.projected import grid_kpoints, projected_hamiltonian

LATTICES = {
    "fcc": 3.2 * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]]),
    "bcc": 1.6 * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]]),
    "hexagonal": np.array([[3.0, 0, 0], [-1.5, 2.598, 0], [0, 0, 5.0]]),
    "rhombohedral": np.array([[2.07, 1.19, 9.55], [-2.07, 1.19, 9.55], [0, -2.39, 9.55]]),
    "triclinic": np.array([[4.0, 0.0, 0.0], [1.3, 3.7, 0.0], [0.7, -0.9, 4.4]]),
}


@pytest.mark.parametrize("name", sorted(LATTICES))
def test_neighbours_satisfy_the_completeness_relation(name):
    lattice, grid = LATTICES[name], (6, 5, 4)
    steps, w = bvectors(lattice, grid)
    b = (steps / np.array(grid)) @ (2 * np.pi * np.linalg.inv(lattice).T)
    np.testing.assert_allclose(np.einsum("b,ba,bc->ac", w, b, b), np.eye(3), atol=1e-10)
    assert {tuple(s) for s in steps} == {tuple(-s) for s in steps}  # closed under -b
    index, G = neighbour_table(grid, steps)
    k = grid_kpoints(grid)
    np.testing.assert_allclose(k[:, None] + steps / np.array(grid), k[index] + G, atol=1e-12)


def overlaps(R, H, positions, grid):
    """Projected gauge of the extended FKM model on a grid: its H(k), and the overlaps
    ``<u_k|u_k+b>`` of the basis (point orbitals: phase ``e^{-i b.tau}`` per orbital)."""
    k = grid_kpoints(grid)
    E, A, V = states_and_projections(R, H, k, vectors=True)
    C = np.array([projected_hamiltonian(e, a, 1.0, sigma=0.5, coefficients=True)[2]
                  for e, a in zip(E, A, strict=True)])
    X = V @ C  # [n_k, 8 orbitals, 4 basis functions]
    tau = np.repeat(np.concatenate([positions, positions]), 2, axis=0)  # 8 spin-orbitals
    return k, X, tau


def test_localization_undoes_a_scrambled_gauge_and_keeps_the_invariant_part():
    fkm, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    grid = (6, 6, 6)
    k, X, tau = overlaps(R, H, fkm.positions, grid)
    steps, w = bvectors(fkm.lattice, grid)
    index, _ = neighbour_table(grid, steps)
    phase = np.exp(-2j * np.pi * (steps / np.array(grid)) @ tau.T)  # [n_b, 8]
    M0 = np.einsum("kam,ba,kban->kbmn", X.conj(), phase, X[index])
    bcart = (steps / np.array(grid)) @ (2 * np.pi * np.linalg.inv(fkm.lattice).T)
    projected = spread(M0, bcart, w)
    # a smooth gauge change: exp(i X(k)) with X(k) a Hermitian Fourier series
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4, 4, 4)) + 1j * rng.normal(size=(4, 4, 4))
    X = 0.5 * (X + X.conj().swapaxes(1, 2))
    c = np.stack([np.ones(len(k)), *np.cos(2 * np.pi * k.T)], 1)  # [n_k, 4]
    e, v = np.linalg.eigh(np.einsum("kt,tmn->kmn", c, X))
    Q = (v * np.exp(1j * e)[:, None, :]) @ v.conj().swapaxes(1, 2)
    scrambled = rotate(M0, Q, index)
    bad = spread(scrambled, bcart, w)
    assert bad.total > 2 * projected.total
    assert bad.invariant == pytest.approx(projected.invariant, rel=1e-10)
    U, before, after = localize(scrambled, bcart, w, index, iterations=2000)
    assert before.total == pytest.approx(bad.total)
    assert after.total <= projected.total * 1.02, (projected.total, after.total)
    assert after.invariant == pytest.approx(projected.invariant, rel=1e-8)
    np.testing.assert_allclose(U.conj().swapaxes(1, 2) @ U, np.broadcast_to(np.eye(4), U.shape),
                               atol=1e-10)
    # starting from the projected gauge, the spread can only go down
    _, _, again = localize(M0, bcart, w, index, iterations=200)
    assert again.total <= projected.total + 1e-12
