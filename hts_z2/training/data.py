"""Training items: a reference sample turned into a model graph plus targets in the padded
block layout, and their batching."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from hts_z2.hamiltonian.basis import kept_orbitals, structure_orbitals
from hts_z2.model.config import ModelConfig
from hts_z2.model.graph import CrystalGraph, GraphBatch, batch_graphs, build_graph
from hts_z2.model.slots import SlotLayout
from hts_z2.reference.sample import ReferenceSample


@dataclass
class TrainingItem:
    """Targets of one structure, flattened over the real orbital pairs of every block.

    ``on_idx`` / ``edge_idx`` index the flattened padded blocks of the graph
    (``node * n_pad**2 + a * n_pad + b``); values are eV (H0, SOC ``B_v``) or plain (S).
    ``dropped`` is the largest |H0| of a reference block outside the graph cutoff.
    """

    sample_id: str
    graph: CrystalGraph
    n_electrons: int
    on_idx: torch.Tensor
    on_h: torch.Tensor
    on_s: torch.Tensor
    on_soc: torch.Tensor  # [3, n]
    edge_idx: torch.Tensor
    edge_h: torch.Tensor
    edge_s: torch.Tensor
    edge_soc: torch.Tensor  # [3, n]
    band_k: np.ndarray
    band_energies: np.ndarray
    dropped: float
    on_rc: torch.Tensor  # [2, n] dense (row, col) of every on-site value
    edge_rc: torch.Tensor  # [2, n] dense (row, col) of every edge value
    n_orbitals: int
    edge_of_value: torch.Tensor  # [n] edge of every edge value
    s_floor: torch.Tensor | None = None  # cached by losses.overlap_penalty
    orbital_index: np.ndarray | None = None  # kept orbitals of the whole basis (solve_shells)


def check_basis(sample: ReferenceSample, cfg: ModelConfig) -> None:
    """Raise ValueError when a sample's basis disagrees with the model's."""
    for z, shells in zip(sample.numbers.tolist(), sample.shells, strict=True):
        if z not in cfg.basis:
            raise ValueError(f"{sample.sample_id}: element Z={z} is outside the model's basis")
        if tuple(shells) != tuple(cfg.basis[z]):
            raise ValueError(
                f"{sample.sample_id}: basis of Z={z} is {shells}, the model's is {cfg.basis[z]}"
            )


def build_item(sample: ReferenceSample, cfg: ModelConfig, layout: SlotLayout) -> TrainingItem:
    """Graph of ``sample`` within ``cfg.r_cut`` and its targets (absent blocks are zero)."""
    check_basis(sample, cfg)
    graph = build_graph(
        sample.lattice, sample.positions, sample.numbers, cfg.r_cut, name=sample.sample_id
    )
    n = layout.n_pad
    pairs = zip(sample.shells, sample.numbers.tolist(), strict=True)
    keep = [kept_orbitals(sh, cfg.kept_shells(z)) for sh, z in pairs]
    full = [layout.element_orbitals(tuple(sh)) for sh in sample.shells]
    orb = [f[k] for f, k in zip(full, keep, strict=True)]
    stored = {
        tuple(row): e for e, row in enumerate(sample.edge_index.tolist())
    }  # (i, j, Rx, Ry, Rz) -> sample edge

    def block(e: int, which: np.ndarray, i: int, j: int) -> np.ndarray:
        a, b = sample.offset[e], sample.offset[e + 1]
        full_block = which[..., a:b].reshape(*which.shape[:-1], len(full[i]), len(full[j]))
        return full_block[..., keep[i], :][..., keep[j]].reshape(*which.shape[:-1], -1)

    starts = np.concatenate([[0], np.cumsum([len(o) for o in orb])])

    def rows_cols(i: int, j: int) -> np.ndarray:
        r = starts[i] + np.arange(len(orb[i]))
        c = starts[j] + np.arange(len(orb[j]))
        return np.stack(np.broadcast_arrays(r[:, None], c[None, :])).reshape(2, -1)

    def gather(key: tuple, base: int, i: int, j: int):
        idx = base * n * n + (orb[i][:, None] * n + orb[j][None, :]).reshape(-1)
        e = stored.get(key)
        if e is None:
            z = np.zeros(len(idx))
            return idx, z, z, np.zeros((3, len(idx)))
        return (
            idx,
            block(e, sample.h0, i, j),
            block(e, sample.s, i, j),
            block(e, sample.soc, i, j),
        )

    def stack(parts):
        idx, h, s, soc = zip(*parts, strict=True)
        return (
            torch.from_numpy(np.concatenate(idx)),
            torch.tensor(np.concatenate(h), dtype=torch.float32),
            torch.tensor(np.concatenate(s), dtype=torch.float32),
            torch.tensor(np.concatenate(soc, axis=1), dtype=torch.float32),
        )

    on = stack([gather((i, i, 0, 0, 0), i, i, i) for i in range(graph.n_atoms)])
    edges = stack(
        [
            gather((int(i), int(j), *map(int, R)), e, int(i), int(j))
            for e, ((i, j), R) in enumerate(zip(graph.edge_index, graph.edge_R, strict=True))
        ]
    )
    in_graph = {
        (int(i), int(j), *map(int, R))
        for (i, j), R in zip(graph.edge_index, graph.edge_R, strict=True)
    }
    dropped = 0.0
    for key, e in stored.items():
        if key not in in_graph and not (key[0] == key[1] and key[2:] == (0, 0, 0)):
            dropped = max(
                dropped, float(np.abs(sample.h0[sample.offset[e] : sample.offset[e + 1]]).max())
            )
    return TrainingItem(
        sample.sample_id,
        graph,
        int(sample.n_electrons),
        *on,
        *edges,
        np.asarray(sample.band_k),
        np.asarray(sample.band_energies, dtype=np.float64),
        dropped,
        torch.from_numpy(np.concatenate([rows_cols(i, i) for i in range(graph.n_atoms)], 1)),
        torch.from_numpy(
            np.concatenate([rows_cols(int(i), int(j)) for i, j in graph.edge_index], 1)
        ),
        int(starts[-1]),
        edges[0] // (n * n),
        orbital_index=structure_orbitals(sample.shells, keep) if cfg.solve_shells else None,
    )


def reference_values(item: TrainingItem) -> dict[str, torch.Tensor]:
    """The item's reference ``h`` [n], ``s`` [n] and ``soc`` [3, n] in float64, on-site
    values first (the layout of :func:`hts_z2.training.losses.split_values`)."""
    return {
        "h": torch.cat([item.on_h, item.edge_h]).double(),
        "s": torch.cat([item.on_s, item.edge_s]).double(),
        "soc": torch.cat([item.on_soc, item.edge_soc], 1).double(),
    }


@dataclass
class TargetBatch:
    """Targets of a batch, indices offset like :func:`batch_graphs` offsets nodes/edges."""

    graphs: GraphBatch
    on_idx: torch.Tensor
    on_h: torch.Tensor
    on_s: torch.Tensor
    on_soc: torch.Tensor
    on_graph: torch.Tensor
    edge_idx: torch.Tensor
    edge_h: torch.Tensor
    edge_s: torch.Tensor
    edge_soc: torch.Tensor
    edge_graph: torch.Tensor
    items: list[TrainingItem]

    def to(self, device) -> TargetBatch:
        """The graphs and targets on ``device`` (the items, read by the per-structure band
        and overlap terms, stay where they are)."""
        moved = {k: v.to(device) for k, v in vars(self).items() if isinstance(v, torch.Tensor)}
        return replace(self, graphs=self.graphs.to(device), **moved)


def collate(items: list[TrainingItem], n_pad: int, dtype=torch.float32) -> TargetBatch:
    """Batch items; every flat index is shifted by the nodes/edges before it."""
    graphs = batch_graphs([it.graph for it in items], dtype=dtype)
    nn2 = n_pad * n_pad
    parts: dict[str, list] = {
        k: [] for k in ("oi", "oh", "os", "oc", "og", "ei", "eh", "es", "ec", "eg")
    }
    for g, (it, (n0, _), (e0, _)) in enumerate(
        zip(items, graphs.node_slices, graphs.edge_slices, strict=True)
    ):
        parts["oi"].append(it.on_idx + n0 * nn2)
        parts["ei"].append(it.edge_idx + e0 * nn2)
        parts["oh"].append(it.on_h)
        parts["os"].append(it.on_s)
        parts["oc"].append(it.on_soc)
        parts["eh"].append(it.edge_h)
        parts["es"].append(it.edge_s)
        parts["ec"].append(it.edge_soc)
        parts["og"].append(torch.full((len(it.on_h),), g))
        parts["eg"].append(torch.full((len(it.edge_h),), g))
    cat = {k: torch.cat(v, dim=-1) for k, v in parts.items()}
    return TargetBatch(
        graphs,
        cat["oi"],
        cat["oh"],
        cat["os"],
        cat["oc"],
        cat["og"],
        cat["ei"],
        cat["eh"],
        cat["es"],
        cat["ec"],
        cat["eg"],
        items,
    )
