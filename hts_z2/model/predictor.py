"""Batched inference: structures -> spinful :class:`TightBinding` models."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hts_z2.hamiltonian.basis import kept_orbitals, orbital_table, structure_orbitals
from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.hamiltonian.soc import spin_pair_blocks
from hts_z2.hamiltonian.sparse import PairBlocks, SparseTightBinding, group_pairs
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.model.checkpoint import load_checkpoint, load_overlap
from hts_z2.model.config import ModelConfig
from hts_z2.model.device import torch_device
from hts_z2.model.domain import (
    DomainReference,
    load_reference,
    nearest_distances,
    structure_distance,
)
from hts_z2.model.graph import CrystalGraph, batch_graphs, build_graph
from hts_z2.model.network import HamiltonianNet

DEFAULT_MODEL = "hts-z2-soc-v5.1"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def models_dir() -> Path:
    """Where named models live: ``$HTS_Z2_MODELS`` or the repository's ``models/``."""
    return Path(os.environ.get("HTS_Z2_MODELS", MODELS_DIR))


def structure_arrays(structure) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(lattice [3,3], fractional positions [n,3], atomic numbers [n], name) of a pymatgen
    ``Structure`` or a ``(lattice, positions, numbers)`` tuple."""
    if isinstance(structure, tuple):
        lattice, positions, numbers = structure
        return (
            np.asarray(lattice, float),
            np.asarray(positions, float),
            np.asarray(numbers),
            "structure",
        )
    if not structure.is_ordered:
        raise ValueError(f"{structure.composition.reduced_formula}: disordered sites")
    numbers = np.array([site.specie.Z for site in structure])
    return (
        np.asarray(structure.lattice.matrix, float),
        np.asarray(structure.frac_coords, float),
        numbers,
        structure.composition.reduced_formula,
    )


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _layout(graph: CrystalGraph, cfg: ModelConfig, net: HamiltonianNet):
    """``(n_occ, full shells, kept orbitals, padded output index, solved shells, starts)``
    of one structure: per atom its basis, the orbitals solved (indices into its basis),
    where they sit in the network's padded blocks, and the first orbital of every atom.

    Raises
    ------
    ValueError for an odd number of valence electrons (metallic by counting).
    """
    n_occ = int(sum(cfg.valence[int(z)] for z in graph.numbers))
    if n_occ % 2:
        raise ValueError(
            f"odd number of valence electrons ({n_occ}): with time reversal every band is "
            "Kramers-degenerate, so the crystal is metallic and has no Z2"
        )
    full = [cfg.basis[int(z)] for z in graph.numbers]
    keep = [kept_orbitals(cfg.basis[int(z)], cfg.kept_shells(z)) for z in graph.numbers]
    orb = [net.layout.element_orbitals(tuple(sh))[k] for sh, k in zip(full, keep, strict=True)]
    shells = [cfg.solved_shells(z) for z in graph.numbers]
    starts = np.concatenate([[0], np.cumsum([len(o) for o in orb])]).astype(np.int64)
    return n_occ, full, keep, orb, shells, starts


def to_sparse_model(
    out: dict[str, np.ndarray],
    graph: CrystalGraph,
    cfg: ModelConfig,
    net: HamiltonianNet,
    overlap: OverlapCalculator | None = None,
) -> SparseTightBinding:
    """Block-sparse spinful model from one structure's padded blocks: the same model as
    :func:`to_tight_binding` without the dense ``[n_R, 2n, 2n]`` lists (blocks stay
    float32 as predicted; they are widened exactly in every Bloch sum).

    Raises
    ------
    ValueError for an odd number of valence electrons (metallic by counting).
    """
    n_occ, _full, keep, orb, shells, starts = _layout(graph, cfg, net)
    atoms = np.arange(graph.n_atoms)
    entries: dict[tuple[int, int], list] = {}  # species pair -> [(i, j, R, H, S)]
    for kind, pairs, R in (
        ("onsite", np.column_stack([atoms, atoms]), np.zeros((graph.n_atoms, 3), np.int64)),
        ("edge", graph.edge_index, graph.edge_R),
    ):
        species = graph.numbers[pairs]
        for zi, zj in {tuple(p) for p in species.tolist()}:
            sel = np.flatnonzero((species[:, 0] == zi) & (species[:, 1] == zj))
            oi, oj = orb[int(pairs[sel[0], 0])], orb[int(pairs[sel[0], 1])]
            h = out[f"{kind}_h"][np.ix_(sel, oi, oj)]
            soc = out[f"{kind}_soc"][sel][:, :, oi][:, :, :, oj]
            s = None if overlap is not None else out[f"{kind}_s"][np.ix_(sel, oi, oj)][:, None]
            entries.setdefault((zi, zj), []).append(
                (pairs[sel, 0], pairs[sel, 1], R[sel], np.concatenate([h[:, None], soc], 1), s)
            )
    hoppings, overlaps = [], []
    for parts in entries.values():
        i, j, R = (np.concatenate([p[k] for p in parts]) for k in range(3))
        hoppings += group_pairs(i, j, R, np.concatenate([p[3] for p in parts]))
        if overlap is None:
            overlaps += group_pairs(i, j, R, np.concatenate([p[4] for p in parts]))
    if overlap is not None:
        by_pair: dict[tuple[int, int], list] = {}
        for (i, j, r), M in overlap.overlap_blocks(
            graph.lattice, graph.positions, graph.numbers
        ).items():
            by_pair.setdefault((i, j), []).append((r, M[np.ix_(keep[i], keep[j])]))
        for (i, j), items in by_pair.items():
            R, M = zip(*items, strict=True)
            overlaps.append(PairBlocks(i, j, np.array(R), np.stack(M)[:, None]))
    return SparseTightBinding(
        graph.lattice,
        starts,
        tuple(hoppings),
        tuple(overlaps),
        n_occ=n_occ,
        orbitals=orbital_table(shells),
        positions=graph.positions,
        numbers=graph.numbers,
        overlap_cutoff=cfg.overlap_cutoff,
    )


def to_tight_binding(
    out: dict[str, np.ndarray],
    graph: CrystalGraph,
    cfg: ModelConfig,
    net: HamiltonianNet,
    overlap: OverlapCalculator | None = None,
) -> TightBinding:
    """Dense spinful model from one structure's padded blocks (float64).

    With an ``overlap`` calculator S is computed exactly from the basis (over its full
    range, which may exceed the graph cutoff); otherwise the network's S head is used.

    Raises
    ------
    ValueError for an odd number of valence electrons (metallic by counting).
    """
    n_occ, full, keep, orb, shells, starts = _layout(graph, cfg, net)
    n = int(starts[-1])
    R_s, S_exact = (
        overlap.overlap(graph.lattice, graph.positions, graph.numbers)
        if overlap is not None
        else (np.zeros((0, 3), np.int64), None)
    )
    if S_exact is not None and cfg.solve_shells:
        idx = structure_orbitals(full, keep)
        S_exact = S_exact[:, idx][:, :, idx]
    R, r_all = np.unique(
        np.vstack([np.zeros((1, 3), np.int64), graph.edge_R, R_s]), axis=0, return_inverse=True
    )
    r_all = r_all.reshape(-1)
    r0 = int(r_all[0])
    r_of_edge = r_all[1 : 1 + len(graph.edge_R)]
    # written straight into the spinful layout [R, orbital, spin, orbital, spin]: no
    # intermediate spinless arrays (on CPU, touching memory is most of this step)
    H = np.zeros((len(R), n, 2, n, 2), dtype=np.complex128)
    S = np.zeros((len(R), n, 2, n, 2), dtype=np.complex128)
    atoms = np.arange(graph.n_atoms)
    on_pairs = np.column_stack([atoms, atoms])
    for kind, pairs, r_idx in (
        ("onsite", on_pairs, np.full(graph.n_atoms, r0)),
        ("edge", graph.edge_index, r_of_edge),
    ):
        species = graph.numbers[pairs]
        for zi, zj in {tuple(p) for p in species.tolist()}:
            sel = np.flatnonzero((species[:, 0] == zi) & (species[:, 1] == zj))
            i, j = pairs[sel, 0], pairs[sel, 1]
            oi, oj = orb[int(i[0])], orb[int(j[0])]
            rows = (starts[i][:, None] + np.arange(len(oi)))[:, :, None]
            cols = (starts[j][:, None] + np.arange(len(oj)))[:, None, :]
            r = r_idx[sel][:, None, None]
            pick = np.ix_(sel, oi, oj)
            h = out[f"{kind}_h"][pick].astype(np.float64)
            sx, sy, sz = np.moveaxis(out[f"{kind}_soc"][sel][:, :, oi][:, :, :, oj], 1, 0)
            for (s, t), block in spin_pair_blocks(h, sx, sy, sz).items():
                H[r, rows, s, cols, t] = block
            if S_exact is None:
                S[r, rows, 0, cols, 0] = S[r, rows, 1, cols, 1] = out[f"{kind}_s"][pick]
    if S_exact is not None:
        r_s = r_all[1 + len(graph.edge_R) :]
        S[r_s, :, 0, :, 0] = S_exact
        S[r_s, :, 1, :, 1] = S_exact
    return TightBinding(
        graph.lattice,
        R,
        H.reshape(len(R), 2 * n, 2 * n),
        S.reshape(len(R), 2 * n, 2 * n),
        n_occ=n_occ,
        orbitals=orbital_table(shells),
        positions=graph.positions,
        numbers=graph.numbers,
        overlap_cutoff=cfg.overlap_cutoff,
    )


MODEL_FORMS = {"dense": to_tight_binding, "sparse": to_sparse_model}
"""How predicted blocks become a model: dense ``TightBinding`` or block-sparse."""


@dataclass
class HamiltonianModel:
    """A loaded model: ``predict`` structures into spinful tight-binding Hamiltonians.

    Attributes
    ----------
    net : the network (eval mode).
    name : directory name of the model.
    sha256 : sha256 of ``model.safetensors`` (the identity recorded with results).
    path : the model directory.
    overlap : exact-overlap calculator when the config says ``overlap == "basis"``.
    domain : the training environments (:mod:`hts_z2.model.domain`), when shipped.
    """

    net: HamiltonianNet
    name: str
    sha256: str
    path: Path | None = None
    overlap: OverlapCalculator | None = None
    domain: DomainReference | None = None

    @property
    def config(self) -> ModelConfig:
        return self.net.cfg

    @property
    def elements(self) -> frozenset[int]:
        return frozenset(self.net.cfg.elements)

    @property
    def band_error(self) -> float | None:
        """Validation band error near E_F (eV), see ``ModelConfig.validated_band_error``."""
        return self.net.cfg.validated_band_error()

    def valence_electrons(self, structure) -> int:
        """Valence electrons the model's basis represents for ``structure``."""
        numbers = structure_arrays(structure)[2]
        return int(sum(self.config.valence[int(z)] for z in numbers))

    def graphs(self, structures) -> list[CrystalGraph]:
        """Model graphs (raises GraphError/ValueError naming the structure)."""
        out = []
        for st in structures:
            lattice, positions, numbers, name = structure_arrays(st)
            bad = sorted(set(int(z) for z in numbers) - set(self.elements))
            if bad:
                raise ValueError(f"{name}: elements with Z = {bad} are outside the model's basis")
            out.append(build_graph(lattice, positions, numbers, self.config.r_cut, name=name))
        return out

    def predict_graphs(
        self,
        graphs: list[CrystalGraph],
        batch_size: int = 8,
        device: str = "cpu",
        max_edges: int = 200_000,
        errors: str = "raise",
        workers: int | None = None,
        form: str = "dense",
    ) -> list[TightBinding]:
        """Batched inference; a batch is also capped at ``max_edges`` edges and halved on
        out-of-memory errors, so large structures never crash the run.

        ``form="sparse"`` returns :class:`~hts_z2.hamiltonian.sparse.SparseTightBinding`
        models (the predicted atom-pair blocks, a few MiB each) instead of dense ones.

        ``errors="return"`` puts a structure's exception (odd electron count, indefinite
        predicted overlap) in its place instead of failing the whole batch.

        The dense models are built by ``workers`` threads (default: the CPUs this process
        may use) while the network runs on the next batch; this per-structure step
        dominates ``predict`` on CPU. ``workers=1`` builds each model in turn.
        """
        n_workers = max(1, workers if workers is not None else available_cpus())
        with ThreadPoolExecutor(n_workers) if n_workers > 1 else nullcontext() as pool:
            return self._predict_batches(
                graphs, batch_size, device, max_edges, errors, pool, n_workers, form
            )

    @torch.inference_mode()
    def _predict_batches(
        self,
        graphs: list[CrystalGraph],
        batch_size: int,
        device: str,
        max_edges: int,
        errors: str,
        pool: ThreadPoolExecutor | None,
        n_workers: int = 1,
        form: str = "dense",
    ) -> list[TightBinding]:
        net = self.net.to(torch_device(device))
        results: list[TightBinding | None] = [None] * len(graphs)
        pending = list(range(len(graphs)))
        size = batch_size

        futures: dict[int, Future] = {}
        running: list[Future] = []  # submitted builds not yet known to be finished
        max_running = 2 * n_workers + size  # bounds the network outputs waiting in the queue

        if form not in MODEL_FORMS:
            raise ValueError(f"unknown model form {form!r}; choose from {sorted(MODEL_FORMS)}")
        assemble = MODEL_FORMS[form]

        def build(part: dict[str, np.ndarray], graph: CrystalGraph) -> TightBinding | Exception:
            try:
                return assemble(part, graph, self.config, net, self.overlap)
            except ValueError as err:  # incl. indefinite S, invalid model
                if errors != "return":
                    raise
                return err

        while pending:
            chunk, edges = [], 0
            for g in pending:
                if chunk and (len(chunk) >= size or edges + graphs[g].n_edges > max_edges):
                    break
                chunk.append(g)
                edges += graphs[g].n_edges
            try:
                batch = batch_graphs([graphs[g] for g in chunk], dtype=torch.float32).to(device)
                out = net(batch)
            except (torch.OutOfMemoryError, MemoryError):
                if len(chunk) == 1:
                    raise
                size = max(1, len(chunk) // 2)
                continue
            skip = "_s" if self.overlap is not None else None  # S comes from the basis
            host = {
                k: v.cpu().numpy()  # float32; widened exactly when scattered into float64
                for k, v in out.items()
                if skip is None or not k.endswith(skip)
            }
            parts = [
                {k: (v[n0:n1] if k.startswith("onsite") else v[e0:e1]) for k, v in host.items()}
                for (n0, n1), (e0, e1) in zip(batch.node_slices, batch.edge_slices, strict=True)
            ]
            for g, part in zip(chunk, parts, strict=True):
                if pool is None:
                    results[g] = build(part, graphs[g])
                    continue
                futures[g] = pool.submit(build, part, graphs[g])
                running.append(futures[g])
            if pool is not None:  # the next forward pass overlaps these builds
                running = [f for f in running if not f.done()]
                while len(running) > max_running:
                    wait(running, return_when=FIRST_COMPLETED)
                    running = [f for f in running if not f.done()]
            pending = pending[len(chunk) :]
        try:
            for g in sorted(futures):  # input order: the first failing structure is raised
                results[g] = futures[g].result()
        finally:
            for f in futures.values():
                f.cancel()
        return results  # type: ignore[return-value]

    def environment_graphs(self, structures) -> list[CrystalGraph]:
        """Graphs of the message-passing bonds only (``r_mp``): what the environments
        (:meth:`~hts_z2.model.network.HamiltonianNet.node_features`) depend on."""
        out = []
        for st in structures:
            lattice, positions, numbers, name = structure_arrays(st)
            out.append(build_graph(lattice, positions, numbers, self.config.r_mp, name=name))
        return out

    @torch.inference_mode()
    def environments(
        self, graphs: list[CrystalGraph], batch_size: int = 32, device: str = "cpu"
    ) -> list[np.ndarray]:
        """Invariant environments [N_atoms, channels] (float32) of every graph, batched."""
        net = self.net.to(torch_device(device))
        out: list[np.ndarray] = []
        for k in range(0, len(graphs), batch_size):
            chunk = graphs[k : k + batch_size]
            batch = batch_graphs(chunk, dtype=torch.float32).to(device)
            h = net.node_features(batch)[:, : self.config.channels].cpu().numpy()
            out += [h[n0:n1] for n0, n1 in batch.node_slices]
        return out

    def domain_atoms(
        self, structures, batch_size: int = 32, device: str = "cpu"
    ) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """(atomic numbers [N], distances [N]) of each structure's atoms to the training
        environments (see :mod:`hts_z2.model.domain`); all None without a domain
        reference, None for a structure without a bond within ``r_mp`` or with elements
        outside the basis."""
        if self.domain is None:
            return [None] * len(structures)
        graphs, where = [], []
        for k, st in enumerate(structures):
            try:
                graph = self.environment_graphs([st])[0]
            except ValueError:  # no bond within r_mp, overlapping atoms, NaN
                continue
            if set(graph.numbers.tolist()) <= self.elements:
                graphs.append(graph)
                where.append(k)
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(structures)
        for k, graph, env in zip(
            where, graphs, self.environments(graphs, batch_size, device), strict=True
        ):
            out[k] = (graph.numbers, nearest_distances(env, graph.numbers, self.domain.features))
        return out

    def domain_distances(
        self, structures, batch_size: int = 32, device: str = "cpu"
    ) -> list[float | None]:
        """Each structure's distance (largest over its atoms, see :meth:`domain_atoms`)."""
        return [
            None if a is None else structure_distance(a[1])
            for a in self.domain_atoms(structures, batch_size, device)
        ]

    def predict(
        self,
        structures,
        batch_size: int = 8,
        device: str = "cpu",
        errors: str = "raise",
        workers: int | None = None,
        form: str = "dense",
    ) -> list[TightBinding]:
        """Spinful models (with S and ``n_occ``) for pymatgen structures, in order; with
        ``errors="return"`` a structure that fails holds its exception instead.
        ``workers``: threads building the models of a batch; ``form``: "dense"
        (:class:`TightBinding`) or "sparse" (block form), see :meth:`predict_graphs`."""
        if errors != "return":
            return self.predict_graphs(
                self.graphs(structures), batch_size, device, workers=workers, form=form
            )
        out: list = []
        graphs, where = [], []
        for st in structures:
            try:
                graphs.append(self.graphs([st])[0])
                where.append(len(out))
                out.append(None)
            except ValueError as err:
                out.append(err)
        for k, tb in zip(
            where,
            self.predict_graphs(
                graphs, batch_size, device, errors=errors, workers=workers, form=form
            ),
            strict=True,
        ):
            out[k] = tb
        return out


def load_model(name_or_path: str | Path | None = None) -> HamiltonianModel:
    """Load the shipped default model, a named one from :func:`models_dir`, or a directory."""
    target = Path(name_or_path) if name_or_path is not None else models_dir() / DEFAULT_MODEL
    if not target.is_dir():
        named = models_dir() / str(name_or_path)
        if name_or_path is not None and named.is_dir():
            target = named
        else:
            raise FileNotFoundError(
                f"no model at {target} (named models live in {models_dir()}; "
                "train one with `hts-z2 train`)"
            )
    net, sha = load_checkpoint(target)
    return HamiltonianModel(
        net, target.name, sha, target, load_overlap(target, net.cfg), load_reference(target, sha)
    )
