"""Projected quasi-atomic basis: known answers on lattice models whose states and atomic
projections are exact (the trial functions are orbitals of a larger model)."""

import numpy as np
import pytest

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.hamiltonian.lattice_models import fu_kane_mele
from hts_z2.reference.planewave.projected import (
    ProjectionError,
    fill_time_reversal,
    grid_kpoints,
    projected_hamiltonian,
    projected_model,
    representatives,
    time_reversal_partners,
    time_reversed,
    ws_images,
)
from hts_z2.topology.invariants import z2_invariants


def extended_fkm(coupling: float, onsite: float = 4.0, scale: float = -0.5, dt: float = 0.4):
    """Fu–Kane–Mele model (orbitals 0-3) plus one more orbital per site (4-7): a diamond
    s band without spin–orbit coupling (hopping ``scale``, bond 2 stretched), shifted by
    ``onsite`` and coupled on site by ``coupling``."""
    fkm = fu_kane_mele(dt)
    s_band = fu_kane_mele(-0.3, lam=0.0)
    R, H4 = fkm.R, fkm.H
    assert np.array_equal(R, s_band.R)
    H = np.zeros((len(R), 8, 8), dtype=np.complex128)
    H[:, :4, :4] = H4
    H[:, 4:, 4:] = scale * s_band.H
    zero = int(np.flatnonzero(np.all(R == 0, axis=1))[0])
    H[zero, 4:, 4:] += onsite * np.eye(4)
    H[zero, :4, 4:] = H[zero, 4:, :4] = coupling * np.eye(4)
    return fkm, R, H


def states_and_projections(R, H, k, vectors=False):
    """Bands of the large model at k and ``A = <psi | g>`` of its first four orbitals
    (and the states [n_k, 8, 8], columns, with ``vectors``)."""
    Hk = np.einsum("kr,rij->kij", np.exp(2j * np.pi * k @ R.T), H)
    E, V = np.linalg.eigh(Hk)
    A = V[:, :4, :].conj().transpose(0, 2, 1)  # A[k, n, m] = conj(V[k, m, n])
    return (E, A, V) if vectors else (E, A)


def projected_fkm(R, H, fkm, grid, frozen_top, sigma=2.0):
    k = grid_kpoints(grid)
    reps = representatives(grid)
    E, A = states_and_projections(R, H, k[reps])
    Hk = {int(i): projected_hamiltonian(e, a, frozen_top, sigma=sigma)[0]
          for i, e, a in zip(reps, E, A, strict=True)}
    return projected_model(fkm.lattice, fkm.positions, fkm.numbers, orbital_table([[0], [0]]), grid,
                           fill_time_reversal(Hk, grid), n_occ=2)


def bands_within(E_ref, E, top):
    sel = E_ref[:, :4] <= top
    return float(np.abs(E[:, :4] - E_ref[:, :4])[sel].max())


RANDOM_K = np.random.default_rng(3).random((12, 3))


def test_grid_bookkeeping():
    grid = (4, 3, 2)
    partner = time_reversal_partners(grid)
    assert np.array_equal(partner[partner], np.arange(24))
    k = grid_kpoints(grid)
    assert np.allclose(np.mod(k + k[partner] + 1e-12, 1.0), 0.0, atol=1e-9)
    reps = representatives(grid)
    # one of every pair: the grid's TRIM (k_i in {0, 1/2}; 1/2 is off the 3-point axis)
    # once, the rest in pairs
    trim = np.flatnonzero(partner == np.arange(24))
    assert np.allclose(2 * k[trim], np.round(2 * k[trim])) and len(trim) == 2 * 1 * 2
    assert len(reps) == 4 + (24 - 4) // 2
    assert set(reps) | set(partner[reps]) == set(range(24))


def test_ws_images_share_ties_and_pick_the_closest():
    lattice = 3.0 * np.eye(3)
    images = ws_images(lattice, np.zeros(3), np.array([0.5, 0.0, 0.0]), (2, 1, 1))
    # bond of half a cell along x, supercell of 2 cells: R = 0 gives +1.5 A (its image
    # R = -2 is 4.5 A away); R = 1 gives 4.5 A, its image R = -1 1.5 A
    (r0, w0), (r1, w1) = images
    assert r0.tolist() == [[0, 0, 0]] and w0.tolist() == [1.0]
    assert r1.tolist() == [[-1, 0, 0]] and w1.tolist() == [1.0]
    tie = ws_images(lattice, np.zeros(3), np.zeros(3), (2, 1, 1))[1]
    assert sorted(tie[0][:, 0].tolist()) == [-1, 1] and np.allclose(tie[1], 0.5)


