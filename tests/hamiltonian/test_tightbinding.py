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
    assert hermiticity_error(tb.R, H) == pytest.approx(0.25)
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


@pytest.mark.parametrize("cutoff", [0.0, 1e-2])
def test_spin_independent_overlap_is_detected_and_solved_at_half_size(tb, cutoff):
    """S = S_s (x) I2 is found exactly and gives the bands of the full S(k); an overlap
    with a spin-dependent entry is left to the full solver."""
    from hts_z2.hamiltonian.bloch import orthogonalized_eigh
    from hts_z2.hamiltonian.soc import spinful_blocks

    rng = np.random.default_rng(4)
    n = tb.n_bands // 2
    A = 0.05 * rng.normal(size=(n, n))
    S0 = np.zeros((len(tb.R), n, n))
    S0[tb.onsite_index()] = np.eye(n) + A + A.T
    model = tb.replace(S=spinful_blocks(S0), overlap_cutoff=cutoff)
    np.testing.assert_array_equal(model.spatial_overlap, S0)
    k = rng.random((6, 3))
    E_full = orthogonalized_eigh(model.hk(k), model.sk(k), k, vectors=False, overlap_cutoff=cutoff)[
        0
    ]
    np.testing.assert_allclose(model.eigh(k)[0], E_full, atol=1e-12)
    S = model.S.copy()
    S[tb.onsite_index(), 0, 3] += 0.01
    S[tb.onsite_index(), 3, 0] += 0.01
    other = model.replace(S=S)
    assert other.spatial_overlap is None
    E_other = orthogonalized_eigh(
        other.hk(k), other.sk(k), k, vectors=False, overlap_cutoff=cutoff
    )[0]
    np.testing.assert_allclose(other.eigh(k)[0], E_other, atol=1e-12)
    assert np.abs(E_other - E_full).max() > 1e-4


def test_sub_basis_of_a_direct_sum_is_the_kept_summand(tb):
    """Two uncoupled copies, the second 100 eV up: keeping the first copy's orbitals
    returns its H, S and bands exactly, with both spins of each orbital."""
    from scipy.linalg import block_diag

    from hts_z2.hamiltonian.soc import spinful_blocks

    rng = np.random.default_rng(7)
    n = tb.n_bands // 2
    A = 0.05 * rng.normal(size=(n, n))
    S0 = np.zeros((len(tb.R), n, n))
    S0[tb.onsite_index()] = np.eye(n) + A + A.T
    first = tb.replace(S=spinful_blocks(S0))
    up = first.shifted(100.0)
    # spinful index 2*mu + sigma: the first copy's orbitals are 0..n-1 of the 2n
    H = np.stack([block_diag(a, b) for a, b in zip(first.H, up.H, strict=True)])
    S = np.stack([block_diag(a, b) for a, b in zip(first.S, up.S, strict=True)])
    both = first.replace(H=H, S=S)
    kept = both.sub_basis(np.arange(n), orbitals=None)
    np.testing.assert_array_equal(kept.H, first.H)
    np.testing.assert_array_equal(kept.S, first.S)
    k = rng.random((4, 3))
    np.testing.assert_allclose(kept.eigh(k)[0], first.eigh(k)[0], atol=1e-12)
    np.testing.assert_allclose(both.eigh(k)[0][:, : 2 * n], first.eigh(k)[0], atol=1e-9)
    assert kept.n_occ == first.n_occ
    spinless = first.replace(H=first.H[:, ::2, ::2], S=S0, spinful=False, n_occ=1)
    swapped = spinless.sub_basis(np.array([1, 0]), orbitals=None)  # spinless rows as given
    np.testing.assert_array_equal(swapped.H[:, 0, 1], spinless.H[:, 1, 0])
    np.testing.assert_allclose(swapped.eigh(k)[0], spinless.eigh(k)[0], atol=1e-12)
