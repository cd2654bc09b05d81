"""Fu–Kane parity from plane-wave coefficients: known answers.

- synthetic plane-wave states of definite parity about an arbitrary inversion centre,
  mixed into a non-orthogonal basis: the generalized eigenproblem returns exactly +-1;
- the Wilson–Dirac model (inversion = tau_z) in every phase: the eight Fu–Kane products
  give the same six plane indices as the FHS method.
"""

import itertools

import numpy as np
import pytest

from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.reference.planewave.parity import (
    TRIM,
    inversion_energy,
    inversion_partner_index,
    parity_matrices,
    planes_from_deltas,
    spinor_matrix,
    subspace_parities,
    trim_parity,
)
from hts_z2.topology import z2_invariants


def sphere(k, radius=2.6):
    """Integer G with |k + G| <= radius (fractional metric): closed under inversion."""
    rng = range(-4, 5)
    m = np.array([g for g in itertools.product(rng, rng, rng)
                  if np.linalg.norm(np.array(g) + k) <= radius])
    return m


def definite_parity_states(k, t, n_even, n_odd, seed=0):
    """Random coefficients projected on even / odd states of r -> -r + t."""
    rng = np.random.default_rng(seed)
    miller = sphere(k)
    partner = inversion_partner_index(miller, k)
    phase = np.exp(2j * np.pi * ((miller + k) @ t))
    states = []
    for sign, count in ((1, n_even), (-1, n_odd)):
        for _ in range(count):
            c = rng.normal(size=len(miller)) + 1j * rng.normal(size=len(miller))
            image = np.zeros_like(c)
            image[partner] = c * phase  # coefficient of P psi at -(k + G)
            states.append(c + sign * image)
    return np.array(states), miller


@pytest.mark.parametrize("k", [TRIM[0], TRIM[3], TRIM[7], TRIM[4]])
@pytest.mark.parametrize("t", [np.zeros(3), np.array([0.5, 0.0, 0.25]), np.array([0.1, 0.3, 0.7])])
def test_synthetic_parities_are_exact(k, t):
    c, miller = definite_parity_states(k, t, n_even=3, n_odd=5)
    mix = np.random.default_rng(1).normal(size=(8, 8)) + 1j * np.random.default_rng(2).normal(
        size=(8, 8)
    )
    P, S = parity_matrices(mix @ c, miller, k, t)
    assert np.allclose(P, P.conj().T, atol=1e-9)
    lam = subspace_parities(P, S)
    assert np.allclose(lam, [-1] * 5 + [1] * 3, atol=1e-9)


def test_partner_index_refuses_non_trim_and_open_basis():
    with pytest.raises(ValueError, match="not a time-reversal"):
        inversion_partner_index(np.zeros((1, 3), int), np.array([0.25, 0, 0]))
    with pytest.raises(ValueError, match="not closed"):
        inversion_partner_index(np.array([[0, 0, 0], [1, 0, 0]]), np.zeros(3))


def test_planes_from_deltas_known_cases():
    bi2se3 = np.array([1, -1, -1, -1, -1, -1, -1, -1])  # inverted at Gamma only
    assert planes_from_deltas(bi2se3) == (1, 0, 1, 0, 1, 0)
    assert planes_from_deltas(np.ones(8, int)) == (0,) * 6
    plane = np.array([1, -1, 1, -1, 1, -1, 1, -1])  # four inversions on k3 = 1/2 cancel
    assert planes_from_deltas(plane) == (0, 0, 0, 0, 0, 0)
    weak = np.array([-1, -1, 1, 1, 1, 1, 1, 1])  # inverted at (000) and (00h): (0;001)
    assert planes_from_deltas(weak) == (0, 0, 0, 0, 1, 1)
    single = np.ones(8, int)
    single[7] = -1  # inverted at (1/2,1/2,1/2) only
    assert planes_from_deltas(single) == (0, 1, 0, 1, 0, 1)
    with pytest.raises(ValueError):
        planes_from_deltas(np.array([1, 0, 1, 1, 1, 1, 1, 1]))


@pytest.mark.parametrize("m", [2.0, 0.0, -2.0, 4.0, -4.0])
def test_wilson_dirac_parity_agrees_with_fhs(m):
    """tau_z is the inversion of the Wilson–Dirac model (G_0 even, G_i odd)."""
    tb = wilson_dirac(m)
    tau_z = np.diag([1.0, -1.0]).astype(complex)
    parities = []
    for k in TRIM:
        E, Y = tb.eigh(k[None], vectors=True)
        v = Y[0].T  # rows = states over (orbital, spin) = scalar band x spin
        P, S = spinor_matrix(tau_z, v), spinor_matrix(np.eye(2), v)
        parities.append(trim_parity(P, S, E[0], tb.n_occ, k))
    assert all(p.deviation < 1e-12 and p.n_odd % 2 == 0 for p in parities)
    planes = planes_from_deltas(np.array([p.delta for p in parities]))
    assert planes == tuple(z2_invariants(tb).planes)


def test_inversion_energy_is_the_smallest_flippable_gap():
    tb = wilson_dirac(2.5)  # STI: band inversion at one TRIM
    tau_z = np.diag([1.0, -1.0]).astype(complex)
    parities = []
    for k in TRIM:
        E, Y = tb.eigh(k[None], vectors=True)
        v = Y[0].T
        parities.append(trim_parity(spinor_matrix(tau_z, v), spinor_matrix(np.eye(2), v),
                                    E[0], tb.n_occ, k))
    flips = [p.direct_gap for p in parities if p.flippable]
    assert flips  # two-band model: every TRIM has frontier levels of opposite parity
    assert inversion_energy(parities) == pytest.approx(min(flips))
    # at k = 0 the gap is 2 |m + 3| = 11
    assert parities[0].direct_gap == pytest.approx(2 * abs(2.5 + 3.0))
