"""Test-split metrics as the paper reports them: Hamiltonian MAE (real H0 part and SOC
part of the spinful H), band MAE near the Fermi level, and Z2-label agreement."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError
from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.predictor import to_tight_binding
from hts_z2.schemas.training import EvaluationMetrics, StructureMetrics
from hts_z2.training.data import TrainingItem, collate, reference_values
from hts_z2.training.exact_overlap import exact_overlap_values, model_matrices
from hts_z2.training.losses import (
    band_window,
    gathered,
    shift_corrected_mae,
    solved_bands,
    spinful_matrices,
    split_values,
    zero_point_corrected,
)
from hts_z2.training.record_labels import same_class

LARGE_H0 = 0.5


def band_error(e: torch.Tensor | None, item: TrainingItem) -> float | None:
    """Eq. 10 shift-corrected MAE (meV) of the bands near E_F, or None without bands."""
    if e is None:
        return None
    w = band_window(item)
    return float(shift_corrected_mae(e[:, w], torch.from_numpy(item.band_energies[:, w]))) * 1e3


def predicted_label(build: Callable[[], object]) -> str:
    """Screening label of the model ``build()`` returns (``metal``, a Z2 label, or
    ``undefined: ...`` when the predicted overlap is not positive-definite)."""
    from hts_z2.reference.pipeline import reference_labels

    try:
        return reference_labels(build(), manifold=False)["z2"]["label"]
    except OverlapNotPositiveDefiniteError as err:
        return f"undefined: {err}"


@torch.no_grad()
def evaluate(
    net: HamiltonianNet,
    items: list[TrainingItem],
    labels: dict[str, str],
    z2: bool = True,
    on_progress: Callable[[str], None] | None = None,
    overlap: OverlapCalculator | None = None,
    record: dict[str, str | None] | None = None,
) -> EvaluationMetrics:
    """Metrics of ``net`` on ``items``; ``labels`` maps sample id -> reference Z2 label,
    ``record`` sample id -> plane-wave label of record (None where there is none).

    With ``overlap`` (models whose S comes from the basis) bands, labels and the S error
    use the exact overlap inference uses instead of the network's S head.
    """
    net.eval()
    per: list[StructureMetrics] = []
    sums = np.zeros(4)
    counts = np.zeros(3)
    for it in items:
        tb_batch = collate([it], net.layout.n_pad)
        out = net(tb_batch.graphs)
        p = gathered(out, tb_batch)
        ref = reference_values(it)
        true_h, true_s, true_soc = ref["h"], ref["s"], ref["soc"]
        graph = torch.zeros(len(true_h), dtype=torch.long)
        h = zero_point_corrected(p["h"].double(), true_h, true_s, graph, 1)
        e_h = float((h - true_h).abs().mean())
        e_soc = float((p["soc"].double() - true_soc).abs().mean())
        s_used = p["s"].double() if overlap is None else exact_overlap_values(overlap, it)
        e_s = float((s_used - true_s).abs().mean())
        large = true_h.abs() > LARGE_H0
        e_large = float((h - true_h)[large].abs().sum())
        sums += [e_h * len(true_h), e_soc * true_soc.numel(), e_s * len(true_s), e_large]
        counts += [len(true_h), true_soc.numel(), int(large.sum())]
        vals = {k: v.double() for k, v in split_values(p, tb_batch)[0].items()}
        k = torch.from_numpy(it.band_k)
        cut = net.cfg.overlap_cutoff
        Hk, Sk = model_matrices(vals, it, k, overlap)
        H_ref, S_ref = spinful_matrices(ref, it, k)
        band = band_error(solved_bands(Hk, Sk, cut), it)
        band_ref_s = band_error(solved_bands(Hk, S_ref, cut), it)
        band_floor = band_error(solved_bands(H_ref, S_ref if overlap is None else Sk, cut), it)
        lowest = float(torch.linalg.eigvalsh(Sk)[:, 0].min())
        label = None
        if z2:
            host = {k: v.double().numpy() for k, v in out.items()}
            label = predicted_label(
                partial(to_tight_binding, host, it.graph, net.cfg, net, overlap)
            )
        per.append(
            StructureMetrics(
                sample_id=it.sample_id,
                h0_mae_meV=e_h * 1e3,
                soc_mae_meV=e_soc * 1e3,
                s_mae=e_s,
                band_mae_meV=band,
                band_mae_ref_s_meV=band_ref_s,
                lowest_s_eigenvalue=lowest,
                h0_mae_large_meV=1e3 * e_large / int(large.sum()) if large.any() else None,
                label_ref=labels.get(it.sample_id, "?"),
                label_pred=label,
                band_mae_truncation_meV=band_floor,
                label_record=(record or {}).get(it.sample_id),
            )
        )
        if on_progress is not None:
            on_progress(it.sample_id)
    bands = [m.band_mae_meV for m in per if m.band_mae_meV is not None]
    bands_ref = [m.band_mae_ref_s_meV for m in per if m.band_mae_ref_s_meV is not None]
    floors = [m.band_mae_truncation_meV for m in per if m.band_mae_truncation_meV is not None]
    agree = sum(m.label_pred == m.label_ref for m in per if m.label_pred is not None)
    scored = [m for m in per if m.label_pred is not None and m.label_record is not None]
    return EvaluationMetrics(
        n_structures=len(per),
        h0_mae_meV=1e3 * sums[0] / max(counts[0], 1),
        h0_mae_large_meV=1e3 * sums[3] / counts[2] if counts[2] else None,
        soc_mae_meV=1e3 * sums[1] / max(counts[1], 1),
        s_mae=sums[2] / max(counts[0], 1),
        band_mae_meV=float(np.mean(bands)) if bands else None,
        n_band=len(bands),
        band_mae_ref_s_meV=float(np.mean(bands_ref)) if bands_ref else None,
        z2_agree=int(agree),
        z2_total=sum(m.label_pred is not None for m in per),
        structures=per,
        band_mae_truncation_meV=float(np.mean(floors)) if floors else None,
        z2_agree_record=sum(bool(same_class(m.label_pred, m.label_record)) for m in scored),
        z2_total_record=len(scored),
    )
