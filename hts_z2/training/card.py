"""Model card (``card.md``) written when a model is registered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hts_z2.model.config import ModelConfig
from hts_z2.schemas.training import (
    Calibration,
    DatasetDigest,
    EvaluationMetrics,
    MetricsSummary,
    SplitRecord,
)

SYMBOLS = (
    "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge "
    "As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm "
    "Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn"
).split()


def symbol(z: int) -> str:
    return SYMBOLS[z] if z < len(SYMBOLS) else f"Z{z}"


def _fmt(x, unit: str = "", digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}{unit}"


TABLE_HEAD = (
    "| test sample | H0 MAE (meV) | H0 MAE, abs(H) > 0.5 eV | SOC MAE (meV) | S MAE "
    "| band MAE (meV) | band MAE, ref. S | ref. H at the cutoff | min eig S(k) "
    "| reference label | predicted label | label of record |"
    "\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def warm_start_text(record: SplitRecord) -> str:
    """One line naming the weights training started from (``--init-from``), if any."""
    start = record.init_from
    if start is None:
        return ""
    return (
        f"- Training started from the weights of a previous run (sha256 "
        f"`{start.sha256[:16]}...`, same dataset and split), not from random ones.\n"
    )


def sample_count(extra: list[DatasetDigest]) -> int:
    """Samples of the further datasets a training record names."""
    return sum(e.samples for e in extra)


def datasets_text(extra: list[DatasetDigest]) -> str:
    """``N further dataset(s) (sha256 ...)`` of a training record's further datasets."""
    shas = ", ".join(f"`{e.dataset_sha256[:16]}...`" for e in extra)
    return f"{len(extra)} further dataset(s) (sha256 {shas})"


def extra_train_text(record: SplitRecord) -> str:
    """One line on training-only data from other datasets (``--extra-train``), if any."""
    extra = record.extra_train
    if not extra:
        return ""
    return (
        f"- Training-only data: {sample_count(extra)} samples from {datasets_text(extra)}; "
        "validation and test are the main dataset's split alone.\n"
    )


def extra_val_text(record: SplitRecord) -> str:
    """One line on validation-only data from other datasets (``--extra-val``), if any."""
    extra = record.extra_val
    if not extra:
        return ""
    return (
        f"- Validation-only data: {sample_count(extra)} of the {len(record.split.val)} "
        f"validation samples come from {datasets_text(extra)}; the test split is the main "
        "dataset's alone.\n"
    )


def recalibration_text(record: SplitRecord) -> str:
    """One line naming the registered model whose weights were re-calibrated, if any."""
    source = record.recalibrated_from
    if source is None:
        return ""
    return (
        f"- Weights: those of `{Path(source.model).name}` (sha256 "
        f"`{source.sha256[:16]}...`, trained {source.date or 'earlier'}), unchanged; "
        "only the overlap cutoff below was chosen anew and the test metrics re-measured. "
        "The weights file records the new cutoff, so this model has its own sha256.\n"
    )


CRITERION_TEXT = {
    "band": "most structures solved, then lowest band MAE of the model's H and S",
    "labels": "most structures solved, then most screening labels (gap + Z2) agreeing with "
    "the reference labels, then lowest band MAE of the model's H and S",
}


def calibration_text(cfg: ModelConfig, cal: Calibration | None) -> str:
    """How the overlap cutoff was chosen (validation band MAE, and label agreement when
    scored, per candidate)."""
    if cal is None:
        return f"Overlap cutoff {cfg.overlap_cutoff:g} (not calibrated)."
    labelled = all(s.labels_agree is not None for s in cal.scores)
    rows = "\n".join(
        f"| {s.cutoff:g} | {_fmt(s.band_mae_meV)} | {s.n_solved} / {s.n_total} | "
        f"{_fmt(s.reference_band_mae_meV)} |"
        + (f" {s.labels_agree} / {s.n_total} |" if labelled else "")
        for s in cal.scores
    )
    head = "| cutoff | band MAE (meV) | solved | reference H, same cutoff (meV) |"
    rule = "|---|---|---|---|"
    if labelled:
        head += " labels agreeing |"
        rule += "---|"
    return (
        f"Bands are solved canonically, dropping overlap directions with eigenvalue <= "
        f"{cfg.overlap_cutoff:g} (chosen on the {cal.split} split: "
        f"{CRITERION_TEXT[cal.criterion]}; the fourth column "
        f"solves the reference H and S at the same cutoff: what the truncation alone "
        f"costs):\n\n{head}\n{rule}\n{rows}"
    )


