"""Model inference: throughput, memory, predict -> gap -> Z2 by stage, reduced vs full TP.

Measured in one run (ratios are what matter; absolute times depend on the machine):

1. throughput (structures/s) of ``predict_graphs`` at batch sizes 1, 8, 32 on CPU for
   5-20-atom supercells of the embedded set, and of the network forward pass alone;
2. peak memory per structure: peak RSS above the baseline while predicting 32 structures
   (the returned dense spinful ``TightBinding`` objects included) divided by 32, and the
   peak of the network forward pass alone divided by the batch size;
3. the whole predict -> gap -> Z2 time per structure, split by stage;
4. the reduced (Eq. 8) vs full tensor product at equal architecture: parameters and
   forward time;
5. automatic splitting: ``predict_graphs(max_edges=...)`` splits a batch whose graphs
   exceed the edge cap, and a (simulated) out-of-memory error halves the batch.

Without ``--model`` the network is randomly initialized on the element basis and valences
of the reference dataset (inference cost does not depend on the weights). Its overlap is
pinned to the identity (on-site S reference 1, S heads zeroed) so that the gap and Z2 stages
run; random H gives metallic bands, so on metals the Z2 stage is timed as one forced pass
over the six planes on the starting grid (marked ``*``), which is what one refinement level
of a real insulator costs. Pass ``--model`` (a directory or a name under ``models/``, e.g.
``hts-z2-soc-v5``) to measure a trained model. ``--device cuda`` runs the network on a
GPU (the dense models, gap and Z2 stay on the CPU) and adds its GPU memory per structure.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_model.py [--quick] [--model NAME]
        [--device cuda]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pymatgen.core import Structure

from hts_z2.hamiltonian.gap import band_gap
from hts_z2.model.checkpoint import save_checkpoint
from hts_z2.model.config import ModelConfig
from hts_z2.model.graph import CrystalGraph, batch_graphs
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.predictor import HamiltonianModel, available_cpus, load_model
from hts_z2.reference.sample import load_sample
from hts_z2.structures.embedded import load_embedded
from hts_z2.topology import compute_z2
from hts_z2.training.dataset import sample_files, solve_valence

DATASET = Path(__file__).resolve().parents[1] / "hts_z2" / "data" / "dataset"
BATCH_SIZES = (1, 8, 32)
SCALINGS = [
    (1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2), (2, 2, 1), (2, 1, 2), (1, 2, 2),
    (3, 1, 1), (1, 1, 3), (2, 2, 2), (3, 2, 1), (1, 1, 4), (4, 1, 1),
]  # fmt: skip
STAGE_IDS = ("PbTe-Fm-3m", "Bi-R-3m", "TlBiSe2-R-3m", "Bi2Se3-R-3m", "SnTe-Fm-3m")
KSPACING = 0.15  # ScreeningSettings defaults
Z2_N_MAX = 64


# --- memory ------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """Current resident set size (falls back to the peak where /proc is missing)."""
    kb = _status_kb("VmRSS")
    return 1024 * (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def release_free_heap() -> None:
    """Give freed heap pages back to the OS (glibc), so that RSS peaks show new memory."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure_peak(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """``(result, seconds, peak RSS above the RSS before the call in bytes)``.

    The kernel's peak counter (VmHWM) is reset through ``/proc/self/clear_refs`` when
    allowed, else ``ru_maxrss`` is used (then only growth above the earlier peak shows).
    """
    gc.collect()
    release_free_heap()
    base = rss_bytes()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        hwm = "VmHWM"
    except OSError:
        hwm = ""
    before_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    kb = _status_kb(hwm) if hwm else None
    if kb is None:
        peak = 1024 * max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, before_max)
    else:
        peak = 1024 * kb
    return out, seconds, max(0, peak - base)


def mb(n: float) -> str:
    return f"{n / 2**20:8.1f}"


# --- model ---------------------------------------------------------------------------------
def dataset_basis(root: Path = DATASET) -> tuple[dict[int, tuple[int, ...]], dict[int, int], str]:
    """Basis and valence per element from the reference samples.

    Elements whose valence ``solve_valence`` cannot determine (the dataset is still
    growing) are left out; returns ``(basis, valence, note)``.
    """
    samples, basis = [], {}
    for path in sample_files(root):
        try:
            s = load_sample(path)
        except Exception:  # a sample being written right now, or a corrupt one
            continue
        shells = {int(z): tuple(sh) for z, sh in zip(s.numbers.tolist(), s.shells, strict=True)}
        if any(basis.get(z, sh) != sh for z, sh in shells.items()):
            continue
        basis.update(shells)
        samples.append(s)
    try:
        valence = solve_valence(samples)
        return basis, valence, f"{len(samples)} samples, {len(valence)} elements"
    except ValueError:
        pass
    known: dict[int, int] = {}
    changed = True
    while changed:  # the propagation of solve_valence, to find which elements it can pin
        changed = False
        for s in samples:
            counts: dict[int, int] = {}
            for z in s.numbers.tolist():
                counts[int(z)] = counts.get(int(z), 0) + 1
            unknown = [z for z in counts if z not in known]
            if len(unknown) == 1:
                z = unknown[0]
                rest = int(s.n_electrons) - sum(c * known[y] for y, c in counts.items() if y != z)
                if rest > 0 and rest % counts[z] == 0:
                    known[z] = rest // counts[z]
                    changed = True
    usable = [s for s in samples if set(int(z) for z in s.numbers) <= set(known)]
    valence = solve_valence(usable)
    dropped = sorted(set(basis) - set(valence))
    note = f"{len(samples)} samples, {len(valence)} elements"
    if dropped:
        note += f" (valence not pinned yet, left out: Z = {dropped})"
    return {z: basis[z] for z in valence}, valence, note


def pin_overlap(net: HamiltonianNet) -> None:
    """S = identity: on-site reference 1 and both S heads zero (same cost, valid bands)."""
    with torch.no_grad():
        net.onsite_s_ref[:] = torch.eye(net.layout.n_pad)
        net.onsite_s.weight.zero_()
        net.pair_s.weight.zero_()


def random_model(cfg: ModelConfig, directory: Path, seed: int = 0) -> HamiltonianModel:
    """A seeded random network saved with ``save_checkpoint`` and read back by ``load_model``."""
    torch.manual_seed(seed)
    net = HamiltonianNet(cfg)
    pin_overlap(net)
    save_checkpoint(net, directory)
    return load_model(directory)


def get_model(name: str | None, workdir: Path) -> tuple[HamiltonianModel, str]:
    """``--model`` if given, else a random network on the dataset basis (and a description)."""
    if name:
        model = load_model(name)
        return model, f"{model.name} (sha256 {model.sha256[:12]})"
    basis, valence, note = dataset_basis()
    model = random_model(ModelConfig(basis=basis, valence=valence), workdir / "random")
    return model, f"random weights on the dataset basis: {note}"


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- structures ------------------------------------------------------------------------
@dataclass
class Cell:
    name: str
    structure: Structure
    graph: CrystalGraph
    est_bytes: int  # dense spinful H + S of the prediction


def supercells(elements: frozenset[int], lo: int, hi: int) -> Iterator[tuple[str, Structure]]:
    """Supercells with ``lo..hi`` atoms of the embedded structures inside the basis,
    round-robin over the structures (so the mix varies)."""
    per_entry = []
    for entry in load_embedded():
        st = entry.structure
        if not st.is_ordered or not {sp.Z for sp in st.composition.elements} <= elements:
            continue
        options = []
        for sc in SCALINGS:
            if lo <= len(st) * int(np.prod(sc)) <= hi:
                big = st.copy()
                big.make_supercell(list(sc))
                options.append((f"{entry.id}x{''.join(map(str, sc))}", big))
        if options:
            per_entry.append(options)
    for r in range(max(len(o) for o in per_entry)):
        for options in per_entry:
            if r < len(options):
                yield options[r]


def estimate_bytes(model: HamiltonianModel, graph: CrystalGraph) -> int:
    """Bytes of the dense spinful H and S (complex128) that ``to_tight_binding`` returns."""
    n = sum(sum(2 * l + 1 for l in model.config.basis[int(z)]) for z in graph.numbers)
    n_r = len(np.unique(np.vstack([np.zeros((1, 3), int), graph.edge_R]), axis=0))
    return 2 * n_r * (2 * n) ** 2 * 16


def make_cells(
    model: HamiltonianModel, count: int, lo: int, hi: int, max_bytes: float
) -> tuple[list[Cell], int]:
    """``count`` cells (repeating the list if needed) whose predicted model stays below
    ``max_bytes``; also returns how many candidates were left out for size."""
    cells, too_big = [], 0
    for name, st in supercells(model.elements, lo, hi):
        try:
            graph = model.graphs([st])[0]
        except ValueError:
            continue
        est = estimate_bytes(model, graph)
        if est > max_bytes:
            too_big += 1
            continue
        cells.append(Cell(name, st, graph, est))
    if not cells:
        sys.exit(f"no {lo}-{hi}-atom cell within {max_bytes / 2**20:.0f} MiB per prediction")
    return [cells[i % len(cells)] for i in range(count)], too_big


# --- 1 + 2: throughput and memory --------------------------------------------------------
def synchronize(device: str) -> None:
    """Wait for queued GPU work, so that wall-clock times include it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def gpu_peak(device: str, fn: Callable[[], Any]) -> int:
    """Peak GPU memory (bytes) allocated while ``fn`` runs; 0 on CPU."""
    if not device.startswith("cuda"):
        fn()
        return 0
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    synchronize(device)
    return max(0, torch.cuda.max_memory_allocated(device) - base)


