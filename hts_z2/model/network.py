"""The equivariant network (HamGNN-V2 style): element embedding, Bessel radial basis with
a smooth cutoff, spherical harmonics of bond directions, orbital convolutions, and node
(on-site) / pair (off-site) heads mapped to orbital blocks by Clebsch–Gordan coupling.

e3nn's real harmonics equal this project's orbital order when vectors are given as
(y, z, x); every Cartesian vector is permuted that way before it enters e3nn.
"""

from __future__ import annotations

import math

import torch
from e3nn import o3
from e3nn.nn import FullyConnectedNet, Gate
from torch import nn

from hts_z2.model.config import ModelConfig
from hts_z2.model.graph import GraphBatch
from hts_z2.model.slots import SlotLayout

YZX = [1, 2, 0]


def bessel_basis(d: torch.Tensor, r_cut: float, n: int) -> torch.Tensor:
    """``sqrt(2/rc) sin(k pi d / rc) / d`` for k = 1..n: [E] -> [E, n]."""
    k = torch.arange(1, n + 1, dtype=d.dtype, device=d.device)
    x = d.unsqueeze(-1)
    return math.sqrt(2.0 / r_cut) * torch.sin(k * math.pi * x / r_cut) / x


def envelope(d: torch.Tensor, r_cut: float, p: int = 6) -> torch.Tensor:
    """Smooth polynomial cutoff: 1 at d=0, zero with two vanishing derivatives at r_cut."""
    x = (d / r_cut).clamp(max=1.0)
    e = (
        1
        - (p + 1) * (p + 2) / 2 * x**p
        + p * (p + 2) * x ** (p + 1)
        - p * (p + 1) / 2 * x ** (p + 2)
    )
    return e * (d < r_cut)


def hidden_irreps(channels: int, l_max: int) -> o3.Irreps:
    """``C x 0e`` plus both parities of ``1..l_max`` with fewer channels."""
    parts = [(channels, (0, 1))]
    for l in range(1, l_max + 1):
        mul = max(2, channels // (2 * l))
        parts += [(mul, (l, -1)), (mul, (l, 1))]
    return o3.Irreps(parts)


def path_tensor_product(
    irreps_in: o3.Irreps, irreps_sh: o3.Irreps, targets: o3.Irreps, mode: str
) -> tuple[o3.TensorProduct, o3.Irreps]:
    """Tensor product with per-edge weights.

    ``reduced`` (Eq. 8): "uvu" paths, one weight per path and input channel (the channel
    mixing W is a separate linear layer before it). ``full``: every input channel to every
    output channel of every path.
    """
    allowed = {ir for _, ir in targets}
    if mode == "full":
        out = o3.Irreps([(mul, ir) for mul, ir in targets])
        tp = o3.FullyConnectedTensorProduct(
            irreps_in, irreps_sh, out, shared_weights=False, internal_weights=False
        )
        return tp, out
    mids, instructions = [], []
    for i1, (mul, ir1) in enumerate(irreps_in):
        for i2, (_, ir2) in enumerate(irreps_sh):
            for ir in ir1 * ir2:
                if ir in allowed:
                    instructions.append((i1, i2, len(mids), "uvu", True))
                    mids.append((mul, ir))
    mid = o3.Irreps(mids)
    tp = o3.TensorProduct(
        irreps_in,
        irreps_sh,
        mid,
        instructions,
        shared_weights=False,
        internal_weights=False,
    )
    return tp, mid


class Interaction(nn.Module):
    """One orbital convolution: messages ``TP(W h_j, Y(r_ij); w(r_ij, z_i, z_j))`` summed
    over neighbours, gated nonlinearity, residual self-interaction."""

    def __init__(self, irreps_in: o3.Irreps, irreps_out: o3.Irreps, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.irreps_sh = o3.Irreps.spherical_harmonics(cfg.l_hidden)
        self.mix = o3.Linear(irreps_in, irreps_in)
        self.tp, mid = path_tensor_product(
            irreps_in, self.irreps_sh, irreps_out, cfg.tensor_product
        )
        c = cfg.channels
        self.radial = FullyConnectedNet(
            [cfg.n_radial + 2 * c, 64, self.tp.weight_numel], torch.nn.functional.silu
        )
        scalars = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l == 0])
        gated = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l > 0])
        self.gate = Gate(
            scalars,
            [torch.nn.functional.silu],
            o3.Irreps(f"{gated.num_irreps}x0e"),
            [torch.sigmoid],
            gated,
        )
        self.post = o3.Linear(mid, self.gate.irreps_in)
        self.self_connection = o3.Linear(irreps_in, irreps_out)

    def forward(
        self, h: torch.Tensor, scalars: torch.Tensor, edges: torch.Tensor, vec: torch.Tensor
    ) -> torch.Tensor:
        cfg = self.cfg
        d = vec.norm(dim=-1)
        i, j = edges[:, 0], edges[:, 1]
        Y = o3.spherical_harmonics(self.irreps_sh, vec[:, YZX], True, normalization="component")
        radial_in = torch.cat(
            [bessel_basis(d, cfg.r_mp, cfg.n_radial), scalars[i], scalars[j]], dim=-1
        )
        w = self.radial(radial_in) * envelope(d, cfg.r_mp).unsqueeze(-1)
        msg = self.tp(self.mix(h)[j], Y, w)
        agg = torch.zeros(h.shape[0], msg.shape[1], dtype=msg.dtype, device=msg.device)
        agg.index_add_(0, i, msg)
        agg = agg / math.sqrt(cfg.avg_neighbors)
        return self.self_connection(h) + self.gate(self.post(agg))


