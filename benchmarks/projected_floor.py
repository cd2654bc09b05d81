"""Representation floor of the projected quasi-atomic basis, against plane waves (issue 25).

For each compound: the label of record's plane-wave PBE SCF, spin–orbit states on a
Gamma-centred grid (one of each k, -k), the projected orthonormal model
(:mod:`hts_z2.reference.planewave.projected`), and at Gamma + 9 seeded random k-points
(off the grid, the same points as ``basis_floor.py``) the plane-wave spin–orbit bands
themselves. Prints per compound:

- the basis size (spin-orbitals) and grid;
- the band MAE of the model against plane waves from 1 eV below the valence-band maximum
  to 1 eV above the conduction-band minimum (no alignment: the same potential), of the
  model with the atom pairs within 10 Å only (the network's pair radius), and the
  largest error;
- the smallest singular value of the trial projections (gauge smoothness) and the
  grid points whose frozen window held more bands than the basis;
- the model's min eig S(k) is 1 (orthonormal basis);
- optionally (``--z2``) the model's Z2 by FHS next to the label of record.

One JSON line per compound is appended to ``--out``. Needs the ``dft`` extra.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/projected_floor.py PbTe-Fm-3m [--grid 6 6 6]
"""

from __future__ import annotations

import argparse
import glob
import json
import time

import numpy as np
from representation_floor import window_mae  # benchmarks/ is on the path of a script


def label_of_record(sid: str) -> str | None:
    from hts_z2.reference.planewave.record import load_results

    rec = load_results().get(sid)
    return None if rec is None else str(rec.label)


def main() -> None:
    from hts_z2.reference.planewave.projected import DISENTANGLE_SIGMA
    from hts_z2.reference.planewave.projected_gpaw import FROZEN_MARGIN
    from hts_z2.reference.planewave.settings import PlaneWaveSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+")
    parser.add_argument("--grid", nargs=3, type=int, help="k-grid (default: the SCF grid)")
    parser.add_argument("--margin", type=float, default=FROZEN_MARGIN)
    parser.add_argument("--sigma", type=float, default=DISENTANGLE_SIGMA)
    parser.add_argument("--save", help="folder for the grid states (npz, offline analysis)")
    parser.add_argument("--load", help="folder of grid states saved before (no GPAW)")
    parser.add_argument("--z2", action="store_true", help="Z2 of the model by FHS")
    parser.add_argument("--out", default="projected_floor.jsonl")
    args = parser.parse_args()
    settings = PlaneWaveSettings()
    print(
        f"{'compound':18s} {'M':>4s} {'grid':>8s} {'floor meV':>9s} {'10 Å':>6s} {'max meV':>8s} "
        f"{'gap PW':>7s} {'gap':>7s} {'min sv':>7s} {'trunc':>5s} {'s':>6s}"
    )
    for sid in args.ids:
        try:
            row = measure(sid, args, settings)
        except Exception as err:  # one compound's failure is a table row
            print(f"{sid:18s} failed: {type(err).__name__}: {err}", flush=True)
            row = {"id": sid, "error": f"{type(err).__name__}: {err}"}
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


def planewave_reference(sid: str, settings):
    """(converged SCF calculator, valence electrons, check k-points [10, 3], plane-wave
    spin–orbit bands there) of an embedded compound: Gamma + 9 seeded random points."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from hts_z2.reference.convert import band_kpoints
    from hts_z2.reference.planewave.gpaw_pw import n_valence, run_pw_scf, soc_states
    from hts_z2.structures.embedded import get_embedded

    atoms = AseAtomsAdaptor.get_atoms(get_embedded(sid).structure)
    calc = run_pw_scf(atoms, settings)
    n_el = n_valence(calc)
    k = band_kpoints(sid)
    return calc, n_el, k, soc_states(calc, k, settings, n_el).energies


def measure(sid: str, args: argparse.Namespace, settings) -> dict:
    """SCF, grid states, projected model and its floor for one compound (one table row)."""
    from hts_z2.hamiltonian.sparse import SparseTightBinding
    from hts_z2.reference.planewave.projected_data import PAIR_RADIUS
    from hts_z2.reference.planewave.projected_gpaw import (
        GridStates,
        build_projected,
        grid_states,
    )

    t0 = time.perf_counter()
    if args.load:  # states computed before, by this script with --save
        (path,) = glob.glob(f"{args.load}/{sid}_*x*x*.npz")
        states = GridStates.load(path)
        with np.load(f"{args.load}/{sid}_test.npz") as f:
            k, E_pw = f["k"], f["E"]
        n_el = states.n_electrons
    else:
        calc, n_el, k, E_pw = planewave_reference(sid, settings)
        states = grid_states(calc, settings, tuple(args.grid) if args.grid else None)
    if args.save:
        states.save(f"{args.save}/{sid}_{'x'.join(map(str, states.grid))}.npz")
        np.savez(f"{args.save}/{sid}_test.npz", k=k, E=E_pw)
    basis = build_projected(states, margin=args.margin, sigma=args.sigma)
    E, _ = basis.model.eigh(k)
    vbm, cbm = E_pw[:, n_el - 1].max(), E_pw[:, n_el].min()
    lo, hi = min(vbm, cbm) - 1.0, max(vbm, cbm) + 1.0
    m = min(E.shape[1], E_pw.shape[1])
    sel = (E_pw[:, :m] >= lo) & (E_pw[:, :m] <= hi)
    gap_pw = float((E_pw[:, n_el] - E_pw[:, n_el - 1]).min())
    gap = float((E[:, n_el] - E[:, n_el - 1]).min())
    near = SparseTightBinding.from_dense(basis.model).within_radius(PAIR_RADIUS)
    row = {
        "id": sid,
        "M": basis.model.n_bands,
        "n_electrons": n_el,
        "grid": list(basis.grid),
        "floor_meV": 1e3 * window_mae(E, E_pw, n_el),
        "floor_within_radius_meV": 1e3 * window_mae(near.eigh(k)[0], E_pw, n_el),
        "max_meV": 1e3 * float(np.abs(E[:, :m] - E_pw[:, :m])[sel].max()),
        "direct_gap_pw": gap_pw,
        "direct_gap_model": gap,
        "min_singular": basis.min_singular,
        "truncated_k": basis.truncated,
        "n_R": len(basis.model.R),
        "seconds": states.seconds if args.load else time.perf_counter() - t0,
        "seconds_states": basis.seconds["states"],
    }
    if args.z2:
        from hts_z2.topology.invariants import z2_invariants

        row["z2_model"] = z2_invariants(basis.model).label
        row["z2_label_of_record"] = label_of_record(sid)
    print(
        f"{sid:18s} {row['M']:4d} {'x'.join(map(str, basis.grid)):>8s} "
        f"{row['floor_meV']:9.1f} {row['floor_within_radius_meV']:6.1f} {row['max_meV']:8.1f} "
        f"{gap_pw:7.3f} {gap:7.3f} "
        f"{row['min_singular']:7.3f} {row['truncated_k']:5d} {row['seconds']:6.0f}"
        + (f"  Z2 {row['z2_model']} (record {row['z2_label_of_record']})" if args.z2 else ""),
        flush=True,
    )
    return row


if __name__ == "__main__":
    main()