def validation_labels_text(cfg: ModelConfig, cal: Calibration | None) -> str:
    """Per validation sample: reference label and the label predicted at the chosen
    cutoff (when the calibration scored labels)."""
    if cal is None or not cal.labels:
        return ""
    key = f"{cfg.overlap_cutoff:g}"
    rows = "\n".join(
        f"| {sid} | {v.reference} | {v.predicted.get(key, 'n/a')} |"
        for sid, v in sorted(cal.labels.items())
    )
    return (
        f"\n\nLabels of the validation samples at cutoff {key}:\n\n"
        f"| validation sample | reference label | predicted label |\n|---|---|---|\n{rows}"
    )


def caution_text(cfg: ModelConfig) -> str:
    """The gap below which screening marks this model's labels with a caution."""
    error = cfg.validated_band_error()
    if error is None:
        return "Not calibrated: screening cannot mark gaps below the model's band error."
    return (
        f"Validation band error at the chosen cutoff: {1e3 * error:.0f} meV. Screening and "
        f"`hts-z2 predict` mark every insulator with a smaller gap with a caution (its "
        f"label can flip within the model's accuracy)."
    )


def solved_basis_text(cfg: ModelConfig) -> str:
    """Which orbitals the bands and Z2 are solved in: the whole basis, or the kept shells
    of each element (``cfg.solve_shells``)."""
    if not cfg.solve_shells:
        return "Bands and Z2 are solved in the whole basis.\n"
    letters = "spdfg"
    kept = "; ".join(
        f"{symbol(z)} {' '.join(letters[ell] for ell in cfg.solved_shells(z))} "
        f"(of {' '.join(letters[ell] for ell in cfg.basis[z])})"
        for z in cfg.elements
    )
    n_kept = sum(2 * ell + 1 for z in cfg.elements for ell in cfg.solved_shells(z))
    n_all = sum(2 * ell + 1 for z in cfg.elements for ell in cfg.basis[z])
    return (
        f"Bands and Z2 are solved in a sub-basis ({n_kept} of {n_all} orbitals summed over "
        f"the elements): the network predicts every block, training fits and scores only "
        f"the kept shells, and the exact S is restricted to them. Kept shells: {kept}.\n"
    )


def train_count(record: SplitRecord) -> int:
    """Training samples behind the weights of a ``split.json`` record (with a registered
    model's: see :func:`hts_z2.training.run.register`).

    A recalibrated model's split is rebuilt from its main dataset alone, so its
    training-only samples (recorded by sha256 and count) are not among the split's ids:
    they are counted from the record of further datasets.
    """
    n = len(record.split.train)
    if record.recalibrated_from is not None:
        n += sample_count(record.extra_train)
    return n


def train_text(record: SplitRecord) -> str:
    """The split line's training count, naming the samples whose labels are not listed
    (a recalibrated model's training-only data)."""
    n_ids, n_all = len(record.split.train), train_count(record)
    if n_ids == n_all:
        return f"train {n_all}"
    return f"train {n_all} ({n_ids} of this dataset + {n_all - n_ids} training-only)"


def record_text(record: SplitRecord) -> str:
    """The data line on the label of record: how many training samples have one and how
    many of those carry an LCAO label that disagrees with it."""
    of_record = record.label_of_record
    train = [of_record[i] for i in record.split.train if i in of_record]
    if not train:
        return ""
    known = [r for r in train if r.label is not None]
    wrong = sorted(i for i in record.split.train
                   if i in of_record and of_record[i].lcao_disagrees)
    named = ", ".join(wrong[:12]) + (" ..." if len(wrong) > 12 else "")
    return (
        f"- Label of record (plane-wave PBE+SOC of the parent compound): {len(known)} of "
        f"{len(train)} training samples have one; the LCAO label of {len(wrong)} disagrees"
        + (f" ({named})" if wrong else "") + ".\n"
    )


def record_score(metrics: MetricsSummary) -> str:
    """``agree / total`` against the label of record, or n/a (older records)."""
    if not metrics.z2_total_record:
        return "n/a"
    return f"{metrics.z2_agree_record} / {metrics.z2_total_record}"