def test_decoupled_orbitals_give_back_the_model_exactly():
    fkm, R, H = extended_fkm(coupling=0.0, onsite=20.0)
    tb = projected_fkm(R, H, fkm, (4, 4, 4), frozen_top=10.0)
    E_ref, _ = fkm.eigh(RANDOM_K)
    E, _ = tb.eigh(RANDOM_K)
    assert np.abs(E - E_ref).max() < 1e-10
    assert tb.S is None and tb.n_bands == 4
    assert z2_invariants(tb).label == "STI (1;111)"


def test_invariant_under_gauge_of_the_states():
    """Phases of the states and rotations inside the frozen subspace change nothing."""
    _, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    E, A = states_and_projections(R, H, RANDOM_K[:3])
    rng = np.random.default_rng(0)
    for e, a in zip(E, A, strict=True):
        ref, info = projected_hamiltonian(e, a, frozen_top=-0.5)
        assert info.n_frozen == 2 and info.min_singular > 0.1
        phases = np.exp(2j * np.pi * rng.random(len(e)))[:, None]
        q, _ = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))
        b = phases * a
        b[:2] = q.T @ b[:2]
        assert np.abs(projected_hamiltonian(e, b, frozen_top=-0.5)[0] - ref).max() < 1e-12


@pytest.mark.parametrize("sigma", [None, 2.0])
def test_entangled_bands_exact_on_the_grid_and_time_reversal_symmetric(sigma):
    fkm, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    grid = (4, 4, 4)
    top = -0.5
    tb = projected_fkm(R, H, fkm, grid, frozen_top=top, sigma=sigma)
    k = grid_kpoints(grid)
    E_ref, _ = states_and_projections(R, H, k)
    E, _ = tb.eigh(k)
    assert bands_within(E_ref, E, top) < 1e-10
    # H(R) = T H(R)^* T^H: time-reversal symmetric real space
    assert np.abs(tb.H - time_reversed(tb.H)).max() < 1e-12


def test_interpolation_converges_and_keeps_the_phase():
    """Frozen window cutting through the second band (0.66-1.09 eV), as in a crystal."""
    fkm, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    E_ref, _ = states_and_projections(R, H, RANDOM_K)
    top = 1.0
    errors = []
    for n in (4, 6, 8):
        tb = projected_fkm(R, H, fkm, (n, n, n), frozen_top=top, sigma=0.5)
        errors.append(bands_within(E_ref, tb.eigh(RANDOM_K)[0], top))
        assert z2_invariants(tb).label == "STI (1;111)"
    assert errors[2] < errors[0] / 4 and errors[2] < 0.01, errors  # 44, 15, 5 meV


def test_energy_weighting_keeps_the_basis_continuous_where_bands_leave_the_window():
    """Without weighting, the rest of the basis jumps where a band crosses the frozen top:
    the interpolation does not converge (0.3 eV on a 8x8x8 grid); with it, 5 meV."""
    fkm, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    E_ref, _ = states_and_projections(R, H, RANDOM_K)
    err = {}
    for sigma in (None, 0.5):
        tb = projected_fkm(R, H, fkm, (8, 8, 8), frozen_top=1.0, sigma=sigma)
        err[sigma] = bands_within(E_ref, tb.eigh(RANDOM_K)[0], 1.0)
    assert err[0.5] < 0.01 < 0.1 < err[None], err


def test_too_few_bands_or_a_lost_trial_function_is_an_error():
    E = np.arange(6.0)
    with pytest.raises(ProjectionError, match="cannot carry"):
        projected_hamiltonian(E[:3], np.ones((3, 4)), 1.0)
    A = np.ones((6, 4))
    A[:, 2] = 0.0
    with pytest.raises(ProjectionError, match="no weight"):
        projected_hamiltonian(E, A, 1.0)
