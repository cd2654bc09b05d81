import numpy as np
import pytest
from toy_model import toy_sample

from hts_z2.hamiltonian.orthogonalize import lowdin_orthogonalized, odd_grid


def nonorthogonal_model():
    return toy_sample().tight_binding()


def test_loewdin_model_has_the_same_bands_on_its_grid():
    tb = nonorthogonal_model()
    orth = lowdin_orthogonalized(tb, (5, 5, 5))
    assert orth.S is None
    axes = [np.arange(5) / 5] * 3
    k = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)[::7]
    np.testing.assert_allclose(orth.eigh(k)[0], tb.eigh(k)[0], atol=1e-10)
    assert orth.time_reversal_error() < 1e-10
    assert lowdin_orthogonalized(orth) is orth


def test_grid_must_be_odd():
    tb = nonorthogonal_model()
    assert all(n % 2 == 1 for n in odd_grid(tb))
    with pytest.raises(ValueError, match="odd"):
        lowdin_orthogonalized(tb, (4, 5, 5))
