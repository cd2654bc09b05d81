"""End-to-end screening throughput and memory per structure, side by side in one run.

The same command, ``hts-z2 screen --source demo --kspacing 0.3`` (predict -> gap -> Z2 ->
store, no first-principles confirmation), screens the embedded set with the shipped model
into a fresh embedded store, three times, each in its own process:

1. ``baseline``: the code of a reference commit (default 4a9dc72, the dense path before
   this benchmark existed), checked out into a temporary git worktree, given this tree's
   embedded structures (positions of five compounds were refined since);
2. ``dense``: this tree with ``--model-form dense`` (the H(R), S(R) lists);
3. ``sparse``: this tree with the default block-sparse model (``--model-form sparse``).

It prints per run the wall time, structures per minute, peak RSS and the stage seconds
summed from the stored documents, the ratios to the baseline, and whether the stored labels
(and Z2 planes) agree between runs. Then, in this process, the memory per structure: the
bytes of each predicted model in both forms and the peak of traced allocations while one
structure is predicted and assessed (gap + Z2), mean and largest over the set.

    .venv/bin/python benchmarks/bench_throughput.py [--baseline REV] [--skip-baseline]

``--device cuda`` screens with inference on a GPU (the baseline is skipped there, the
batch sizes 1 and 32 are compared instead: ``--batches 1 32``); ``--bands-device cuda``
adds runs with the Bloch sums and eigensolves of gap and Z2 on the GPU as well.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN = "from hts_z2.cli.app import main; main()"
EMBEDDED = "hts_z2/data/structures/embedded.json"


def run_screen(tree: Path, db: Path, extra: list[str], device: str, batch: int) -> dict:
    """One ``hts-z2 screen`` of the demo set in a child process: wall s, peak RSS MiB."""
    cmd = [sys.executable, "-c", SCREEN, "screen", "--source", "demo", "--kspacing", "0.3",
           "--db", str(db), "--show", "none", "--device", device, "--batch-size", str(batch),
           *extra]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(tree), HTS_Z2_MODELS=str(tree / "models"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"screen failed in {tree}:\n{out[-3000:]}")
    return {"wall": wall, "rss_mib": usage.ru_maxrss / 1024}


def stored(db: Path) -> dict[str, dict]:
    """material_id -> (status, label, planes, gap, timings) of the documents in ``db``."""
    from hts_z2.store import open_store

    store = open_store(str(db))
    out = {}
    for d in store.find({}):
        z2 = d.get("z2") or {}
        out[d["material_id"]] = {
            "status": d["status"],
            "label": d.get("label"),
            "planes": z2.get("planes"),
            "gap": (d.get("gap") or {}).get("indirect"),
            "timings": d.get("timings") or {},
        }
    store.close()
    return out


def memory_per_structure(device: str) -> None:
    """Model bytes (dense vs sparse) and traced peak while predicting + assessing."""
    import numpy as np

    from hts_z2.model.predictor import load_model
    from hts_z2.structures.embedded import load_embedded
    from hts_z2.topology.assess import assess

    model = load_model()
    rows = []
    for entry in load_embedded():
        try:
            sparse = model.predict([entry.structure], device=device, form="sparse")[0]
        except ValueError:
            continue  # odd electron count or elements outside the basis: not predicted
        dense = sparse.to_dense()
        dense_mib = (dense.H.nbytes + dense.S.nbytes) / 2**20
        del dense
        peaks = []
        for form in ("dense", "sparse"):
            tracemalloc.start()
            tb = model.predict([entry.structure], device=device, form=form)[0]
            assess(tb, 0.3, model.band_error, n_max=64)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
            del tb
        rows.append((entry.id, dense_mib, sparse.nbytes / 2**20, *peaks))
    a = np.array([r[1:] for r in rows])
    print(f"\nmemory per structure over {len(rows)} predicted structures (MiB; mean / largest)")
    print(f"  dense H(R)+S(R) lists   {a[:, 0].mean():7.1f} / {a[:, 0].max():7.1f}")
    print(f"  sparse blocks           {a[:, 1].mean():7.2f} / {a[:, 1].max():7.2f}"
          f"   ({a[:, 0].mean() / a[:, 1].mean():.0f}x less on average)")
    print(f"  traced peak, dense path  {a[:, 2].mean():6.1f} / {a[:, 2].max():7.1f}"
          "   (predict + gap + Z2 of one structure)")
    print(f"  traced peak, sparse path {a[:, 3].mean():6.1f} / {a[:, 3].max():7.1f}")
    big = max(rows, key=lambda r: r[2])
    print(f"  largest sparse model: {big[0]} ({big[2]:.2f} MiB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", default="4a9dc72", help="reference commit (dense path)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", type=int, nargs="+", default=[8],
                    help="batch sizes of the sparse runs (e.g. 1 32 on a GPU)")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--bands-device", default=None,
                    help="also screen sparse with gap and Z2 on this torch device (e.g. cuda)")
    args = ap.parse_args()

    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hts-z2-throughput-") as tmp:
        tmp_path = Path(tmp)
        plan: list[tuple[str, Path, list[str], int]] = []
        if not args.skip_baseline and args.device == "cpu":
            base = tmp_path / "baseline-tree"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base),
                            args.baseline], check=True, capture_output=True)  # fmt: skip
            # the same input: the embedded structures of this tree (some positions were
            # refined after older commits)
            shutil.copy(ROOT / EMBEDDED, base / EMBEDDED)
            plan.append((f"baseline {args.baseline}", base, [], 8))
        plan.append(("dense", ROOT, ["--confirm", "none", "--model-form", "dense"], 8))
        for b in args.batches:
            plan.append((f"sparse b{b}", ROOT, ["--confirm", "none", "--model-form", "sparse"], b))
            if args.bands_device:
                plan.append((f"sparse b{b} bands@{args.bands_device}", ROOT,
                             ["--confirm", "none", "--bands-device", args.bands_device], b))
        try:
            for name, tree, extra, batch in plan:
                db = tmp_path / name.replace(" ", "-")
                print(f"screening the embedded set: {name} ...", flush=True)
                res = run_screen(tree, db, extra, args.device, batch)
                res["docs"] = stored(db)
                runs[name] = res
        finally:
            if not args.skip_baseline and args.device == "cpu":
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tmp_path / "baseline-tree")], capture_output=True)  # fmt: skip

    names = list(runs)
    ref = runs[names[0]]
    print(f"\n{'run':22s} {'wall s':>7s} {'struct/min':>10s} {'x ' + names[0][:12]:>16s} "
          f"{'peak RSS MiB':>12s}  stage seconds summed (inference / gap / z2)")
    for name in names:
        r = runs[name]
        n = len(r["docs"])
        per_min = 60 * n / r["wall"]
        stages = {s: sum(d["timings"].get(s, 0.0) for d in r["docs"].values())
                  for s in ("inference", "gap", "z2")}  # fmt: skip
        # inference timings are per record of a chunk: summed over records they add up
        print(f"{name:22s} {r['wall']:7.1f} {per_min:10.1f} {ref['wall'] / r['wall']:16.2f} "
              f"{r['rss_mib']:12.0f}  {stages['inference']:.1f} / {stages['gap']:.1f} / "
              f"{stages['z2']:.1f}")
    for name in names[1:]:
        a, b = ref["docs"], runs[name]["docs"]
        same = [m for m in a if m in b and a[m]["label"] == b[m]["label"]
                and a[m]["planes"] == b[m]["planes"] and a[m]["status"] == b[m]["status"]]
        diff = sorted(set(a) ^ set(b)) + [m for m in a if m in b and m not in same]
        print(f"labels {names[0]} vs {name}: {len(same)} / {len(a)} identical"
              + (f"; differ: {diff}" if diff else ""))
        gaps = [abs(a[m]["gap"] - b[m]["gap"]) for m in same
                if a[m]["gap"] is not None and b[m]["gap"] is not None]
        if gaps:
            print(f"  largest gap difference {max(gaps):.2e} eV")
    print(json.dumps({n: {"wall": r["wall"], "rss_mib": r["rss_mib"], "n": len(r["docs"])}
                      for n, r in runs.items()}))  # fmt: skip
    if not args.skip_memory:
        memory_per_structure(args.device)


if __name__ == "__main__":
    main()
