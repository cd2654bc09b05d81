"""Choose the overlap cutoff of a trained model on the validation split.

GPAW's dzp basis is nearly linearly dependent (lowest eigenvalue of S(k) down to 1e-6),
so a small error of the predicted H along those directions of S produces spurious
bands. Solving canonically (dropping overlap directions with eigenvalue <= cutoff,
:func:`hts_z2.hamiltonian.bloch.canonical_transform`) removes them at the price of a
truncation error that grows with the cutoff; the best cutoff is a property of the
trained model and is picked where its validation bands are closest to the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.model.network import HamiltonianNet
from hts_z2.training.data import TrainingItem, collate, reference_values
from hts_z2.training.evaluate import band_error
from hts_z2.training.exact_overlap import model_matrices
from hts_z2.training.losses import gathered, solved_bands, spinful_matrices, split_values

CANDIDATE_CUTOFFS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
TIE_MEV = 0.1
"""Band-MAE differences (meV) below this are rounding, not a better cutoff."""


@dataclass
class CutoffScore:
    """Validation band MAE (meV, mean over the structures it could solve) at one cutoff."""

    cutoff: float
    band_mae_meV: float | None
    n_solved: int
    n_total: int
    reference_band_mae_meV: float | None = None
    """The reference H solved at this cutoff with the same S: the truncation's own cost."""


def pick_cutoff(scores: Sequence[CutoffScore]) -> float:
    """The cutoff solving the most validation structures, then with the lowest band MAE;
    cutoffs within ``TIE_MEV`` of that MAE tie, and the smallest (least truncation) wins.

    A cutoff that leaves structures unsolved (predicted S not positive-definite under
    the exact solve) never wins over one that solves them all: an unsolved structure
    is a screening result lost.
    """
    usable = [s for s in scores if s.band_mae_meV is not None]
    if not usable:
        raise ValueError("no overlap cutoff gives bands for any validation structure")
    most = max(s.n_solved for s in usable)
    best = [s for s in usable if s.n_solved == most]
    lowest = min(s.band_mae_meV for s in best)
    return min(s.cutoff for s in best if s.band_mae_meV <= lowest + TIE_MEV)


@torch.no_grad()
def predicted_values(net: HamiltonianNet, item: TrainingItem) -> dict[str, torch.Tensor]:
    """Predicted ``h``, ``s``, ``soc`` of one structure in float64 (see ``split_values``)."""
    net.eval()
    batch = collate([item], net.layout.n_pad)
    p = gathered(net(batch.graphs), batch)
    return {k: v.double() for k, v in split_values(p, batch)[0].items()}


def cutoff_errors(
    Hk: torch.Tensor, Sk: torch.Tensor, item: TrainingItem, candidates: Sequence[float]
) -> dict[float, float]:
    """Band MAE (meV) of one structure at each cutoff that gives finite bands."""
    out = {}
    for c in candidates:
        err = band_error(solved_bands(Hk, Sk, c), item)
        if err is not None and np.isfinite(err):
            out[c] = err
    return out


def _mean(errors: list[float]) -> float | None:
    return float(np.mean(errors)) if errors else None


def score_cutoffs(
    values: Iterable[tuple[dict[str, torch.Tensor], TrainingItem]],
    candidates: Sequence[float] = CANDIDATE_CUTOFFS,
    on_progress: Callable[[str], None] | None = None,
    overlap: OverlapCalculator | None = None,
    truncation: bool = False,
) -> list[CutoffScore]:
    """Band MAE (Eq. 10, bands at E_F) at every candidate cutoff.

    ``values`` yields (``h``/``s``/``soc`` float64 values of one structure, its item),
    e.g. :func:`predicted_values` of a network. With ``overlap`` the bands use the exact
    basis overlap instead of the values' ``s``. With ``truncation`` each score also
    carries ``reference_band_mae_meV``: the item's reference H solved at that cutoff with
    the same S (the reference S without ``overlap``).
    """
    errors: dict[float, list[float]] = {c: [] for c in candidates}
    floors: dict[float, list[float]] = {c: [] for c in candidates}
    n = 0
    for vals, it in values:
        n += 1
        k = torch.from_numpy(it.band_k)
        Hk, Sk = model_matrices(vals, it, k, overlap)
        for c, err in cutoff_errors(Hk, Sk, it, candidates).items():
            errors[c].append(err)
        if truncation:
            H_ref, S_ref = spinful_matrices(reference_values(it), it, k)
            S_used = S_ref if overlap is None else Sk
            for c, err in cutoff_errors(H_ref, S_used, it, candidates).items():
                floors[c].append(err)
        if on_progress is not None:
            on_progress(it.sample_id)
    return [
        CutoffScore(c, _mean(errors[c]), len(errors[c]), n, _mean(floors[c])) for c in candidates
    ]
