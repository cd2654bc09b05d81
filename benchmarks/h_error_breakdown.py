"""Where a trained model's Hamiltonian errors sit: on-site vs off-site blocks, by shell
pair, on the training split against the held-out (test) compounds.

A model diagnostic, not a speed target. Only the matrix elements that set the bands are
counted: reference magnitude above ``--threshold`` eV (the card's "H0 MAE, abs(H) > 0.5
eV"), after the zero-point correction of Eq. 9. A test error far above the training
error means the model does not carry over to unseen compounds (more compounds, not more
epochs); similar errors mean it does not fit (capacity, optimization).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/h_error_breakdown.py [--model NAME]
        [--every 4] [--threshold 0.5]

About 1 CPU-min for hts-z2-soc-v3 with --every 4.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
import torch

from hts_z2.hamiltonian.basis import orbital_table
from hts_z2.model.predictor import load_model
from hts_z2.model.slots import SlotLayout
from hts_z2.training.data import build_item, collate, reference_values
from hts_z2.training.dataset import embedded_split
from hts_z2.training.losses import gathered, zero_point_corrected

L_NAMES = "spdf"


def shell_pairs(ls: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Label ``"sp"``, ``"dd"``, ... of every (row, col) orbital pair (lower l first).

    Parameters
    ----------
    ls : [n_orbitals] angular momentum of every orbital.
    rows, cols : [n] orbital indices.
    """
    names = np.array(list(L_NAMES))
    lo, hi = np.minimum(ls[rows], ls[cols]), np.maximum(ls[rows], ls[cols])
    return np.char.add(names[lo], names[hi])


@torch.no_grad()
def large_errors(net, item, ls: np.ndarray, threshold: float) -> dict[tuple[str, str], np.ndarray]:
    """Absolute errors (eV) of the elements with |reference| > ``threshold``, keyed by
    (``on-site``/``off-site``, shell pair)."""
    batch = collate([item], net.layout.n_pad)
    pred = gathered(net(batch.graphs), batch)
    ref = reference_values(item)
    group = torch.zeros(len(ref["h"]), dtype=torch.long)
    h = zero_point_corrected(pred["h"].double(), ref["h"], ref["s"], group, 1).numpy()
    t = ref["h"].numpy()
    rc = np.concatenate([item.on_rc.numpy(), item.edge_rc.numpy()], axis=1)
    big = np.flatnonzero(np.abs(t) > threshold)
    err = np.abs(h[big] - t[big])
    pairs = shell_pairs(ls, rc[0, big], rc[1, big])
    site = np.where(big < len(item.on_h), "on-site", "off-site")
    keys = np.char.add(np.char.add(site, "|"), pairs)
    out = {}
    for key in np.unique(keys):
        kind, pair = str(key).split("|")
        out[(kind, pair)] = err[keys == key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or directory (default: shipped)")
    parser.add_argument("--every", type=int, default=4, help="every N-th sample of each split")
    parser.add_argument("--threshold", type=float, default=0.5, help="|reference H| cut (eV)")
    args = parser.parse_args()
    model = load_model(args.model)
    net = model.net.eval()
    layout = SlotLayout.from_basis(model.config.basis)
    try:
        split, by_id = embedded_split(model.config.training)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    print(f"model {model.name} (sha256 {model.sha256[:12]}); elements with |H| > "
          f"{args.threshold:g} eV, every {args.every}th sample")  # fmt: skip
    table: dict[str, dict[tuple[str, str], list]] = {}
    for part in ("train", "test"):
        errors: dict[tuple[str, str], list[float]] = defaultdict(list)
        for sid in split[part][:: args.every]:
            sample = by_id[sid]
            item = build_item(sample, model.config, layout)
            ls = orbital_table(sample.shells).l
            for key, errs in large_errors(net, item, ls, args.threshold).items():
                errors[key] += errs.tolist()
        table[part] = errors
    keys = sorted(set(table["train"]) | set(table["test"]))
    print(f"\n{'block':9} {'shells':6} {'train MAE (meV)':>16} {'n':>6} "
          f"{'test MAE (meV)':>15} {'n':>5}")  # fmt: skip
    for kind in ("on-site", "off-site"):
        for key in [k for k in keys if k[0] == kind] + [(kind, "all")]:
            cells = []
            for part in ("train", "test"):
                errs = (
                    [e for k, v in table[part].items() if k[0] == kind for e in v]
                    if key[1] == "all"
                    else table[part].get(key, [])
                )
                cells.append(f"{1e3 * np.mean(errs):16.0f} {len(errs):6d}" if errs else
                             f"{'-':>16} {0:6d}")  # fmt: skip
            print(f"{key[0]:9} {key[1]:6} {cells[0]} {cells[1]}")


if __name__ == "__main__":
    main()
