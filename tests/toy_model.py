"""A random TR-symmetric model in an atomic-like basis (Bi + Se shells, PD overlap)."""

import numpy as np

from hts_z2.hamiltonian import orbital_table
from hts_z2.hamiltonian.soc import assemble_soc
from hts_z2.reference.convert import components_from_spinful

SHELLS = ((0, 1), (0, 1, 2))
R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1]])
PAIRS = ((1, 2), (3, 4))


def _pair_symmetric(rng, n, scale):
    M = np.zeros((len(R), n, n))
    M[0] = rng.normal(size=(n, n)) * scale
    M[0] = M[0] + M[0].T
    for (a, b), weak in zip(PAIRS, (1.0, 0.05), strict=True):
        M[a] = rng.normal(size=(n, n)) * scale * weak  # hoppings along c are weak
        M[b] = M[a].T
    return M


def toy_dense():
    """(lattice, positions, numbers, H0, S, B, xi) of the toy model."""
    rng = np.random.default_rng(5)
    orbitals = orbital_table(SHELLS)
    n = len(orbitals)
    H0 = _pair_symmetric(rng, n, 0.5)
    S = _pair_symmetric(rng, n, 0.04)
    S[0] += np.eye(n) * 1.0
    xi = _pair_symmetric(rng, 5, 0.2)
    H = assemble_soc(H0, xi, orbitals)
    H0b, B, _ = components_from_spinful(H)
    lattice = np.diag([3.0, 3.5, 4.0])
    positions = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.4]])
    numbers = np.array([83, 34])
    return lattice, positions, numbers, H0b, S, B, xi


def toy_sample(sample_id="toy/1", prune=None, n_electrons=6, meta=None):
    """The toy model as a ReferenceSample (unpruned unless ``prune`` is given)."""
    from hts_z2.reference.convert import PruneSettings, make_sample

    lattice, positions, numbers, H0, S, B, _ = toy_dense()
    return make_sample(
        sample_id,
        lattice,
        positions,
        numbers,
        SHELLS,
        R,
        H0,
        S,
        B,
        n_electrons,
        prune or PruneSettings(h_tol=0, s_tol=0),
        meta,
    )
