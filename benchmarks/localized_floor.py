"""Representation floor of the projected basis with and without maximal localization, and
at the pair radii a network can predict (issue 25).

For each compound: the label of record's plane-wave SCF, spin–orbit states at every point
of the SCF grid with their overlaps between neighbouring points
(:func:`~hts_z2.reference.planewave.localize_gpaw.full_grid_states`), the projected
orthonormal model, the same basis maximally localized on its subspace, and the band MAE of
both against the plane-wave bands at Gamma + 9 seeded random k-points (the window of
``projected_floor.py``) with all pairs and with the pairs within 8, 10 and 12 Å only
(``SparseTightBinding.within_radius``; the shipped network predicts pairs within 10 Å).
One JSON line per compound is appended to ``--out``. Needs the ``dft`` extra; 2-20 min per
compound on one core (the full grid is twice the work of ``projected_floor.py``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/localized_floor.py PbTe-Fm-3m [--save DIR]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from projected_floor import planewave_reference  # benchmarks/ is on the path of a script

RADII = (8.0, 10.0, 12.0)


def floors(model, k: np.ndarray, E_ref: np.ndarray, n_el: int) -> dict[str, float]:
    """Band MAE (meV) of ``model`` with all pairs and within each of :data:`RADII`."""
    from hts_z2.hamiltonian.sparse import SparseTightBinding
    from hts_z2.reference.planewave.projected import window_errors

    sparse = SparseTightBinding.from_dense(model, tol=1e-6)
    out = {"all": 1e3 * window_errors(sparse.eigh(k)[0], E_ref, n_el)[0]}
    for r in RADII:
        out[f"{r:g}A"] = 1e3 * window_errors(sparse.within_radius(r).eigh(k)[0], E_ref, n_el)[0]
    return out


def measure(sid: str, args: argparse.Namespace) -> dict:
    from hts_z2.reference.planewave.localize_gpaw import (
        GridLinks,
        build_localized,
        full_grid_states,
    )
    from hts_z2.reference.planewave.projected_gpaw import GridStates
    from hts_z2.reference.planewave.settings import PlaneWaveSettings

    settings = PlaneWaveSettings()
    t0 = time.perf_counter()
    if args.load:  # states computed before, by this script with --save
        states = GridStates.load(f"{args.load}/{sid}_states.npz")
        links = GridLinks.load(f"{args.load}/{sid}_links.npz")
        with np.load(f"{args.load}/{sid}_test.npz") as f:
            k, E_pw = f["k"], f["E"]
        n_el = states.n_electrons
    else:
        calc, n_el, k, E_pw = planewave_reference(sid, settings)
        states, links = full_grid_states(calc, settings)
    if args.save:
        states.save(f"{args.save}/{sid}_states.npz")
        links.save(f"{args.save}/{sid}_links.npz")
        np.savez(f"{args.save}/{sid}_test.npz", k=k, E=E_pw)
    t1 = time.perf_counter()
    projected = build_localized(states, links, iterations=0)
    localized = build_localized(states, links, iterations=args.iterations)
    row = {
        "id": sid,
        "M": localized.model.n_bands,
        "grid": list(states.grid),
        "projected_meV": floors(projected.model, k, E_pw, n_el),
        "localized_meV": floors(localized.model, k, E_pw, n_el),
        "spread_projected_A2": localized.spread_before.total,
        "spread_localized_A2": localized.spread_after.total,
        "spread_invariant_A2": localized.spread_after.invariant,
        "time_reversal_error_eV": localized.time_reversal_error,
        "seconds_states": states.seconds if args.load else t1 - t0,
        "seconds_localize": time.perf_counter() - t1,
    }
    if args.z2:
        from hts_z2.hamiltonian.sparse import SparseTightBinding
        from hts_z2.reference.planewave.record import load_results
        from hts_z2.topology.invariants import z2_invariants

        sparse = SparseTightBinding.from_dense(localized.model, tol=1e-6)
        row["z2_localized"] = str(z2_invariants(sparse).label)
        row["z2_localized_10A"] = str(z2_invariants(sparse.within_radius(10.0)).label)
        record = load_results().get(sid)
        row["z2_label_of_record"] = None if record is None else str(record.label)
    p, loc = row["projected_meV"], row["localized_meV"]
    print(
        f"{sid:16s} {row['M']:4d} {'x'.join(map(str, states.grid)):>8s} "
        f"{p['all']:6.1f} {p['10A']:6.1f} | {loc['all']:6.1f} {loc['8A']:6.1f} "
        f"{loc['10A']:6.1f} {loc['12A']:6.1f} | {row['spread_projected_A2']:7.1f} "
        f"{row['spread_localized_A2']:7.1f} {row['spread_invariant_A2']:7.1f} "
        f"{row['seconds_states']:5.0f} {row['seconds_localize']:5.0f}"
        + (f"  Z2 {row['z2_localized']} / 10 Å {row['z2_localized_10A']} (record "
           f"{row['z2_label_of_record']})" if args.z2 else ""),
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+")
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--save", help="folder for states and links (npz, offline analysis)")
    parser.add_argument("--z2", action="store_true", help="Z2 of the localized model (FHS)")
    parser.add_argument("--load", help="folder of states and links saved before (no GPAW)")
    parser.add_argument("--out", default="localized_floor.jsonl")
    args = parser.parse_args()
    print(
        f"{'compound':16s} {'M':>4s} {'grid':>8s} {'proj':>6s} {'p10A':>6s} | {'loc':>6s} "
        f"{'l8A':>6s} {'l10A':>6s} {'l12A':>6s} | {'spread':>7s} {'loc':>7s} {'inv':>7s} "
        f"{'s':>5s} {'s loc':>5s}"
    )
    for sid in args.ids:
        try:
            row = measure(sid, args)
        except Exception as err:  # one compound's failure is a table row
            print(f"{sid:16s} failed: {type(err).__name__}: {err}", flush=True)
            row = {"id": sid, "error": f"{type(err).__name__}: {err}"}
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