def forward_only(
    model: HamiltonianModel, graphs: list[CrystalGraph], bs: int, device: str = "cpu"
) -> None:
    net = model.net.to(device)
    with torch.inference_mode():
        for s in range(0, len(graphs), bs):
            net(batch_graphs(graphs[s : s + bs], dtype=torch.float32).to(device))
    synchronize(device)


def throughput(
    model: HamiltonianModel, cells: list[Cell], repeat: int, workers: int, device: str = "cpu"
) -> dict[int, dict]:
    graphs = [c.graph for c in cells]
    group = max(BATCH_SIZES)
    model.predict_graphs(graphs[:2], 2, device, errors="return", workers=workers)  # warm-up
    forward_only(model, graphs[:2], 2, device)
    out: dict[int, dict] = {}
    for bs in BATCH_SIZES:
        best, peak, tb_bytes, failed = np.inf, 0, 0, 0
        for _ in range(repeat):
            total = 0.0
            for s in range(0, len(graphs), group):  # results of one group held at a time

                def run(part: list[CrystalGraph] = graphs[s : s + group], bs: int = bs) -> list:
                    return model.predict_graphs(
                        part, batch_size=bs, device=device, errors="return", workers=workers
                    )

                tbs, sec, pk = measure_peak(run)
                total += sec
                peak = max(peak, pk)
                ok = [tb for tb in tbs if not isinstance(tb, Exception)]
                failed = max(failed, len(tbs) - len(ok))
                tb_bytes = max(tb_bytes, sum(tb.H.nbytes + tb.S.nbytes for tb in ok))
                del tbs
            best = min(best, total)
        fwd = np.inf
        for _ in range(repeat):
            _, sec, fpk = measure_peak(lambda bs=bs: forward_only(model, graphs, bs, device))
            fwd = min(fwd, sec)
        gpu = gpu_peak(device, lambda bs=bs: forward_only(model, graphs[:bs], bs, device))
        out[bs] = {
            "predict": len(graphs) / best,
            "forward": len(graphs) / fwd,
            "peak_per_structure": peak / min(group, len(graphs)),
            "peak": peak,
            "fwd_peak_per_structure": fpk / min(bs, len(graphs)),
            "gpu_peak_per_structure": gpu / min(bs, len(graphs)),
            "tb_bytes_group": tb_bytes,
            "seconds": best,
            "fwd_seconds": fwd,
            "failed": failed,
        }
    return out


