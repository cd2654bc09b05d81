"""Screening end to end: structures per minute, time by stage, memory vs campaign size.

Measured in one run through the real screening code path (``run_campaign``: source ->
candidate filter -> batched inference -> gap -> Z2 -> result store) into a temporary
embedded (montydb) store:

1. structures per minute on the embedded demo set, and the time split by stage (read,
   filter, inference, gap, Z2, store; "other" is the rest of the wall time: result
   documents, bookkeeping);
2. peak memory as the number of streamed structures grows 10x: N and 10N strained copies
   of one structure (``files`` source, chunks of N), each campaign in a fresh process;
   flat means the peak RSS growth does not scale with the number of structures
   (N = 10, or 4 with ``--quick``; a coarser gap grid, kspacing 0.3, keeps them short).

The model is the one of ``benchmarks/bench_model.py``: random weights on the reference
dataset's basis with the overlap pinned to the identity, or ``--model``. Random weights give
metallic bands, so screening (which computes Z2 only for insulators) spends no Z2 time;
use the trained model for a representative Z2 share.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_screen.py [--quick] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, ClassVar

from bench_model import get_model, measure_peak, rss_bytes

import hts_z2.flows.screening as screening
from hts_z2.flows.screening import CampaignCounts, ScreeningSettings, run_campaign
from hts_z2.model.predictor import load_model
from hts_z2.store import open_store
from hts_z2.structures.embedded import get_embedded
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec

QUICK_IDS = [
    "PbTe-Fm-3m", "Bi-R-3m", "Pb-Fm-3m", "HgTe-F-43m", "TlCl-Pm-3m", "Au-Fm-3m",
    "CdTe-F-43m", "WC-P-6m2", "SnTe-Fm-3m", "HgSe-F-43m",
]  # fmt: skip
MEMORY_KSPACING = 0.3  # coarser gap grid for the memory runs (k-points go in chunks anyway)
STAGES = ("read", "filter", "inference", "gap", "z2", "store")
SECONDS: defaultdict[str, float] = defaultdict(float)


class _Timer:
    """Adds the time of the outermost ``with`` to ``SECONDS[stage]`` (nesting-safe)."""

    depth: ClassVar[defaultdict[str, int]] = defaultdict(int)

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.t0 = 0.0

    def __enter__(self) -> None:
        if self.depth[self.stage] == 0:
            self.t0 = time.perf_counter()
        self.depth[self.stage] += 1

    def __exit__(self, *exc: object) -> None:
        self.depth[self.stage] -= 1
        if self.depth[self.stage] == 0:
            SECONDS[self.stage] += time.perf_counter() - self.t0


class TimedFilter(CandidateFilter):
    """The default candidate filter, timing its checks."""

    def check_metadata(self, *args: Any, **kwargs: Any) -> str | None:
        with _Timer("filter"):
            return super().check_metadata(*args, **kwargs)

    def check_structure(
        self, structure: Any, model_elements: Collection[int] | None = None
    ) -> str | None:
        with _Timer("filter"):
            return super().check_structure(structure, model_elements)


class TimedStore:
    """Result-store proxy timing the calls screening makes (``upsert``, ``existing``)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def upsert(self, docs: Any) -> int:
        with _Timer("store"):
            return self._store.upsert(docs)

    def existing(self, sha: str, ids: Any) -> dict[str, str]:
        with _Timer("store"):
            return self._store.existing(sha, ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def instrumented_campaign(
    spec: SourceSpec, model: Any, db: Path, chunk_size: int
) -> tuple[CampaignCounts, float, dict[str, float], list[str]]:
    """``run_campaign`` with the source and ``load_structures`` timed as "read"."""
    SECONDS.clear()
    iter_source, load_structures = screening.iter_source, screening.load_structures

    def timed_iter(*args: Any, **kwargs: Any) -> Iterator:
        it = iter_source(*args, **kwargs)
        while True:
            with _Timer("read"):
                record = next(it, None)
            if record is None:
                return
            yield record

    def timed_load(records: Any) -> None:
        with _Timer("read"):
            load_structures(records)

    screening.iter_source, screening.load_structures = timed_iter, timed_load
    try:
        with open_store(db) as raw:
            t0 = time.perf_counter()
            counts = run_campaign(
                spec, model, TimedStore(raw), TimedFilter(), ScreeningSettings(),
                chunk_size=chunk_size,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            assert raw.duplicates() == 0
            failed = [
                f"{d['material_id']}: {d.get('reason')}" for d in raw.find({"status": "failed"})
            ]
    finally:
        screening.iter_source, screening.load_structures = iter_source, load_structures
    stages = dict(SECONDS)
    for stage in ("inference", "gap", "z2"):
        stages[stage] = counts.seconds.get(stage, 0.0)
    return counts, wall, stages, failed


def strained_copies(base_id: str, n: int, directory: Path) -> None:
    """``n`` isotropically strained copies (+0.1 % steps) as pymatgen JSON files."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        st = get_embedded(base_id).structure
        st.scale_lattice(st.volume * (1 + 0.001 * (i + 1)) ** 3)
        (directory / f"{base_id}__strain{i:04d}.json").write_text(json.dumps(st.as_dict()))


def child(model_dir: str, files: str, n: int, chunk: int, db: str, kspacing: float) -> None:
    """One campaign in this process; prints its memory figures as JSON.

    The peak is the kernel's high-water mark of this process (reset after the model is
    loaded; ``ru_maxrss`` would carry the parent's peak over the fork).
    """
    model = load_model(model_dir)
    spec = SourceSpec(kind="files", paths=[files], limit=n)
    settings = ScreeningSettings(kspacing=kspacing)

    def run() -> tuple[CampaignCounts, int]:
        with open_store(db) as store:
            counts = run_campaign(spec, model, store, CandidateFilter(), settings, chunk_size=chunk)
            return counts, store.count()

    (counts, stored), seconds, growth = measure_peak(run)
    print(json.dumps({
        "n": n, "read": counts.read, "done": counts.done, "failed": counts.failed,
        "stored": stored, "seconds": seconds, "growth": growth, "rss": rss_bytes(),
    }))  # fmt: skip


def memory_runs(model_dir: Path, n: int, base_id: str, kspacing: float, tmp: Path) -> list[dict]:
    files = tmp / "strained"
    strained_copies(base_id, 10 * n, files)
    out = []
    for size in (n, 10 * n):
        cmd = [sys.executable, __file__, "--child", str(model_dir), str(files), str(size),
               str(n), str(tmp / f"db-mem-{size}"), str(kspacing)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(f"memory run with {size} structures failed:\n{proc.stderr[-2000:]}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        model_dir, files, n, chunk, db, kspacing = sys.argv[2:8]
        child(model_dir, files, int(n), int(chunk), db, float(kspacing))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fast run (< 2 min)")
    parser.add_argument("--model", help="model directory or name (default: random weights)")
    parser.add_argument("--memory-structure", default="Pb-Fm-3m",
                        help="embedded id strained into the memory campaigns")  # fmt: skip
    args = parser.parse_args()
    print("command: OMP_NUM_THREADS=1 .venv/bin/python " + " ".join(sys.argv))
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        model, desc = get_model(args.model, tmp)
        print(f"model: {desc}")
        model_dir = model.path if model.path is not None else tmp / "random"

        ids = QUICK_IDS if args.quick else []
        spec = SourceSpec(kind="demo", paths=ids)
        counts, wall, stages, failed = instrumented_campaign(spec, model, tmp / "db-demo", 16)
        label = f"{len(ids)} demo structures" if ids else "the whole demo set"
        screened = counts.done + counts.failed - counts.existing
        print(f"\n1. end to end on {label} (run_campaign, chunks of 16, batch 8, CPU)")
        print(
            f"read {counts.read} = done {counts.done} + skipped {counts.skipped} + failed "
            f"{counts.failed}   wall {wall:.1f} s"
        )
        print(
            f"throughput: {60 * counts.read / wall:.1f} structures/min read, "
            f"{60 * screened / wall:.1f} candidates/min through inference"
        )
        other = wall - sum(stages.get(s, 0.0) for s in STAGES)
        print(f"{'stage':<10} {'seconds':>8} {'share':>6} {'s/candidate':>11}")
        for stage in (*STAGES, "other"):
            s = other if stage == "other" else stages.get(stage, 0.0)
            per = s / screened if screened else float("nan")
            print(f"{stage:<10} {s:8.2f} {100 * s / wall:5.1f}% {per:11.3f}")
        if not stages.get("z2"):
            print("  (no Z2 time: every screened structure came out metallic or failed)")
        for line in failed:
            print(f"  failed {line[:150]}")

        n, kspacing = (4 if args.quick else 10), MEMORY_KSPACING
        print(
            f"\n2. memory vs campaign size: {n} and {10 * n} strained copies of "
            f"{args.memory_structure}, chunks of {n}, kspacing {kspacing}, one process each"
        )
        runs = memory_runs(model_dir, n, args.memory_structure, kspacing, tmp)
        print(f"{'structures':>10} {'done':>5} {'stored':>6} {'seconds':>8} "
              f"{'peak growth MiB':>15} {'RSS after MiB':>13}")  # fmt: skip
        for r in runs:
            print(
                f"{r['n']:>10} {r['done']:>5} {r['stored']:>6} {r['seconds']:8.1f} "
                f"{mib(r['growth']):>15} {mib(r['rss']):>13}"
            )
        small, big = (r["growth"] for r in runs)
        print(f"ratio peak RSS growth {10 * n} / {n} structures = {big / max(small, 1):.2f}x "
              "(flat: about 1x)")  # fmt: skip
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
