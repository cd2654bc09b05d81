import numpy as np
import pytest

from hts_z2.hamiltonian import TightBinding, TightBindingError
from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError
from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.hamiltonian.tightbinding import hermiticity_error


@pytest.fixture
def tb():
    return wilson_dirac(-2.0)


def test_valid_model(tb):
    assert tb.n_bands == 4
    assert tb.n_occ == 2
    assert np.allclose(tb.lattice @ tb.reciprocal_lattice.T, 2 * np.pi * np.eye(3))
    assert tb.time_reversal_error() < 1e-14


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_occ": 3}, "even"),
        ({"n_occ": 4}, "0 < n_occ < 4"),
        ({"n_occ": 0}, "0 < n_occ"),
        ({"n_occ": 2.5}, "integer"),
        ({"lattice": np.eye(2)}, r"\[3, 3\]"),
        ({"lattice": np.zeros((3, 3))}, "linearly dependent"),
    ],
)
def test_bad_parameters(tb, change, message):
    with pytest.raises(TightBindingError, match=message):
        tb.replace(**change)


def test_non_hermitian(tb):
    H = tb.H.copy()
    H[0, 0, 1] += 0.1
    with pytest.raises(TightBindingError, match="not Hermitian"):
        tb.replace(H=H)


@pytest.mark.parametrize("which", ["R", "-R"])
def test_non_hermitian_hopping_names_the_error(tb, which):
    """A mismatch between H(R) and H(-R)^H is found whichever of the pair is perturbed."""
    R = tb.R.tolist()
    r = next(i for i, v in enumerate(R) if any(v))
    m = R.index([-x for x in R[r]])
    H = tb.H.copy()
    H[r if which == "R" else m, 1, 2] += 0.25j
    assert hermiticity_error(H, tb._minus) == pytest.approx(0.25)
    with pytest.raises(TightBindingError, match=r"max \|H\(-R\) - H\(R\)\^H\| = 2.500e-01"):
        tb.replace(H=H)


def test_nan(tb):
    H = tb.H.copy()
    H[1, 0, 0] = np.nan
    with pytest.raises(TightBindingError, match="NaN"):
        tb.replace(H=H)


def test_wrong_shapes(tb):
    with pytest.raises(TightBindingError, match="shape"):
        tb.replace(H=tb.H[:, :3])
    with pytest.raises(TightBindingError, match="shape"):
        tb.replace(R=tb.R[:, :2])
    with pytest.raises(TightBindingError, match=r"S has shape|S must have"):
        tb.replace(S=np.zeros((len(tb.R), 2, 2)))


def test_missing_onsite_and_minus_r(tb):
    keep = ~np.all(tb.R == 0, axis=1)
    with pytest.raises(TightBindingError, match=r"\(0, 0, 0\)"):
        tb.replace(R=tb.R[keep], H=tb.H[keep])
    first = np.flatnonzero(tb.R[:, 0] == 1)[0]
    keep = np.arange(len(tb.R)) != first
    with pytest.raises(TightBindingError, match="closed under"):
        tb.replace(R=tb.R[keep], H=tb.H[keep])


def test_duplicate_and_noninteger_r(tb):
    R = tb.R.astype(float)
    R[0, 0] += 0.5
    with pytest.raises(TightBindingError, match="integer"):
        tb.replace(R=R)
    R = np.concatenate([tb.R, tb.R[:1]])
    H = np.concatenate([tb.H, tb.H[:1]])
    with pytest.raises(TightBindingError, match="duplicate"):
        tb.replace(R=R, H=H)


def test_odd_spinful_dimension():
    R = np.zeros((1, 3), dtype=int)
    with pytest.raises(TightBindingError, match="even dimension"):
        TightBinding(np.eye(3), R, np.diag([0.0, 1.0, 2.0])[None], n_occ=2)
    tb = TightBinding(np.eye(3), R, np.diag([0.0, 1.0, 2.0])[None], n_occ=1, spinful=False)
    with pytest.raises(TightBindingError, match="spinful"):
        tb.time_reversal_error()


def test_overlap_not_positive_definite_names_k(tb):
    S = np.zeros_like(tb.H)
    S[tb.onsite_index()] = np.eye(4)
    ex = np.flatnonzero((tb.R == [1, 0, 0]).all(axis=1))[0]
    mx = np.flatnonzero((tb.R == [-1, 0, 0]).all(axis=1))[0]
    S[ex] = S[mx] = 0.6 * np.eye(4)  # S(k) = 1 + 1.2 cos(2 pi k1): negative at k1 = 1/2
    with pytest.raises(OverlapNotPositiveDefiniteError, match=r"k = \[0.5"):
        tb.replace(S=S)


def test_shifted_moves_all_bands(tb):
    k = np.random.default_rng(0).random((5, 3))
    E0, _ = tb.eigh(k)
    E1, _ = tb.shifted(0.7).eigh(k)
    assert np.allclose(E1, E0 + 0.7)