# --- 3: stages per structure -------------------------------------------------------------
def stages(model: HamiltonianModel, ids: list[str], device: str = "cpu") -> list[dict]:
    entries = {e.id: e for e in load_embedded()}
    rows = []
    for sid in ids:
        entry = entries.get(sid)
        if entry is None or not {s.Z for s in entry.structure.composition.elements} <= set(
            model.elements
        ):
            continue
        t0 = time.perf_counter()
        graph = model.graphs([entry.structure])[0]
        t1 = time.perf_counter()
        row: dict[str, Any] = {"id": sid, "atoms": len(entry.structure), "graph": t1 - t0}
        try:
            tb = model.predict_graphs([graph], batch_size=1, device=device)[0]
        except Exception as err:
            row.update(inference=time.perf_counter() - t1, note=f"{type(err).__name__}")
            rows.append(row)
            continue
        t2 = time.perf_counter()
        gap = band_gap(tb, kspacing=KSPACING)
        t3 = time.perf_counter()
        forced = gap.is_metal
        res = compute_z2(tb, n_max=8 if forced else Z2_N_MAX)
        t4 = time.perf_counter()
        row.update(
            inference=t2 - t1,
            gap=t3 - t2,
            z2=t4 - t3,
            forced=forced,
            bands=tb.n_bands,
            n_k=gap.n_k,
            note=f"gap {gap.indirect:+.2f} eV, Z2 {res.label}",
        )
        rows.append(row)
    return rows


