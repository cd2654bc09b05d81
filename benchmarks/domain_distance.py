"""Does a structure's domain distance predict its Hamiltonian error?

For every validation and test sample (and every training sample, measured against the
other training compounds only: leave one parent compound out) this prints the domain
distance (:mod:`hts_z2.model.domain`) and the mean error of the matrix elements that set
the bands (reference magnitude above 0.5 eV, zero-point corrected; as in
``h_error_breakdown.py``), the Spearman rank correlation between the two per split, and
the error inside and outside the model's threshold. On validation it also counts the
stored labels (calibration record) that the model misses, inside and outside.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/domain_distance.py [--model NAME]
        [--extra-train hts_z2/data/extra] [--extra-val hts_z2/data/extra_val]

About 2 CPU-min for hts-z2-soc-v5.1.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from h_error_breakdown import large_errors
from scipy.stats import spearmanr

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.model.domain import leave_parent_out
from hts_z2.model.predictor import load_model
from hts_z2.model.slots import SlotLayout
from hts_z2.training.data import build_item
from hts_z2.training.dataset import embedded_split, group_of, load_dataset
from hts_z2.training.domain import sample_environments, training_samples


def h_error(model, layout: SlotLayout, sample) -> float:
    """Mean absolute error (eV) of the elements with |reference H| > 0.5 eV."""
    item = build_item(sample, model.config, layout)
    errs = large_errors(model.net, item, orbital_table(sample.shells).l, 0.5)
    values = np.concatenate(list(errs.values())) if errs else np.zeros(0)
    return float(values.mean()) if len(values) else float("nan")


def as_tuple(sample) -> tuple:
    return sample.lattice, sample.positions, sample.numbers


def summary(name: str, dist: np.ndarray, err: np.ndarray, threshold: float) -> str:
    ok = np.isfinite(dist) & np.isfinite(err)
    rho = spearmanr(dist[ok], err[ok]).correlation
    inside, outside = ok & (dist <= threshold), ok & (dist > threshold)

    def med(mask: np.ndarray) -> str:
        return f"{1e3 * np.median(err[mask]):.0f} meV (n={mask.sum()})" if mask.any() else "-"

    return (
        f"{name:28s} Spearman rho {rho:5.2f} (n={ok.sum()}); median H error inside "
        f"{med(inside)}, outside {med(outside)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or directory (default: shipped)")
    parser.add_argument("--extra-train", action="append", default=None)
    parser.add_argument("--extra-val", action="append", default=None)
    args = parser.parse_args()
    extra_train = args.extra_train or ["hts_z2/data/extra"]
    extra_val = args.extra_val or ["hts_z2/data/extra_val"]
    torch.set_grad_enabled(False)
    model = load_model(args.model)
    if model.domain is None:
        raise SystemExit(f"{model.name} has no domain reference: run `hts-z2 domain` first")
    training = model.config.training
    layout = SlotLayout.from_basis(model.config.basis)
    threshold = model.domain.threshold
    split, by_id = embedded_split(training)
    parts = {
        "validation": [by_id[i] for i in split["val"]]
        + [s for d in extra_val for s in load_dataset(d).samples],
        "test": [by_id[i] for i in split["test"]],
    }
    train = training_samples(training, None, extra_train)
    print(f"model {model.name} (sha256 {model.sha256[:12]}); threshold {threshold:.2f}")
    cal = training.overlap_calibration if training is not None else None
    labels = cal.labels if cal is not None else {}
    cutoff = f"{model.config.overlap_cutoff:g}"
    lines = []
    for part, samples in parts.items():
        dist = np.array(model.domain_distances([as_tuple(s) for s in samples]), dtype=float)
        err = np.array([h_error(model, layout, s) for s in samples])
        for s, d, e in zip(samples, dist, err, strict=True):
            entry = labels.get(s.sample_id) if part == "validation" else None
            mark = ""
            if entry is not None:
                same = entry.predicted.get(cutoff) == entry.reference
                mark = "label ok" if same else "label MISSED"
            print(f"{part:10s} {s.sample_id:34s} distance {d:6.2f}  H error {1e3 * e:5.0f} meV"
                  f"  {mark}")  # fmt: skip
        lines.append(summary(part, dist, err, threshold))
        if part == "validation" and labels:
            missed = np.array(
                [
                    labels[s.sample_id].predicted.get(cutoff) != labels[s.sample_id].reference
                    for s in samples
                ]
            )
            for where, mask in (("inside", dist <= threshold), ("outside", dist > threshold)):
                lines.append(f"{'':28s} labels missed {where}: {missed[mask].sum()}/{mask.sum()}")
    features, numbers = sample_environments(model, train)
    loo = leave_parent_out(features, numbers, [group_of(s.sample_id) for s in train])
    err = np.array([h_error(model, layout, s) for s in train])
    lines.append(summary("train (leave parent out)", loo, err, threshold))
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
