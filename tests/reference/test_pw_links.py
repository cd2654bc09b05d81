"""PAW spinor link matrices and Wilson loops: the plane-wave path reproduces the project's
tight-binding Wilson loops when the "pseudo" and "augmentation" parts are a split basis."""

import numpy as np
import pytest

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.reference.planewave.links import atom_phases, link_matrix, loop_wcc
from hts_z2.topology.wilson import wcc


def loop_states(tb, kb, n=16):
    k = np.zeros((n, 3))
    k[:, 0] = np.arange(n) / n
    k[:, 1] = kb
    _, Y = tb.eigh(k, vectors=True)
    return Y[..., : tb.n_occ]  # [n, 2N, n_occ]


@pytest.mark.parametrize("tb", [wilson_dirac(2.0), fu_kane_mele(0.4)])
def test_plain_links_match_tight_binding_wcc(tb):
    for kb in (0.0, 0.2, 0.5):
        Y = loop_states(tb, kb)
        N = Y.shape[1] // 2
        links = [
            link_matrix(np.eye(N), Y[i].T, Y[(i + 1) % len(Y)].T, [], [], [], [])
            for i in range(len(Y))
        ]
        x, smallest = loop_wcc(links)
        assert np.allclose(x, wcc(Y[:, None])[0], atol=1e-10)
        assert 0 < smallest <= 1


def test_augmentation_part_completes_the_pseudo_part():
    """Orbital 0 moved from the pseudo overlap into a one-projector 'atom' gives the same
    links: the projection layout [m, spin, i] and dO enter as the pseudo part would."""
    tb = fu_kane_mele(0.4)
    Y = loop_states(tb, 0.3, n=8)
    N = Y.shape[1] // 2
    pseudo = np.eye(N)
    pseudo[0, 0] = 0.0
    for i in range(len(Y)):
        v1, v2 = Y[i].T, Y[(i + 1) % len(Y)].T
        proj1 = [v1[:, 0:2][:, :, None]]  # orbital 0, both spins: [m, 2, 1]
        proj2 = [v2[:, 0:2][:, :, None]]
        split = link_matrix(pseudo, v1, v2, proj1, proj2, [np.eye(1)], np.ones(1))
        full = link_matrix(np.eye(N), v1, v2, [], [], [], [])
        assert np.allclose(split, full, atol=1e-12)


def test_atom_phases():
    b = np.array([0.5, 0.0, 0.0])
    positions = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.5, 0.0, 0.0]])
    assert np.allclose(atom_phases(b, positions), [1.0, -1j, 1j])
