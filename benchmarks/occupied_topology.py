"""Band-topology agreement of a model with the reference, whatever the sign of the gap.

A model diagnostic, not a speed target. Screening labels a structure "metal" as soon as
its bands overlap anywhere, so a model whose gap is off by a few tens of meV disagrees
with the reference label even when it gets the band inversion right. This compares the
Z2 of the lowest ``n_occ`` bands instead (``hts_z2.reference.pipeline.occupied_label``):
an insulator's label, or a metal's occupied-manifold label when its direct gap stays
open. The reference side is read from the dataset (stored with every sample); the model
side is predicted through the inference path (``HamiltonianModel.predict``, the shipped
overlap cutoff) and labelled like the reference.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/occupied_topology.py [--model NAME]
        [--parts test val] [--extra-val hts_z2/data/extra_val] [--out rows.json]

About 20 CPU-min for the 32 test samples of hts-z2-soc-v5.1.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pymatgen.core import Lattice, Structure

from hts_z2.model.predictor import load_model
from hts_z2.reference.pipeline import occupied_label, reference_labels
from hts_z2.training.dataset import add_validation_only, embedded_split, load_dataset


def structure_of(sample) -> Structure:
    """The sample's crystal (fractional positions)."""
    return Structure(Lattice(sample.lattice), sample.numbers.tolist(), sample.positions)


def stored_labels(sample) -> dict:
    """The reference labels stored with the sample, in ``reference_labels``' layout."""
    ref = sample.meta.get("reference", {})
    return {"z2": ref.get("z2", {"label": "?"}), "z2_manifold": ref.get("z2_manifold")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or directory (default: shipped)")
    parser.add_argument("--parts", nargs="+", default=["test"], choices=["val", "test"])
    parser.add_argument("--extra-val", type=Path, action="append", default=[],
                        help="validation-only dataset directories (with --parts val)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write every row as JSON")
    args = parser.parse_args()
    model = load_model(args.model)
    try:
        split, by_id = embedded_split(model.config.training)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    for root in args.extra_val:
        extra = load_dataset(root)
        split = add_validation_only(split, model.config.basis, model.config.valence, extra)
        by_id.update({s.sample_id: s for s in extra.samples})
    print(f"model {model.name} (sha256 {model.sha256[:12]}), overlap cutoff "
          f"{model.config.overlap_cutoff:g}")  # fmt: skip
    rows = []
    for part in args.parts:
        for sid in split[part]:
            t0 = time.perf_counter()
            sample = by_id[sid]
            ref = stored_labels(sample)
            pred = reference_labels(model.predict([structure_of(sample)])[0])
            row = {
                "part": part,
                "id": sid,
                "reference": ref["z2"]["label"],
                "predicted": pred["z2"]["label"],
                "reference_occupied": occupied_label(ref),
                "predicted_occupied": occupied_label(pred),
            }
            rows.append(row)
            print(f"{part:4} {sid:34} label {row['reference']:16} -> {row['predicted']:16} "
                  f"occupied {row['reference_occupied']:16} -> {row['predicted_occupied']:16} "
                  f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    print("\nagreement with the reference")
    for part in args.parts:
        got = [r for r in rows if r["part"] == part]
        labels = sum(r["reference"] == r["predicted"] for r in got)
        occupied = sum(r["reference_occupied"] == r["predicted_occupied"] for r in got)
        print(f"{part:4} screening labels {labels}/{len(got)}, "
              f"occupied-band topology {occupied}/{len(got)}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
