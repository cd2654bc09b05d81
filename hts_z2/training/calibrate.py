"""Choose the overlap cutoff of a trained model on the validation split.

GPAW's dzp basis is nearly linearly dependent (lowest eigenvalue of S(k) down to 1e-6),
so a small error of the predicted H along those directions of S produces spurious
bands. Solving canonically (dropping overlap directions with eigenvalue <= cutoff,
:func:`hts_z2.hamiltonian.bloch.canonical_transform`) removes them at the price of a
truncation error that grows with the cutoff; the best cutoff is a property of the
trained model and is picked on the validation split: by default where the most screening
labels (gap + Z2, the quantity screening reports) agree with the reference labels, else
(``criterion="band"``) where the bands are closest to the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import get_args

import numpy as np
import torch

from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.model.graph import batch_graphs
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.predictor import to_tight_binding
from hts_z2.schemas.training import Criterion, CutoffScore
from hts_z2.training.cutoffs import CANDIDATE_CUTOFFS
from hts_z2.training.data import TrainingItem, collate, reference_values
from hts_z2.training.evaluate import band_error, predicted_label
from hts_z2.training.exact_overlap import model_matrices
from hts_z2.training.losses import gathered, solved_bands, spinful_matrices, split_values

TIE_MEV = 0.1
"""Band-MAE differences (meV) below this are rounding, not a better cutoff."""
CRITERIA: tuple[str, ...] = get_args(Criterion)
"""How :func:`pick_cutoff` ranks the cutoffs that solve the most structures."""


def pick_cutoff(scores: Sequence[CutoffScore], criterion: str = "band") -> float:
    """The cutoff solving the most validation structures, then (``criterion="labels"``)
    with the most labels agreeing with the reference, then with the lowest band MAE;
    cutoffs within ``TIE_MEV`` of that MAE tie, and the smallest (least truncation) wins.

    A cutoff that leaves structures unsolved (predicted S not positive-definite under
    the exact solve) never wins over one that solves them all: an unsolved structure
    is a screening result lost.

    Raises
    ------
    ValueError
        No cutoff gives bands, an unknown ``criterion``, or ``"labels"`` on scores
        without label counts.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown calibration criterion {criterion!r}; use one of {CRITERIA}")
    usable = [s for s in scores if s.band_mae_meV is not None]
    if not usable:
        raise ValueError("no overlap cutoff gives bands for any validation structure")
    most = max(s.n_solved for s in usable)
    best = [s for s in usable if s.n_solved == most]
    if criterion == "labels":
        if any(s.labels_agree is None for s in best):
            raise ValueError("criterion 'labels' needs scores with label counts (score_labels)")
        top = max(s.labels_agree for s in best)
        best = [s for s in best if s.labels_agree == top]
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
        CutoffScore(
            cutoff=c,
            band_mae_meV=_mean(errors[c]),
            n_solved=len(errors[c]),
            n_total=n,
            reference_band_mae_meV=_mean(floors[c]),
        )
        for c in candidates
    ]


@torch.no_grad()
def labels_by_cutoff(
    net: HamiltonianNet,
    item: TrainingItem,
    candidates: Sequence[float],
    overlap: OverlapCalculator | None = None,
) -> dict[float, str]:
    """Screening label (``metal``, a Z2 label, ``undefined: ...``) of the network's
    prediction for one structure at every cutoff, built the way inference builds it.

    A prediction that cannot be turned into a model (``ValueError`` of
    :func:`~hts_z2.model.predictor.to_tight_binding`) is ``failed: ...`` at every cutoff.
    """
    net.eval()
    out = net(batch_graphs([item.graph], dtype=torch.float32))
    host = {k: v.double().numpy() for k, v in out.items()}
    try:
        tb = to_tight_binding(host, item.graph, net.cfg, net, overlap)
    except ValueError as err:
        return {c: f"failed: {err}" for c in candidates}
    return {c: predicted_label(lambda c=c: tb.replace(overlap_cutoff=c)) for c in candidates}


def score_labels(
    scores: Sequence[CutoffScore],
    predicted: Iterable[tuple[dict[float, str], str]],
) -> list[CutoffScore]:
    """``scores`` with ``labels_agree`` counted from (labels by cutoff, reference label)
    pairs, one per structure (e.g. :func:`labels_by_cutoff` and the stored label)."""
    agree = {s.cutoff: 0 for s in scores}
    for labels, ref in predicted:
        for c in agree:
            agree[c] += int(labels.get(c) == ref)
    return [s.model_copy(update={"labels_agree": agree[s.cutoff]}) for s in scores]
