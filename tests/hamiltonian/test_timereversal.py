import numpy as np
import pytest

from hts_z2.hamiltonian.timereversal import (
    apply_theta,
    conjugate_by_theta,
    theta_matrix,
    time_reversal_error,
)


def test_blockwise_error_equals_the_dense_definition():
    """``max |T H* T^-1 - H|`` computed from spin blocks equals the matrix-product form."""
    rng = np.random.default_rng(11)
    H = rng.normal(size=(3, 6, 6)) + 1j * rng.normal(size=(3, 6, 6))
    dense = float(np.abs(conjugate_by_theta(H) - H).max())
    assert time_reversal_error(H) == pytest.approx(dense, rel=1e-14)
    symmetric = 0.5 * (H + conjugate_by_theta(H))
    assert time_reversal_error(symmetric) < 1e-15
    symmetric[1, 2, 5] += 0.125  # one broken entry of one block is found
    assert time_reversal_error(symmetric) == pytest.approx(0.125, rel=1e-12)
    symmetric[2, 0, 0] = np.nan
    assert np.isnan(time_reversal_error(symmetric))


def test_theta_squares_to_minus_one_and_odd_sizes_fail():
    T = theta_matrix(4)
    np.testing.assert_allclose(T @ T, -np.eye(4))
    Y = np.random.default_rng(0).normal(size=(4, 2)) + 0j
    np.testing.assert_allclose(apply_theta(apply_theta(Y)), -Y)
    with pytest.raises(ValueError, match="even"):
        time_reversal_error(np.zeros((1, 3, 3)))
