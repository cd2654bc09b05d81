"""A toy reference sample (random TR-symmetric Bi/Se-like model) for CLI tests."""

import numpy as np

from hts_z2.hamiltonian import orbital_table
from hts_z2.hamiltonian.soc import assemble_soc
from hts_z2.reference.convert import PruneSettings, components_from_spinful, make_sample

SHELLS = ((0, 1), (0, 1))
R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0]])


def toy_sample():
    rng = np.random.default_rng(3)
    orbitals = orbital_table(SHELLS)
    n = len(orbitals)
    H0 = np.zeros((3, n, n))
    H0[0] = rng.normal(size=(n, n))
    H0[0] += H0[0].T
    H0[1] = 0.3 * rng.normal(size=(n, n))
    H0[2] = H0[1].T
    S = np.zeros_like(H0)
    S[0] = np.eye(n)
    S[1] = 0.02 * rng.normal(size=(n, n))
    S[2] = S[1].T
    xi = np.zeros((3, 4, 4))
    xi[0, 1, 1], xi[0, 3, 3] = 0.8, 0.3
    H0b, B, _ = components_from_spinful(assemble_soc(H0, xi, orbitals))
    return make_sample(
        "toy",
        np.diag([4.0, 5.0, 6.0]),
        np.array([[0, 0, 0], [0.5, 0.5, 0.5]]),
        np.array([83, 34]),
        SHELLS,
        R,
        H0b,
        S,
        B,
        4,
        PruneSettings(h_tol=0, s_tol=0),
    )
