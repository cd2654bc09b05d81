"""Two models' screening labels on the validation samples, side by side, with McNemar's
exact test on the samples where they differ (``hts_z2.training.paired_labels``).

A model diagnostic for model selection, not a speed target. It reads the per-sample
validation labels that the calibration stores in each model's ``config.json`` (models
calibrated by labels since 2026-12-03, e.g. by ``hts-z2 recalibrate --extra-val``), at
each model's own overlap cutoff unless ``--cutoff-a`` / ``--cutoff-b`` are given (one
model against itself at two cutoffs: pass it twice); nothing is recomputed.

    .venv/bin/python benchmarks/compare_validation.py MODEL_A MODEL_B
        [--cutoff-a 0.1] [--cutoff-b 0.2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hts_z2.model.config import ModelConfig
from hts_z2.model.predictor import models_dir
from hts_z2.schemas.training import SampleLabels
from hts_z2.training.paired_labels import agreement, compare


def calibration_labels(model: str) -> tuple[dict[str, SampleLabels], float, str]:
    """(per-sample labels, chosen cutoff, model name) from a model's config.json."""
    path = Path(model) if Path(model).is_dir() else models_dir() / model
    cfg = ModelConfig.load(path / "config.json")
    cal = cfg.training.overlap_calibration if cfg.training else None
    if cal is None or not cal.labels:
        sys.exit(f"{path}: no per-sample validation labels (re-calibrate it by labels)")
    return cal.labels, float(cfg.overlap_cutoff), path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_a")
    parser.add_argument("model_b")
    parser.add_argument("--cutoff-a", type=float, default=None, help="default: A's own")
    parser.add_argument("--cutoff-b", type=float, default=None, help="default: B's own")
    args = parser.parse_args()
    (la, ca, na), (lb, cb, nb) = calibration_labels(args.model_a), calibration_labels(args.model_b)
    ca = ca if args.cutoff_a is None else args.cutoff_a
    cb = cb if args.cutoff_b is None else args.cutoff_b
    try:
        a, b = agreement(la, ca), agreement(lb, cb)
        result = compare(a, b)
    except (KeyError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(f"| validation sample | reference | {na} ({ca:g}) | {nb} ({cb:g}) |")
    print("|---|---|---|---|")
    for sid in sorted(set(a) & set(b)):
        mark = {(True, False): " ◀", (False, True): " ▶"}.get((a[sid], b[sid]), "")
        print(f"| {sid} | {la[sid].reference} | {la[sid].predicted[f'{ca:g}']} | "
              f"{lb[sid].predicted[f'{cb:g}']}{mark} |")  # fmt: skip
    print(
        f"\n{result.n} samples: both agree {result.both}, only {na} {result.only_a}, "
        f"only {nb} {result.only_b}, neither {result.neither}; "
        f"labels {result.both + result.only_a} vs {result.both + result.only_b}; "
        f"exact McNemar p = {result.p_value:.2f}"
    )


if __name__ == "__main__":
    main()
