"""A small random network for model tests (float64, seeded)."""

from __future__ import annotations

import torch

from hts_z2.model.config import ModelConfig
from hts_z2.model.network import HamiltonianNet

BASIS = {83: (0, 1, 0, 1, 2), 34: (0, 1, 0, 1, 2), 78: (0, 2, 0, 2, 1)}
VALENCE = {83: 15, 34: 6, 78: 10}


def small_config(**kw) -> ModelConfig:
    args = dict(basis=BASIS, valence=VALENCE, r_cut=6.0, r_mp=4.5, channels=8, n_layers=2)
    args.update(kw)
    return ModelConfig(**args)


def random_net(cfg: ModelConfig | None = None, seed: int = 0) -> HamiltonianNet:
    """float64 network with O(1) random weights and references (so blocks are not tiny)."""
    torch.manual_seed(seed)
    net = HamiltonianNet(cfg or small_config()).double()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.5)
        n = net.layout.n_pad
        for e in range(len(net.cfg.elements)):
            per_slot = -3 + 2 * torch.rand(len(net.layout.slot_l), dtype=torch.float64)
            d = torch.repeat_interleave(
                per_slot, torch.tensor([2 * l + 1 for l in net.layout.slot_l])
            )
            net.onsite_h_ref[e] = torch.diag(d)  # isotropic: one value per shell slot
            net.onsite_s_ref[e] = torch.eye(n, dtype=torch.float64)
    return net
