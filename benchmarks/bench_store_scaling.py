"""The embedded store as it grows: per-material time of a campaign's store work at 1k and
10k stored results.

A campaign asks the store, chunk by chunk, which materials it already has
(``existing``) and then writes each new result (``upsert``: the check and the write
under the store's lock). montydb evaluates every query and every replace by reading every
document, which made that work grow with the store; the key index
(:mod:`hts_z2.store.keyindex`) answers the lookups and lets new results be inserted by
their key. Measured in one run, in temporary stores:

1. fill a store to N results (1,000, then 10,000), then time a campaign's store work for
   the next 320 results (chunks of 16: one ``existing`` per chunk, one ``upsert`` per
   material, as ``process_chunk`` does) -> ms per material at each N and their ratio
   (target: within 1.5x);
2. the same at 1,000 results with the index switched off (``keys = None``: every lookup
   and write reads the documents), for the factor the index saves.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_store_scaling.py [--quick]

``--quick`` uses 500 and 2,000 results.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hts_z2.schemas.result import GapDoc, ModelRef, ResultDoc, Z2Doc
from hts_z2.store import open_store

MODEL = ModelRef(name="bench", sha256="5e" * 32)
CHUNK = 16


def result(i: int) -> ResultDoc:
    """A done result of realistic size (no structure: 1-2 KB as BSON)."""
    return ResultDoc(
        material_id=f"mat-{i:06d}", source="files", formula="Bi2Se3",
        elements=["Bi", "Se"], nelements=2, nsites=5, spacegroup=166, model=MODEL,
        status="done", label="STI (1;000)",
        gap=GapDoc(indirect=0.3, direct=0.35, is_metal=False, n_k=400,
                   k_vbm=[0.0, 0.0, 0.0], k_cbm=[0.0, 0.0, 0.0]),
        z2=Z2Doc(planes=[1, 0, 1, 0, 1, 0], nu0=1, nu=[0, 0, 0], label="STI (1;000)",
                 min_plane_gap=0.3, converged=True, grid=[8, 4]),
        timings={"read": 0.01, "inference": 0.2, "gap": 1.0, "z2": 1.0},
    )


def fill(store, start: int, stop: int) -> None:
    for lo in range(start, stop, 500):
        store.upsert([result(i) for i in range(lo, min(stop, lo + 500))])


def campaign_ms(store, start: int, n: int) -> float:
    """ms per material of a campaign's store work for results start..start+n."""
    t0 = time.perf_counter()
    for lo in range(start, start + n, CHUNK):
        ids = [f"mat-{i:06d}" for i in range(lo, lo + CHUNK)]
        store.existing(MODEL.sha256, ids)
        for i in range(lo, lo + CHUNK):
            store.upsert([result(i)])
    return (time.perf_counter() - t0) / n * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    small, large = (500, 2000) if args.quick else (1000, 10000)
    measured = 320
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(Path(tmp) / "grow") as store:
            t0 = time.perf_counter()
            fill(store, 0, small)
            at_small = campaign_ms(store, small, measured)
            fill(store, small + measured, large)
            at_large = campaign_ms(store, large + measured, measured)
            total = store.count()
            elapsed = time.perf_counter() - t0
        with open_store(Path(tmp) / "scan") as store:
            fill(store, 0, small)
            keys, store.keys = store.keys, None  # the lookups and writes without the index
            try:
                scanning = campaign_ms(store, small, measured // 4)
            finally:
                store.keys = keys
    print(f"store work per material, {measured} new results in chunks of {CHUNK} "
          f"(embedded store, {total} results at the end, {elapsed:.0f} s):")
    print(f"  at {small:>6,} stored: {at_small:7.2f} ms")
    print(f"  at {large:>6,} stored: {at_large:7.2f} ms")
    print(f"  ratio {large // small}x the results: {at_large / at_small:.2f}x the time "
          "(target <= 1.5x)")
    print(f"  without the key index at {small:,} stored: {scanning:.1f} ms "
          f"({scanning / at_small:.0f}x; grows with the store)")


if __name__ == "__main__":
    main()