class HamiltonianNet(nn.Module):
    """Predicts on-site and off-site H0 and S blocks and SOC strengths ``xi``.

    Buffers ``onsite_h_ref`` / ``onsite_s_ref`` / ``onsite_xi_ref`` hold per-element
    isotropic reference values, ``scales`` the spread of what the heads must add and
    ``edge_decay`` the exponential decay with bond length of the off-site H0, S and SOC
    magnitudes (all set from training data), so raw head outputs stay of order one at
    every distance: a nearest-neighbour hopping is 10-100x the spread of all pair values.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.layout = SlotLayout.from_basis(cfg.basis)
        elements = cfg.elements
        z_index = torch.full((119,), -1, dtype=torch.long)
        z_index[list(elements)] = torch.arange(len(elements))
        self.register_buffer("z_index", z_index)
        n, n_xi = self.layout.n_pad, len(self.layout.xi_pairs)
        self.register_buffer("block_map", self.layout.block_map.float())
        self.register_buffer("xi_map", self.layout.xi_map.float())
        self.register_buffer("xi_t", self.layout.xi_transpose)
        self.register_buffer("onsite_h_ref", torch.zeros(len(elements), n, n))
        self.register_buffer("onsite_s_ref", torch.zeros(len(elements), n, n))
        self.register_buffer("onsite_xi_ref", torch.zeros(len(elements), n_xi))
        # output scales (on-site H0, S, xi corrections; off-site H0, S, xi), set from data
        self.register_buffer("scales", torch.ones(6))
        # off-site magnitudes ~ scale * exp(-decay * d) for H0, S, SOC (1/Angstrom)
        self.register_buffer("edge_decay", torch.zeros(3))
        c = cfg.channels
        self.embed = nn.Embedding(len(elements), c)
        hidden = hidden_irreps(c, cfg.l_hidden)
        irreps = o3.Irreps(f"{c}x0e")
        layers = []
        for _ in range(cfg.n_layers):
            layers.append(Interaction(irreps, hidden, cfg))
            irreps = hidden
        self.layers = nn.ModuleList(layers)
        out = self.layout.block_irreps
        self.onsite_h = o3.Linear(hidden, out)
        self.onsite_s = o3.Linear(hidden, out)
        self.onsite_xi = FullyConnectedNet([c, 64, n_xi], torch.nn.functional.silu)
        self.pair_i = o3.Linear(hidden, hidden)
        self.pair_j = o3.Linear(hidden, hidden)
        self.irreps_sh = o3.Irreps.spherical_harmonics(cfg.sh_lmax)
        self.pair_tp, mid = path_tensor_product(hidden, self.irreps_sh, out, cfg.tensor_product)
        self.pair_radial = FullyConnectedNet(
            [cfg.n_radial + 2 * c, 64, self.pair_tp.weight_numel], torch.nn.functional.silu
        )
        self.pair_h = o3.Linear(mid, out)
        self.pair_s = o3.Linear(mid, out)
        n_scalar_mid = sum(m for m, ir in mid if ir == o3.Irrep("0e"))
        self.pair_xi = FullyConnectedNet([n_scalar_mid + 2 * c, 64, n_xi], torch.nn.functional.silu)
        self._mid_scalars = [
            s for (m, ir), s in zip(mid, mid.slices(), strict=True) if ir == o3.Irrep("0e")
        ]

    def species(self, numbers: torch.Tensor) -> torch.Tensor:
        idx = self.z_index[numbers]
        if bool((idx < 0).any()):
            bad = sorted(set(numbers[idx < 0].tolist()))
            raise ValueError(f"elements with Z = {bad} are outside the model's basis")
        return idx

    def node_features(self, batch: GraphBatch) -> torch.Tensor:
        """Atomic environments after the message-passing layers (bonds up to ``r_mp``).

        Returns
        -------
        [N, dim hidden irreps]; the first ``channels`` columns are the invariant scalars
        that feed the on-site heads and the radial inputs of the pair heads.
        """
        z = self.species(batch.numbers)
        scalars = self.embed(z)
        h = scalars
        vec = batch.edge_vec.to(self.block_map.dtype)
        mp = vec.norm(dim=-1) <= self.cfg.r_mp
        for layer in self.layers:
            h = layer(h, scalars, batch.edge_index[mp], vec[mp])
        return h

    def _blocks(self, features: torch.Tensor) -> torch.Tensor:
        n = self.layout.n_pad
        return (features @ self.block_map.to(features.dtype)).reshape(-1, n, n)

    def _soc(self, xi: torch.Tensor) -> torch.Tensor:
        n = self.layout.n_pad
        B = torch.einsum("ex,xvq->evq", xi, self.xi_map.to(xi.dtype))
        return B.reshape(-1, 3, n, n)

    def forward(self, batch: GraphBatch) -> dict[str, torch.Tensor]:
        """Blocks in the padded layout.

        Returns
        -------
        dict with ``onsite_h``, ``onsite_s`` [N, n_pad, n_pad], ``onsite_xi`` [N, n_xi],
        ``onsite_soc`` [N, 3, n_pad, n_pad], ``edge_h``, ``edge_s`` [E, n_pad, n_pad],
        ``edge_xi`` [E, n_xi], ``edge_soc`` [E, 3, n_pad, n_pad] (eV; S dimensionless).
        Hermiticity holds by construction: on-site blocks are symmetric and the block of
        (j, i, -R) is the transpose of (i, j, R); ``xi`` obeys ``xi_ji(-R) = xi_ij(R)``.
        """
        cfg = self.cfg
        dtype = self.block_map.dtype
        z = self.species(batch.numbers)
        h = self.node_features(batch)
        vec = batch.edge_vec.to(dtype)
        d = vec.norm(dim=-1)
        s0 = h[:, : cfg.channels]

        sc = self.scales.to(dtype)
        on_h = self._blocks(self.onsite_h(h)) * sc[0] + self.onsite_h_ref[z]
        on_s = self._blocks(self.onsite_s(h)) * sc[1] + self.onsite_s_ref[z]
        on_xi = self.onsite_xi(s0) * sc[2] + self.onsite_xi_ref[z]
        on_h = 0.5 * (on_h + on_h.transpose(1, 2))
        on_s = 0.5 * (on_s + on_s.transpose(1, 2))
        on_xi = 0.5 * (on_xi + on_xi[:, self.xi_t])

        i, j = batch.edge_index[:, 0], batch.edge_index[:, 1]
        x = self.pair_i(h)[i] + self.pair_j(h)[j]
        Y = o3.spherical_harmonics(self.irreps_sh, vec[:, YZX], True, normalization="component")
        env = envelope(d, cfg.r_cut).unsqueeze(-1)
        radial_in = torch.cat([bessel_basis(d, cfg.r_cut, cfg.n_radial), s0[i], s0[j]], -1)
        y = self.pair_tp(x, Y, self.pair_radial(radial_in))
        mid_scalars = torch.cat([y[:, s] for s in self._mid_scalars] + [s0[i], s0[j]], -1)
        size = sc[3:6] * torch.exp(-d.unsqueeze(-1) * self.edge_decay.to(dtype))  # [E, 3]
        e_h = self._blocks(self.pair_h(y) * env) * size[:, 0, None, None]
        e_s = self._blocks(self.pair_s(y) * env) * size[:, 1, None, None]
        e_xi = self.pair_xi(mid_scalars) * env * size[:, 2, None]
        r = batch.reverse
        e_h = 0.5 * (e_h + e_h[r].transpose(1, 2))
        e_s = 0.5 * (e_s + e_s[r].transpose(1, 2))
        e_xi = 0.5 * (e_xi + e_xi[r][:, self.xi_t])
        return {
            "onsite_h": on_h,
            "onsite_s": on_s,
            "onsite_xi": on_xi,
            "onsite_soc": self._soc(on_xi),
            "edge_h": e_h,
            "edge_s": e_s,
            "edge_xi": e_xi,
            "edge_soc": self._soc(e_xi),
        }
