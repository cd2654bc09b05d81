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
