"""Crystal graphs: all periodic atom pairs within a cutoff, and batching without padding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


class GraphError(ValueError):
    """A structure that cannot be turned into a model graph (named in the message)."""


@dataclass
class CrystalGraph:
    """One periodic structure as a directed graph.

    Attributes
    ----------
    lattice : [3, 3] rows are lattice vectors (Angstrom).
    positions : [n_atoms, 3] fractional.
    numbers : [n_atoms] atomic numbers.
    edge_index : [n_edges, 2] (i, j): the block <i, 0| H |j, R>.
    edge_R : [n_edges, 3] integer lattice translation of atom j.
    edge_vec : [n_edges, 3] ``r_j + R - r_i`` (Cartesian, Angstrom).
    reverse : [n_edges] index of the edge (j, i, -R).
    """

    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    edge_index: np.ndarray
    edge_R: np.ndarray
    edge_vec: np.ndarray
    reverse: np.ndarray

    @property
    def n_atoms(self) -> int:
        return len(self.numbers)

    @property
    def n_edges(self) -> int:
        return len(self.edge_index)


def _image_range(lattice: np.ndarray, r_cut: float) -> np.ndarray:
    """Largest |n_a| of lattice translations that can hold a pair within ``r_cut``: [3]."""
    recip = np.linalg.inv(lattice).T  # rows b_a with a_i . b_j = delta_ij
    return np.ceil(r_cut * np.linalg.norm(recip, axis=1)).astype(int) + 1


def build_graph(
    lattice: np.ndarray,
    positions: np.ndarray,
    numbers: np.ndarray,
    r_cut: float,
    name: str = "structure",
    min_distance: float = 0.5,
    max_edges: int = 2_000_000,
) -> CrystalGraph:
    """All (i, j, R) with ``0 < |r_j + R - r_i| <= r_cut``.

    Raises
    ------
    GraphError for overlapping atoms (closer than ``min_distance``), NaN input, an atom
    without neighbours, or more than ``max_edges`` edges.
    """
    lattice = np.asarray(lattice, dtype=float)
    positions = np.asarray(positions, dtype=float)
    if not (np.isfinite(lattice).all() and np.isfinite(positions).all()):
        raise GraphError(f"{name}: lattice or positions contain NaN/inf")
    if abs(np.linalg.det(lattice)) < 1e-6:
        raise GraphError(f"{name}: the lattice vectors are linearly dependent")
    n = len(numbers)
    if n == 0:
        raise GraphError(f"{name}: no atoms")
    span = _image_range(lattice, r_cut)
    if np.prod(2 * span + 1) * n * n > 50 * max_edges:
        raise GraphError(f"{name}: cell too large or too thin for the graph cutoff {r_cut} Å")
    grids = [np.arange(-s, s + 1) for s in span]
    R = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, 3)
    cart = positions @ lattice
    vec = cart[None, None, :, :] + (R @ lattice)[:, None, None, :] - cart[None, :, None, :]
    d = np.linalg.norm(vec, axis=-1)  # [n_R, n, n]
    close = (d < min_distance) & ~((np.all(R == 0, axis=1))[:, None, None] & np.eye(n, dtype=bool))
    if close.any():
        r, i, j = np.argwhere(close)[0]
        raise GraphError(
            f"{name}: atoms {i} and {j} (image {R[r].tolist()}) are {d[r, i, j]:.3f} Å apart"
        )
    keep = (d <= r_cut) & (d > 1e-8)
    r_idx, i_idx, j_idx = np.nonzero(keep)
    if len(r_idx) > max_edges:
        raise GraphError(f"{name}: {len(r_idx)} pairs within {r_cut} Å exceed {max_edges}")
    lonely = np.setdiff1d(np.arange(n), i_idx)
    if len(lonely):
        raise GraphError(f"{name}: atom {int(lonely[0])} has no neighbour within {r_cut} Å")
    edge_R = R[r_idx]
    lookup = {
        (int(i), int(j), *map(int, rr)): e
        for e, (i, j, rr) in enumerate(zip(i_idx, j_idx, edge_R, strict=True))
    }
    reverse = np.array(
        [
            lookup[(int(j), int(i), *map(int, -rr))]
            for i, j, rr in zip(i_idx, j_idx, edge_R, strict=True)
        ],
        dtype=np.int64,
    )
    return CrystalGraph(
        lattice=lattice,
        positions=positions,
        numbers=np.asarray(numbers, dtype=np.int64),
        edge_index=np.column_stack([i_idx, j_idx]).astype(np.int64),
        edge_R=edge_R.astype(np.int64),
        edge_vec=vec[r_idx, i_idx, j_idx],
        reverse=reverse,
    )


@dataclass
class GraphBatch:
    """Several graphs concatenated (node and edge indices offset), as torch tensors."""

    numbers: torch.Tensor  # [N]
    edge_index: torch.Tensor  # [E, 2]
    edge_vec: torch.Tensor  # [E, 3]
    reverse: torch.Tensor  # [E]
    node_graph: torch.Tensor  # [N]
    edge_graph: torch.Tensor  # [E]
    node_slices: list[tuple[int, int]]
    edge_slices: list[tuple[int, int]]

    def to(self, device) -> GraphBatch:
        moved = {
            k: (v.to(device) if isinstance(v, torch.Tensor) else v)
            for k, v in self.__dict__.items()
        }
        return GraphBatch(**moved)


def batch_graphs(graphs: list[CrystalGraph], dtype=torch.float64) -> GraphBatch:
    """Concatenate graphs; every index is offset into the batch."""
    nodes, edges, vecs, revs, ng, eg, ns, es = [], [], [], [], [], [], [], []
    n0 = e0 = 0
    for g_i, g in enumerate(graphs):
        nodes.append(torch.from_numpy(g.numbers))
        edges.append(torch.from_numpy(g.edge_index) + n0)
        vecs.append(torch.from_numpy(g.edge_vec))
        revs.append(torch.from_numpy(g.reverse) + e0)
        ng.append(torch.full((g.n_atoms,), g_i))
        eg.append(torch.full((g.n_edges,), g_i))
        ns.append((n0, n0 + g.n_atoms))
        es.append((e0, e0 + g.n_edges))
        n0 += g.n_atoms
        e0 += g.n_edges
    return GraphBatch(
        numbers=torch.cat(nodes),
        edge_index=torch.cat(edges),
        edge_vec=torch.cat(vecs).to(dtype),
        reverse=torch.cat(revs),
        node_graph=torch.cat(ng),
        edge_graph=torch.cat(eg),
        node_slices=ns,
        edge_slices=es,
    )
