"""Rotations, inversion, translations, permutations and lattice-basis changes transform
predicted blocks exactly; band energies are invariant; H is Hermitian and TR-symmetric."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import block_diag
from scipy.spatial.transform import Rotation

from hts_z2.hamiltonian.angular import wigner_d
from hts_z2.hamiltonian.soc import spin_rotation
from hts_z2.model.graph import batch_graphs, build_graph
from hts_z2.model.predictor import to_tight_binding


def run(net, lattice, positions, numbers):
    g = build_graph(lattice, positions, numbers, net.cfg.r_cut)
    with torch.no_grad():
        out = net(batch_graphs([g]))
    return g, {k: v.numpy() for k, v in out.items()}


def by_key(g, out, name):
    return {
        (int(i), int(j), *map(int, R)): out[name][e]
        for e, ((i, j), R) in enumerate(zip(g.edge_index, g.edge_R, strict=True))
    }


def pad_wigner(net, rotvec):
    return block_diag(*[wigner_d(l, rotvec) for l in net.layout.slot_l])


@pytest.mark.parametrize("rotvec", [[0.3, -1.1, 0.7], [2.0, 0.1, -0.4]])
def test_rotation_transforms_blocks_with_wigner_d(net, crystal, rotvec):
    lattice, pos, num = crystal
    Q = Rotation.from_rotvec(rotvec).as_matrix()
    _, o1 = run(net, lattice, pos, num)
    _, o2 = run(net, lattice @ Q.T, pos, num)
    D = pad_wigner(net, rotvec)
    assert np.abs(o1["edge_h"]).max() > 1e-3
    for key in ("onsite_h", "onsite_s", "edge_h", "edge_s"):
        np.testing.assert_allclose(D @ o1[key] @ D.T, o2[key], atol=1e-10)
    for key in ("onsite_soc", "edge_soc"):
        # B_v transforms as a vector (the spin part) and with D on both orbital sides
        rotated = np.einsum("uv,pq,evqr,sr->eups", Q, D, o1[key], D)
        np.testing.assert_allclose(rotated, o2[key], atol=1e-8)
    np.testing.assert_allclose(o1["edge_xi"], o2["edge_xi"], atol=1e-12)


def test_inversion_multiplies_blocks_by_orbital_parity(net, crystal):
    lattice, pos, num = crystal
    g1, o1 = run(net, lattice, pos, num)
    g2, o2 = run(net, lattice, -pos, num)
    parity = np.concatenate([[(-1) ** l] * (2 * l + 1) for l in net.layout.slot_l])
    a, b = by_key(g1, o1, "edge_h"), by_key(g2, o2, "edge_h")
    for (i, j, *R), blk in a.items():
        mirrored = b[(i, j, *(-np.array(R)))]
        np.testing.assert_allclose(parity[:, None] * blk * parity[None, :], mirrored, atol=1e-10)


def test_translation_permutation_and_basis_change(net, crystal):
    lattice, pos, num = crystal
    g1, o1 = run(net, lattice, pos, num)
    # translation and wrapping into the cell
    g2, o2 = run(net, lattice, (pos + np.array([0.37, -0.21, 0.55])) % 1.0, num)
    shift = np.floor(pos + np.array([0.37, -0.21, 0.55])).astype(int)
    a, b = by_key(g1, o1, "edge_h"), by_key(g2, o2, "edge_h")
    for (i, j, *R), blk in a.items():
        R2 = tuple(np.array(R) + shift[j] - shift[i])
        np.testing.assert_allclose(blk, b[(i, j, *R2)], atol=1e-10)
    # permutation of atoms
    perm = np.array([2, 0, 3, 1])
    inv = np.argsort(perm)
    g3, o3 = run(net, lattice, pos[perm], num[perm])
    c = by_key(g3, o3, "edge_h")
    for (i, j, *R), blk in a.items():
        np.testing.assert_allclose(blk, c[(int(inv[i]), int(inv[j]), *R)], atol=1e-10)
    np.testing.assert_allclose(o1["onsite_h"], o3["onsite_h"][inv], atol=1e-10)
    # another lattice basis of the same crystal: a1' = a1 + a2, a2' = a2, a3' = a3 - a1
    M = np.array([[1, 1, 0], [0, 1, 0], [-1, 0, 1]])
    lat2 = M @ lattice
    pos2 = pos @ np.linalg.inv(M)
    g4, o4 = run(net, lat2, pos2, num)
    tb1 = to_tight_binding(o1, g1, net.cfg, net)
    tb4 = to_tight_binding(o4, g4, net.cfg, net)
    k = np.random.default_rng(0).random((4, 3))
    k2 = k @ M.T  # the same physical k-points in the new reciprocal basis
    e1 = tb1.eigh(k)[0]
    e4 = tb4.eigh(k2)[0]
    np.testing.assert_allclose(e1, e4, atol=1e-8)


def test_predicted_model_is_hermitian_time_reversal_symmetric_and_rotation_invariant(net, crystal):
    lattice, pos, num = crystal
    g, out = run(net, lattice, pos, num)
    tb = to_tight_binding(out, g, net.cfg, net)
    k = np.random.default_rng(1).random((5, 3))
    Hk = tb.hk(k)
    np.testing.assert_allclose(Hk, np.swapaxes(Hk.conj(), 1, 2), atol=1e-12)
    assert tb.time_reversal_error() < 1e-10
    Q = Rotation.from_rotvec([0.4, 0.9, -0.3]).as_matrix()
    g2, out2 = run(net, lattice @ Q.T, pos, num)
    tb2 = to_tight_binding(out2, g2, net.cfg, net)
    np.testing.assert_allclose(tb.eigh(k)[0], tb2.eigh(k)[0], atol=1e-5)
    # SU(2): the SOC part is the xi L.sigma form, so a joint rotation of orbitals and spin
    # maps H(k) of the rotated crystal onto H(k) of the original one
    rotvec = np.array([0.4, 0.9, -0.3])
    U = np.kron(
        block_diag(
            *[
                block_diag(*[wigner_d(l, rotvec) for l in sh])
                for sh in [net.cfg.basis[int(z)] for z in num]
            ]
        ),
        spin_rotation(rotvec),
    )
    np.testing.assert_allclose(U @ tb.hk(k) @ U.conj().T, tb2.hk(k), atol=1e-9)
