"""Fixtures of the model tests."""

from __future__ import annotations

import numpy as np
import pytest
from netfixtures import random_net

from hts_z2.model.network import HamiltonianNet


@pytest.fixture
def net() -> HamiltonianNet:
    return random_net()


@pytest.fixture
def crystal() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triclinic 4-atom cell (Bi, Se, Pt, Bi): 46 valence electrons."""
    lattice = np.array([[4.6, 0.3, 0.0], [0.2, 4.9, 0.3], [0.1, 0.2, 5.4]])
    positions = np.array(
        [[0.0, 0.0, 0.0], [0.31, 0.42, 0.47], [0.66, 0.18, 0.74], [0.12, 0.71, 0.33]]
    )
    return lattice, positions, np.array([83, 34, 78, 83])
