import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hts_z2.hamiltonian.kpath import high_symmetry_path, trim_path

FCC = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0], [2.0, 2.0, 0.0]])


def _labelled(path):
    return {label: path.k[i] for i, label in path.labels}


@pytest.mark.parametrize("rotvec", [[0, 0, 0], [0.3, -0.5, 0.7], [1.2, 0.1, -2.0]])
def test_fcc_points_in_input_coordinates(rotvec):
    """Rotating the input cell must not change the reduced coordinates of the points."""
    Q = Rotation.from_rotvec(rotvec).as_matrix()
    points = _labelled(high_symmetry_path(FCC @ Q.T))
    assert np.allclose(points["Γ"], 0)
    # L and X of fcc are TRIM in the primitive reciprocal basis
    for name in ("L", "X"):
        assert np.allclose(2 * points[name], np.round(2 * points[name]), atol=1e-9)
        assert np.linalg.norm(points[name]) > 0.4


def test_path_length_monotonic_and_cartesian():
    path = high_symmetry_path(np.eye(3) * 4.0)
    assert np.all(np.diff(path.x) >= -1e-12)
    points = _labelled(path)
    assert np.allclose(points["R"], [0.5, 0.5, 0.5])
    assert np.allclose(points["X"], [0.0, 0.5, 0.0])


def test_trim_fallback():
    path = trim_path(np.eye(3))
    assert len(path.k) == 7 * 20
    assert np.allclose(path.k[-1], [0.5, 0.5, 0.5])


def test_rattled_orthogonal_cell_gets_a_path_without_seekpath_edge_warnings():
    """Rattled atoms in an orthogonal cell (a triclinic crystal with 90 degree angles, as
    the dataset's rattled variants are) are a seekpath edge case: the path still comes
    back, and seekpath's per-call warning is not passed on."""
    import warnings

    lattice = np.diag([4.0, 4.3, 6.0])
    positions = np.array([[0.0, 0.01, 0.0], [0.52, 0.49, 0.47], [0.23, 0.71, 0.3]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = high_symmetry_path(lattice, positions, np.array([82, 52, 34]))
    assert not [w for w in caught if "EdgeCase" in type(w.message).__name__]
    assert len(path.k) > 10 and path.labels[0][1] == "Γ"
