"""Screening-label agreement of a trained model per overlap cutoff, on its val and test splits.

A model diagnostic, not a speed target: ``hts_z2.training.calibrate`` chooses a model's
cutoff on the validation split (by labels, then band MAE); this shows, on the validation
and the test split, what each candidate cutoff does to the quantity screening reports,
the screening label, against the labels of the reference Hamiltonians stored with the
dataset. The split is rebuilt with the training
seed and checked against the test ids recorded in the model's config. With
``--reference`` the stored reference H and S are labelled instead of the model's
prediction: the most a model solved at that cutoff could agree on (the truncation
alone), in the model's solved sub-basis (``--solve-basis`` picks another one, e.g. the
ceiling of an szp model from a dzp one: ``--reference --solve-basis szp --cutoffs 0``).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/cutoff_labels.py [--model NAME]
        [--cutoffs 0.01 0.03 0.1] [--out labels.json] [--limit N]
        [--reference [--solve-basis model|full|szp]]

About 16 CPU-min for hts-z2-soc-v3 (50 structures, rattled cells take 1-2 min each).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.model.predictor import load_model
from hts_z2.model.slots import SlotLayout
from hts_z2.training.calibrate import labels_by_cutoff
from hts_z2.training.data import build_item
from hts_z2.training.dataset import embedded_split
from hts_z2.training.evaluate import predicted_label


def reference_model(sample, cfg, layout):
    """The sample's reference H and S, restricted to the model's solved sub-basis."""
    tb = sample.tight_binding()
    index = build_item(sample, cfg, layout).orbital_index
    if index is None:
        return tb
    return tb.sub_basis(index, orbital_table([cfg.solved_shells(z) for z in sample.numbers]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or directory (default: shipped)")
    parser.add_argument("--cutoffs", type=float, nargs="+", default=[1e-2, 3e-2, 1e-1])
    parser.add_argument("--out", type=Path, default=None, help="write every label as JSON")
    parser.add_argument("--limit", type=int, default=None, help="first N samples per split")
    parser.add_argument(
        "--reference", action="store_true", help="label the reference H and S, not the model's"
    )
    parser.add_argument(
        "--solve-basis",
        choices=["model", "full", "szp"],
        default="model",
        help="with --reference: the sub-basis the reference is solved in (default: the model's)",
    )
    args = parser.parse_args()
    model = load_model(args.model)
    cfg = model.config
    if args.solve_basis != "model":
        if not args.reference:
            raise SystemExit("--solve-basis applies to --reference only")
        from hts_z2.reference.basis_export import solve_shells

        cfg = replace(cfg, solve_shells=solve_shells(cfg.basis, args.solve_basis))
    try:
        split, by_id = embedded_split(model.config.training)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    layout = SlotLayout.from_basis(model.config.basis)
    print(f"model {model.name} (sha256 {model.sha256[:12]}), shipped cutoff "
          f"{model.config.overlap_cutoff:g}")  # fmt: skip
    if args.reference:
        print("labelling the reference H and S of the model's split (truncation alone)")
    rows = []
    for part in ("val", "test"):
        for sid in split[part][: args.limit]:
            sample = by_id[sid]
            ref = sample.meta.get("reference", {}).get("z2", {}).get("label", "?")
            t0 = time.perf_counter()
            if args.reference:
                tb = reference_model(sample, cfg, layout)
                got = {c: predicted_label(lambda c=c, tb=tb: tb.replace(overlap_cutoff=c))
                       for c in args.cutoffs}  # fmt: skip
            else:
                item = build_item(sample, model.config, layout)
                got = labels_by_cutoff(model.net, item, args.cutoffs, model.overlap)
            labels = {str(c): label for c, label in got.items()}
            rows.append({"part": part, "id": sid, "reference": ref, **labels})
            shown = "  ".join(f"{c}: {labels[str(c)]}" for c in args.cutoffs)
            print(f"{part:4} {sid:36} ref {ref:16} {shown}  ({time.perf_counter() - t0:.0f} s)")
    print("\nagreement with the reference labels")
    for part in ("val", "test"):
        part_rows = [r for r in rows if r["part"] == part]
        counts = "  ".join(
            f"{c}: {sum(r[str(c)] == r['reference'] for r in part_rows)}/{len(part_rows)}"
            for c in args.cutoffs
        )
        print(f"{part:4} {counts}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