# --- 4: reduced vs full tensor product ---------------------------------------------------
def tensor_products(model: HamiltonianModel, graphs: list[CrystalGraph], repeat: int) -> dict:
    batch = batch_graphs(graphs, dtype=torch.float32)
    out = {}
    for mode in ("reduced", "full"):
        torch.manual_seed(0)
        net = HamiltonianNet(replace(model.config, tensor_product=mode)).eval()
        tp = n_params(net.pair_radial) + sum(n_params(layer.radial) for layer in net.layers)
        with torch.inference_mode():
            net(batch)
            best = np.inf
            for _ in range(repeat):
                t0 = time.perf_counter()
                net(batch)
                best = min(best, time.perf_counter() - t0)
        per_edge = net.pair_tp.weight_numel + sum(layer.tp.weight_numel for layer in net.layers)
        out[mode] = {"params": n_params(net), "tp_params": tp, "per_edge": per_edge, "s": best}
        del net
    return out


# --- 5: automatic splitting --------------------------------------------------------------
def splitting(model: HamiltonianModel, graphs: list[CrystalGraph]) -> list[str]:
    sizes: list[int] = []
    ref = model.predict_graphs(graphs, batch_size=len(graphs), errors="return")
    handle = model.net.register_forward_pre_hook(
        lambda _m, args: sizes.append(len(args[0].node_slices))
    )
    lines = []
    try:
        edges = sorted(g.n_edges for g in graphs)
        cap = edges[0] + edges[1]  # two small graphs fit a batch; the largest exceeds it
        got = model.predict_graphs(graphs, batch_size=len(graphs), max_edges=cap, errors="return")
        diff = max(
            (
                float(np.abs(a.H - b.H).max() / np.abs(a.H).max())
                for a, b in zip(ref, got, strict=True)
                if not isinstance(a, Exception) and not isinstance(b, Exception)
            ),
            default=float("nan"),
        )
        lines.append(
            f"max_edges={cap} (graphs of {edges} edges, total {sum(edges)}): "
            f"{len(graphs)} structures in "
            f"{len(sizes)} forward calls of {sizes}; all returned, max |dH| / max |H| vs "
            f"unsplit {diff:.1e} (float32)"
        )
        handle.remove()
        sizes.clear()

        def oom(_m: torch.nn.Module, args: tuple) -> None:
            sizes.append(len(args[0].node_slices))
            if sizes[-1] > 2:
                raise MemoryError("simulated: batch too large")

        handle = model.net.register_forward_pre_hook(oom)
        got = model.predict_graphs(graphs, batch_size=len(graphs), errors="return")
        ok = len(got) == len(graphs) and all(tb is not None for tb in got)
        lines.append(
            f"simulated out-of-memory above 2 graphs per batch: attempts {sizes}; "
            f"{'all ' + str(len(got)) + ' returned' if ok else 'MISSING RESULTS'}"
        )
    finally:
        handle.remove()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fast run (< 2 min)")
    parser.add_argument("--model", help="model directory or name (default: random weights)")
    parser.add_argument("--mem-budget-gb", type=float, default=None,
                        help="cap on the predictions of 32 structures held at once "
                        "(default 4 quick / 8 full)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=None,
                        help="threads building the dense models "
                        "(default: the CPUs this process may use)")  # fmt: skip
    parser.add_argument("--device", default="cpu",
                        help="torch device of the network (cpu, cuda, cuda:1); the dense "
                        "models, gap and Z2 stay on the CPU")  # fmt: skip
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: torch {torch.__version__} sees no CUDA device")
    workers = args.workers or available_cpus()
    quick = args.quick
    print("command: OMP_NUM_THREADS=1 .venv/bin/python " + " ".join(sys.argv))
    budget = (args.mem_budget_gb or (4.0 if quick else 8.0)) * 2**30
    lo, hi = (5, 10) if quick else (5, 20)
    n_struct = 32 if quick else 64
    repeat = 1
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model, desc = get_model(args.model, Path(tmp))
        cfg = model.config
        print(f"model: {desc}")
        print(
            f"  {n_params(model.net)} parameters, tensor product {cfg.tensor_product}, "
            f"{cfg.channels} channels, {cfg.n_layers} layers, r_cut {cfg.r_cut} Å, "
            f"r_mp {cfg.r_mp} Å, padded block {model.net.layout.n_pad}x{model.net.layout.n_pad}"
        )
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s); dense models "
            f"built by {workers} worker thread(s) alongside the forward passes"
        )
        cells, too_big = make_cells(model, n_struct, lo, hi, budget / max(BATCH_SIZES))
        atoms = [len(c.structure) for c in cells]
        edges = [c.graph.n_edges for c in cells]
        print(
            f"cells: {n_struct} structures ({len({c.name for c in cells})} distinct) with "
            f"{min(atoms)}-{max(atoms)} atoms (mean {np.mean(atoms):.1f}), "
            f"{min(edges)}-{max(edges)} edges; {too_big} candidate(s) of {lo}-{hi} atoms left "
            f"out: prediction > {budget / max(BATCH_SIZES) / 2**20:.0f} MiB"
        )

        where = "CPU" if args.device == "cpu" else f"network on {args.device}"
        print(f"\n1-2. throughput and memory ({where}, predict_graphs = forward + dense "
              "TightBinding)")  # fmt: skip
        res = throughput(model, cells, repeat, workers, args.device)
        print(
            f"{'batch':>5} {'predict/s':>10} {'forward/s':>10} {'x bs1':>6} {'fwd x bs1':>9} "
            f"{'peak MiB/struct':>15} {'fwd MiB/struct':>14} {'conversion %':>12}"
        )
        for bs, r in res.items():
            conv = 100 * (1 - r["fwd_seconds"] / r["seconds"])
            print(
                f"{bs:>5} {r['predict']:10.2f} {r['forward']:10.2f} "
                f"{r['predict'] / res[1]['predict']:6.2f} {r['forward'] / res[1]['forward']:9.2f} "
                f"{mb(r['peak_per_structure']):>15} {mb(r['fwd_peak_per_structure']):>14} "
                f"{conv:12.0f}"
            )
            if r["failed"]:
                print(
                    f"      {r['failed']} of the structures came back as errors (e.g. "
                    "indefinite predicted overlap): their timing is the forward pass only"
                )
        if args.device.startswith("cuda"):
            print("GPU memory of the forward pass per structure (MiB), batch "
                  + ", ".join(f"{bs}: {mb(r['gpu_peak_per_structure']).strip()}"
                              for bs, r in res.items()))  # fmt: skip
        mean_tb = np.mean([c.est_bytes for c in cells])
        print(f"dense spinful H+S per predicted structure: mean {mb(mean_tb).strip()} MiB")
        best = max(res[8]["predict"], res[32]["predict"]) / res[1]["predict"]
        verdict = "MET" if best >= 4 else "NOT MET"
        print(f"ratio batched / batch-1 throughput = {best:.2f}x (target >= 4x): {verdict}")

        print("\n3. predict -> gap -> Z2 per structure (s)")
        ids = list(STAGE_IDS[:2] if quick else STAGE_IDS)
        rows = stages(model, ids, args.device)
        print(
            f"{'structure':<16} {'atoms':>5} {'bands':>5} {'graph':>7} {'infer':>7} "
            f"{'gap':>7} {'Z2':>8} {'total':>7}  note"
        )
        for r in rows:
            z2 = f"{r.get('z2', 0):7.2f}{'*' if r.get('forced') else ' '}"
            total = r["graph"] + r["inference"] + r.get("gap", 0) + r.get("z2", 0)
            print(
                f"{r['id']:<16} {r['atoms']:>5} {r.get('bands', 0):>5} {r['graph']:7.2f} "
                f"{r['inference']:7.2f} {r.get('gap', 0):7.2f} {z2} {total:7.2f}  {r['note']}"
            )
        if any(r.get("forced") for r in rows):
            print("  * metal: Z2 timed as one forced pass on the 8-point grid (= one refinement)")

        print("\n4. reduced (Eq. 8) vs full tensor product, same architecture")
        tp_graphs = [c.graph for c in cells[: 4 if quick else 8]]
        tps = tensor_products(model, tp_graphs, repeat + 1)
        n_edges = sum(g.n_edges for g in tp_graphs)
        print(f"{'mode':<8} {'params':>10} {'radial-MLP':>10} {'TP w/edge':>9} "
              f"{'forward s':>9}   ({len(tp_graphs)} structures, {n_edges} edges)")  # fmt: skip
        for mode, r in tps.items():
            print(
                f"{mode:<8} {r['params']:>10} {r['tp_params']:>10} {r['per_edge']:>9} {r['s']:9.3f}"
            )
        red, full = tps["reduced"], tps["full"]
        print(
            f"ratio full / reduced: parameters {full['params'] / red['params']:.1f}x, "
            f"forward time {full['s'] / red['s']:.2f}x"
        )

        print("\n5. automatic batch splitting")
        by_edges = sorted({c.name: c for c in cells}.values(), key=lambda c: c.graph.n_edges)
        split_graphs = [c.graph for c in by_edges[:5]] + [by_edges[-1].graph]
        for line in splitting(model, split_graphs):
            print("  " + line)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
