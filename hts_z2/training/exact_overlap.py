"""Exact overlaps of training structures for models whose S comes from the basis.

Evaluation and calibration of such a model must see the S that inference will use: the
full-range overlap of :class:`~hts_z2.hamiltonian.overlap.OverlapCalculator`, not the
network's S head nor the reference S truncated at the graph cutoff.
"""

from __future__ import annotations

import math

import torch

from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.training.data import TrainingItem
from hts_z2.training.losses import spinful_matrices


def item_overlap(calc: OverlapCalculator, item: TrainingItem):
    """(R [n_R, 3], S [n_R, n, n]) of the item's structure over its solved orbitals."""
    g = item.graph
    R, S = calc.overlap(g.lattice, g.positions, g.numbers)
    if item.orbital_index is not None:
        S = S[:, item.orbital_index][:, :, item.orbital_index]
    return R, S


def exact_overlap_k(calc: OverlapCalculator, item: TrainingItem, k: torch.Tensor) -> torch.Tensor:
    """Spinful ``S(k) (x) 1`` [n_k, 2n, 2n] complex128 of one structure at reduced ``k``."""
    R, S = item_overlap(calc, item)
    phase = torch.exp(2j * math.pi * (k.double() @ torch.from_numpy(R).double().T))
    sk = torch.einsum("kr,rmn->kmn", phase, torch.from_numpy(S).to(phase.dtype))
    eye = torch.eye(2, dtype=sk.dtype)
    n = item.n_orbitals
    return torch.einsum("kmn,st->kmsnt", sk, eye).reshape(k.shape[0], 2 * n, 2 * n)


def exact_overlap_values(calc: OverlapCalculator, item: TrainingItem) -> torch.Tensor:
    """Exact S at the item's target positions (on-site values, then edge values) [n_vals],
    comparable with ``cat([item.on_s, item.edge_s])``."""
    g = item.graph
    R, S = item_overlap(calc, item)
    index = {tuple(r): i for i, r in enumerate(R.tolist())}
    S = torch.from_numpy(S)
    on = S[index[(0, 0, 0)]][item.on_rc[0], item.on_rc[1]]
    edge_R = g.edge_R[item.edge_of_value.numpy()]
    r_idx = torch.tensor([index.get(tuple(r), -1) for r in edge_R.tolist()], dtype=torch.long)
    edge = torch.where(
        r_idx >= 0, S[r_idx.clamp(min=0), item.edge_rc[0], item.edge_rc[1]], torch.zeros(())
    )
    return torch.cat([on, edge]).double()


def model_matrices(
    vals: dict[str, torch.Tensor],
    item: TrainingItem,
    k: torch.Tensor,
    overlap: OverlapCalculator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spinful ``H(k)``, ``S(k)`` [n_k, 2n, 2n] as the model's inference builds them: H from
    the values, S from ``overlap`` when given, else from the values' ``s``."""
    Hk, Sk = spinful_matrices(vals, item, k)
    return Hk, (Sk if overlap is None else exact_overlap_k(overlap, item, k))