def model_card(
    name: str,
    cfg: ModelConfig,
    record: SplitRecord,
    metrics: EvaluationMetrics,
    cal: Calibration | None = None,
) -> str:
    """Markdown card: data, split, architecture, measured test metrics, coverage limits
    (``cal``: how the overlap cutoff was chosen, None when it was not calibrated)."""
    split = record.split
    labels = record.labels
    counts = Counter(labels.get(i, "?").split(" ")[0] for i in split.train)
    labels_scope = "" if train_count(record) == len(split.train) else " (this dataset's)"
    rows = "\n".join(
        f"| {m.sample_id} | {_fmt(m.h0_mae_meV)} | {_fmt(m.h0_mae_large_meV)} | "
        f"{_fmt(m.soc_mae_meV, '', 2)} | "
        f"{_fmt(m.s_mae, '', 4)} | {_fmt(m.band_mae_meV)} | "
        f"{_fmt(m.band_mae_ref_s_meV)} | {_fmt(m.band_mae_truncation_meV)} | "
        f"{_fmt(m.lowest_s_eigenvalue, '', 4)} | "
        f"{m.label_ref} | "
        f"{(m.label_pred or 'n/a')[:60]} | {m.label_record or '-'} |"
        for m in metrics.structures
    )
    elements = ", ".join(symbol(z) for z in cfg.elements)
    band = _fmt(metrics.band_mae_meV, " meV")
    band_ref = _fmt(metrics.band_mae_ref_s_meV, " meV")
    floor = _fmt(metrics.band_mae_truncation_meV, " meV")
    large = _fmt(metrics.h0_mae_large_meV, " meV")
    basis_s = cfg.overlap == "basis"
    overlap = (
        "the overlap S(R) is not learned: it is computed exactly from the radial functions "
        "of the basis and PAW projectors (`overlap_basis.npz`, two-centre integrals)"
        if basis_s
        else "the overlap S(R) is predicted by the network"
    )
    s_row = "S error (exact basis S vs stored GPAW S)" if basis_s else "S MAE"
    return f"""# {name}

Equivariant GNN (e3nn, HamGNN-V2 style) predicting the spinless LCAO Hamiltonian H0(R)
and SOC strengths xi (Eq. 4: H = H0 (x) 1 + (xi/2) L.sigma) in GPAW's PBE dzp basis;
{overlap}. Trained by `hts-z2 train` (two stages, Methods 4.4 of Uni-HamGNN).

## Data
- GPAW LCAO dzp PBE + PAW-sphere SOC reference dataset (`hts_z2/data/dataset`,
  sha256 `{record.dataset_sha256[:16]}...`): embedded structures and their strained,
  rattled and substituted variants.
- Split by parent compound (variants stay together), seeded: {train_text(record)},
  validation {len(split.val)}, test {len(split.test)} samples.
  Training labels{labels_scope}: {dict(counts)}.
- Test compounds: {", ".join(split.parents("test"))}.
- Rejected samples: {len(record.rejected)}.
{record_text(record)}{warm_start_text(record)}{extra_train_text(record)}{extra_val_text(record)}{recalibration_text(record)}
## Architecture
r_cut {cfg.r_cut} Å (pair blocks), message passing {cfg.r_mp} Å, {cfg.n_layers} layers,
{cfg.channels} scalar channels, node l <= {cfg.l_hidden}, bond harmonics l <= {cfg.sh_lmax},
tensor product "{cfg.tensor_product}", {cfg.n_radial} Bessel functions.

## Solved basis and overlap cutoff
{solved_basis_text(cfg)}
{calibration_text(cfg, cal)}{validation_labels_text(cfg, cal)}

## Test metrics (test split; MAE over all stored matrix elements)
| quantity | value |
|---|---|
| H0 (real part of H) MAE, zero-point corrected (Eq. 9) | {_fmt(metrics.h0_mae_meV, " meV")} |
| H0 MAE over the elements with reference magnitude > 0.5 eV | {large} |
| SOC part (B_v of H_soc = i sum B_v sigma_v) MAE | {_fmt(metrics.soc_mae_meV, " meV", 2)} |
| {s_row} | {_fmt(metrics.s_mae, "", 7 if basis_s else 4)} |
| band MAE, 16 bands at E_F, Eq. 10 ({metrics.n_band} solved) | {band} |
| band MAE with the reference S instead (diagnostic of H alone) | {band_ref} |
| band MAE of the reference H and S at the same cutoff (truncation alone) | {floor} |
| Z2 label agreement with the reference H | {metrics.z2_agree} / {metrics.z2_total} |
| Z2 label agreement with the label of record (parent's PW label) | {record_score(metrics)} |

{TABLE_HEAD}
{rows}

## Coverage and limits
- Elements (basis known): {elements}. Any other element is rejected before inference.
- The dzp basis is nearly linearly dependent for close-packed metals (lowest eigenvalue
  of S(k) down to 1e-6), so small errors in predicted H (and S, when predicted) can move
  or create bands; the solve drops overlap directions below the cutoff above, and a
  prediction whose S(k) is more negative than that is reported as undefined, never as a
  Z2.
- {caution_text(cfg)}
- Trained on a small dataset on CPU: check the band MAE above before using its labels,
  and confirm any candidate with `hts-z2 reference` (DFT) before trusting a label.
"""
