"""Training documents: the options of a run (:class:`TrainingSpec`,
:class:`RecalibrationSpec`), what its steps hand each other through the work directory
(``split.json``: :class:`SplitRecord`; ``calibration.json``: :class:`Calibration`;
``metrics.json``: :class:`EvaluationMetrics`) and what a registered model records of its
training (``ModelConfig.training``: :class:`TrainingRecord`).

Files are written with ``model_dump_json`` and read with ``model_validate_json``. Records
written before these documents existed have the same keys or fewer (each key was added
later with a default), so they load as they are; :class:`TrainingRecord` also reads the
empty ``{}`` some writers stored for a missing part.

Pure pydantic + stdlib: no other ``hts_z2`` import (the model configuration a split
record carries is the plain ``ModelConfig.to_dict()`` dict).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Criterion = Literal["labels", "band"]
"""How the overlap cutoff is chosen on the validation split."""
SplitName = Literal["train", "val", "test"]
EXTRA_VAL = (
    "further dataset directory whose compounds join the validation split only "
    "(learning-rate schedule, early stop, overlap cutoff); test stays the main dataset's"
)


# --- options of a run --------------------------------------------------------------------


class TrainSettings(BaseModel):
    """Optimization settings of both stages (defaults follow the paper where it gives
    them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lr_stage1: float = Field(3e-3, description="AdamW learning rate of stage 1")
    lr_stage2: float = Field(5e-4, description="AdamW learning rate of stage 2")
    weight_decay: float = Field(1e-4, description="AdamW weight decay")
    batch_size: int = Field(4, description="structures per optimizer step")
    weight_s: float = Field(10.0, description="weight of the overlap (S) terms")
    weight_soc: float = Field(5.0, description="weight of the SOC term")
    weight_overlap_pd: float = Field(
        10.0, description="weight of the penalty on a predicted S(k) that is not "
        "positive-definite")
    weight_rms: float = Field(
        1.0, description="weight of the RMS H0/S terms (they weigh in the large hoppings)")
    band_lambda: float = Field(
        1e-2, description="weight of the stage-2 band-energy MAE (eV) in the objective")
    patience: int = Field(
        5, description="epochs without validation improvement before the rate halves")
    stop_patience: int = Field(
        30, description="epochs without validation improvement that end a stage")
    min_lr: float = Field(1e-5, description="a stage ends when the rate falls below this")
    max_epochs_stage1: int = Field(200, description="most epochs of stage 1")
    max_epochs_stage2: int = Field(50, description="most epochs of stage 2")
    max_minutes_stage1: float = Field(60.0, description="time budget of stage 1 (minutes)")
    max_minutes_stage2: float = Field(20.0, description="time budget of stage 2 (minutes)")
    seed: int = Field(0, description="seed of the split, the initialization and the batches")
    grad_clip: float = Field(10.0, description="gradient-norm clip")
    device: str = Field(
        "cpu", description="torch device of the two training stages: cpu, cuda[:N] or auto "
        "(the overlap calibration and the test evaluation run on the CPU)")


class ArchitectureOptions(BaseModel):
    """``ModelConfig`` fields a run sets; None keeps ``ModelConfig``'s default (with
    ``init_from``: the starting model's architecture, whose overlap cutoff and overlap
    source the run may still set)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r_cut: float | None = Field(None, description="pair cutoff of predicted blocks (Å)")
    r_mp: float | None = Field(None, description="message-passing cutoff (Å)")
    n_radial: int | None = Field(None, description="Bessel radial functions")
    channels: int | None = Field(None, description="scalar channels of the network")
    l_hidden: int | None = Field(None, description="largest l of node features")
    sh_lmax: int | None = Field(None, description="largest l of the bond harmonics")
    n_layers: int | None = Field(None, description="orbital-convolution layers")
    tensor_product: str | None = Field(None, description="reduced (Eq. 8) or full")
    avg_neighbors: float | None = Field(None, description="normalization of the messages")
    overlap_cutoff: float | None = Field(
        None, description="overlap eigenvalues dropped in the stage-2 band loss (0: exact "
        "solve); the calibration chooses the registered model's")
    overlap: str | None = Field(
        None, description="basis (exact S from the basis' radial functions, needs GPAW to "
        "export them; the default) or predicted (S from the network)")

    def overrides(self) -> dict[str, Any]:
        """The fields set, as ``ModelConfig`` keyword arguments."""
        return self.model_dump(exclude_none=True)


class RunSpec(BaseModel):
    """What every run of the training subflow shares: its work directory and how it
    calibrates, evaluates and registers its model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    work: str = Field(description="work directory (checkpoints and records; a run resumes)")
    models_root: str = Field(description="models directory the model is registered in")
    model_name: str = Field(
        "my-hts-z2-model", description="the model's directory name under models_root")
    calibrate_by: Criterion = Field(
        "labels", description="choose the overlap cutoff by validation labels (gap + Z2 "
        "agreement, then band MAE) or by band MAE alone ('band', faster)")
    cutoffs: list[float] | None = Field(
        None, description="candidate overlap cutoffs in [0, 1) (None: the calibration's "
        "default candidates)")
    z2: bool = Field(True, description="score the Z2 labels in the test evaluation")
    overwrite: bool = Field(
        False, description="replace a model registered under the same name (otherwise "
        "the run refuses to start, or to register)")


class TrainingSpec(RunSpec):
    """The options of one training run: prepare -> stage 1 -> stage 2 -> calibrate ->
    evaluate -> register (``hts-z2 train`` and ``TrainingMaker`` build one)."""

    dataset: str = Field(description="reference dataset directory (split into train/val/test)")
    extra_train: list[str] = Field(
        default_factory=list, description="further dataset directory whose samples are used "
        "for training only; val and test stay the main dataset's split")
    extra_val: list[str] = Field(default_factory=list, description=EXTRA_VAL)
    arch: ArchitectureOptions = Field(
        default_factory=ArchitectureOptions, description="architecture of the network")
    init_from: str | None = Field(
        None, description="start from this model directory's weights (fine-tune / continue)")
    solve_basis: str = Field(
        "full", description="basis the bands and Z2 are solved in: full (the dataset's) or szp "
        "(its single-zeta and polarization shells: a well-conditioned overlap, no truncation)")
    settings: TrainSettings = Field(
        default_factory=TrainSettings, description="optimization settings of both stages; "
        "its seed also seeds the split")


class RecalibrationSpec(RunSpec):
    """Re-choosing a registered model's overlap cutoff without training: prepare (the
    model's split) -> calibrate -> evaluate -> register (``hts-z2 recalibrate``)."""

    model_dir: str = Field(description="directory of the registered model")
    dataset: str = Field(description="the model's training dataset directory")
    extra_val: list[str] = Field(default_factory=list, description=EXTRA_VAL)


# --- split.json --------------------------------------------------------------------------


def parent_compound(sample_id: str) -> str:
    """Parent compound of a sample: variants (``<parent>/<variant>``, or
    ``<parent>__<variant>`` in file names) share it and stay in one split part.

    >>> parent_compound("Bi2Se3-R-3m/rattle-s0.05-0"), parent_compound("PbTe-Fm-3m__strain+0.02")
    ('Bi2Se3-R-3m', 'PbTe-Fm-3m')
    """
    return sample_id.replace("__", "/").split("/")[0]


class Split(BaseModel):
    """Sample ids of the three parts: a seeded split by parent compound (variants stay
    together; held-out compounds only of elements the training part covers), widened by
    the training-only and validation-only datasets its :class:`SplitRecord` names."""

    train: list[str] = Field(description="sample ids trained on")
    val: list[str] = Field(
        description="sample ids of the validation part (learning-rate schedule, early "
        "stop, overlap cutoff)")
    test: list[str] = Field(description="sample ids of the held-out test part")

    def ids(self) -> dict[str, list[str]]:
        """The three parts as the plain ``{"train", "val", "test"}`` map of
        :mod:`hts_z2.training.dataset`."""
        return {"train": list(self.train), "val": list(self.val), "test": list(self.test)}

    def part(self, name: SplitName) -> list[str]:
        """The ids of part ``name``."""
        return getattr(self, name)

    def parents(self, name: SplitName) -> list[str]:
        """Parent compounds of part ``name`` (:func:`parent_compound`), sorted."""
        return sorted({parent_compound(i) for i in self.part(name)})


class DatasetDigest(BaseModel):
    """A further dataset as a registered model names it: by identity and size."""

    dataset_sha256: str = Field(description="the dataset's digest (LoadedDataset.sha256)")
    samples: int = Field(description="samples loaded from it")


class DatasetEntry(DatasetDigest):
    """A further dataset of a run (training-only or validation-only)."""

    dataset: str | None = Field(
        None, description="its directory (absolute); None for data a recalibrated model "
        "names by digest alone")
    rejected: dict[str, str] = Field(
        default_factory=dict, description="sample id -> why it was not loaded")


class WarmStart(BaseModel):
    """The registered model whose weights stage 1 started from."""

    model: str = Field(description="its directory (absolute)")
    sha256: str = Field(description="sha256 of its weights")


class Recalibration(BaseModel):
    """The registered model whose weights a recalibration took unchanged."""

    model: str = Field(description="its directory (absolute)")
    sha256: str = Field(description="sha256 of its weights")
    settings: TrainSettings = Field(
        default_factory=TrainSettings, description="the settings it was trained with")
    date: str | None = Field(None, description="the day it was registered (YYYY-MM-DD)")


class LabelOfRecord(BaseModel):
    """A sample's label of record (its parent's plane-wave PBE+SOC label, where the
    sample keeps the parent's composition) and how its LCAO reference label compares."""

    parent: str = Field(description="parent compound id")
    label: str | None = Field(None, description="label of record (None: none)")
    pbe_sensitive: bool | None = Field(
        None, description="the deciding inversion or gap is small at the PBE level")
    lcao_label: str | None = Field(None, description="the sample's own LCAO reference label")
    lcao_disagrees: bool | None = Field(
        None, description="the LCAO label disagrees with the label of record (by class; "
        "None when either is missing)")


class SplitRecord(BaseModel):
    """``work/split.json``: the data, split and model configuration a run works on,
    written by the prepare step and read by every later one."""

    dataset: str = Field(description="main dataset directory (absolute)")
    dataset_sha256: str = Field(description="the main dataset's digest")
    rejected: dict[str, str] = Field(
        default_factory=dict, description="main-dataset sample id -> why it was not loaded")
    split: Split = Field(description="sample ids of train / val / test")
    seed: int | None = Field(
        None, description="seed the main dataset's split was drawn with (a recalibration: "
        "the model's; None: records written before it was recorded)")
    config: dict[str, Any] = Field(
        description="the network's configuration (ModelConfig.to_dict(); typed by "
        "ModelConfig.from_dict)")
    init_from: WarmStart | None = Field(None, description="weights stage 1 starts from")
    labels: dict[str, str] = Field(
        default_factory=dict, description="sample id -> LCAO reference screening label "
        "('?' when none is stored)")
    label_of_record: dict[str, LabelOfRecord] = Field(
        default_factory=dict, description="sample id -> its label of record")
    extra_train: list[DatasetEntry] = Field(
        default_factory=list, description="training-only datasets")
    extra_val: list[DatasetEntry] = Field(
        default_factory=list, description="validation-only datasets")
    recalibrated_from: Recalibration | None = Field(
        None, description="the registered model this run recalibrates (no training)")


# --- calibration.json --------------------------------------------------------------------


class CutoffScore(BaseModel):
    """Validation band MAE (meV, mean over the structures it could solve) at one
    overlap cutoff."""

    cutoff: float = Field(description="overlap eigenvalues <= this are dropped")
    band_mae_meV: float | None = Field(
        None, description="band MAE near E_F of the model's H and S (None: none solved)")
    n_solved: int = Field(0, description="validation structures that gave bands")
    n_total: int = Field(0, description="validation structures scored")
    reference_band_mae_meV: float | None = Field(
        None, description="the reference H solved at this cutoff with the same S: what the "
        "truncation alone costs")
    labels_agree: int | None = Field(
        None, description="structures whose predicted screening label equals the reference "
        "label (None: labels not scored)")


class SampleLabels(BaseModel):
    """One validation sample's reference label and its predicted label per cutoff."""

    reference: str = Field(description="LCAO reference screening label")
    predicted: dict[str, str] = Field(
        description="cutoff (formatted f'{c:g}') -> predicted screening label")


class Calibration(BaseModel):
    """``work/calibration.json`` (and a registered model's ``overlap_calibration``): the
    overlap cutoff chosen on the validation split and the scores it was chosen from."""

    overlap_cutoff: float | None = Field(
        None, description="the chosen cutoff (None: a record that lists scores only)")
    criterion: Criterion = Field(
        "band", description="how it was chosen (records from before the criterion was "
        "recorded chose by band MAE)")
    split: SplitName = Field(
        "val", description="split part scored (train when the dataset has no validation "
        "part)")
    scores: list[CutoffScore] = Field(default_factory=list, description="score per candidate")
    labels: dict[str, SampleLabels] = Field(
        default_factory=dict, description="per scored sample its labels (criterion labels "
        "only)")

    def score_at(self, cutoff: float) -> CutoffScore | None:
        """The score of ``cutoff``, if it was a candidate."""
        return next((s for s in self.scores if s.cutoff == cutoff), None)


# --- metrics.json ------------------------------------------------------------------------


class StructureMetrics(BaseModel):
    """Test metrics of one structure."""

    sample_id: str = Field(description="sample id")
    h0_mae_meV: float = Field(description="H0 MAE, zero-point corrected (Eq. 9)")
    soc_mae_meV: float = Field(description="MAE of the SOC part of the spinful H")
    s_mae: float = Field(description="S MAE (the exact basis S when S comes from the basis)")
    band_mae_meV: float | None = Field(
        description="band MAE near E_F, shift-corrected (Eq. 10; None: no bands)")
    band_mae_ref_s_meV: float | None = Field(
        description="band MAE with the reference S instead (H alone)")
    lowest_s_eigenvalue: float = Field(description="lowest eigenvalue of S(k) over the k-points")
    h0_mae_large_meV: float | None = Field(
        description="H0 MAE over the elements with reference magnitude > 0.5 eV")
    label_ref: str = Field(description="LCAO reference screening label")
    label_pred: str | None = Field(description="predicted screening label (None: not scored)")
    band_mae_truncation_meV: float | None = Field(
        None, description="band MAE of the reference H and S at the model's cutoff")
    label_record: str | None = Field(
        None, description="plane-wave label of record of the sample's parent (same "
        "composition), or None")


class MetricsSummary(BaseModel):
    """Test-split aggregates (MAE over all stored matrix elements), as a registered model
    records them."""

    n_structures: int = Field(description="structures evaluated")
    h0_mae_meV: float = Field(description="H0 MAE, zero-point corrected (Eq. 9)")
    h0_mae_large_meV: float | None = Field(
        None, description="H0 MAE over the elements with reference magnitude > 0.5 eV (the "
        "hoppings and on-site levels that set the bands)")
    soc_mae_meV: float = Field(description="MAE of the SOC part of the spinful H")
    s_mae: float = Field(description="S MAE")
    band_mae_meV: float | None = Field(
        None, description="mean band MAE near E_F of the structures with bands")
    n_band: int = Field(0, description="structures with bands")
    band_mae_ref_s_meV: float | None = Field(
        None, description="mean band MAE with the reference S instead")
    z2_agree: int = Field(0, description="predicted labels equal to the LCAO reference label")
    z2_total: int = Field(0, description="structures with a predicted label")
    band_mae_truncation_meV: float | None = Field(
        None, description="mean band MAE of the reference H and S at the model's cutoff: "
        "the truncation's floor under band_mae_meV")
    z2_agree_record: int = Field(
        0, description="predicted labels agreeing (by class: metal = semimetal) with the "
        "label of record")
    z2_total_record: int = Field(
        0, description="structures with both a predicted label and a label of record (0: "
        "not scored, older records)")


class EvaluationMetrics(MetricsSummary):
    """``work/metrics.json``: the test-split aggregates and every structure's metrics."""

    structures: list[StructureMetrics] = Field(
        default_factory=list, description="per test structure")

    def summary(self) -> MetricsSummary:
        """The aggregates alone."""
        return MetricsSummary.model_validate(self.model_dump(exclude={"structures"}))


# --- ModelConfig.training ----------------------------------------------------------------


class TrainingRecord(BaseModel):
    """How a registered model's weights were made (``config.json`` ``training``): data,
    split, settings, calibration and test metrics. Descriptive only: no field changes
    predictions. Every field may be missing from older records; unknown keys are kept."""

    model_config = ConfigDict(extra="allow")

    dataset_sha256: str | None = Field(None, description="the main dataset's digest")
    n_train: int | None = Field(
        None, description="training samples (with training-only data)")
    n_val: int | None = Field(None, description="validation samples")
    n_test: int | None = Field(None, description="test samples")
    test_ids: list[str] = Field(
        default_factory=list, description="test sample ids (checks a rebuilt split)")
    settings: TrainSettings | None = Field(None, description="optimization settings")
    metrics: MetricsSummary | None = Field(None, description="test-split aggregates")
    overlap_calibration: Calibration | None = Field(
        None, description="how the overlap cutoff was chosen (None: not calibrated)")
    init_from: WarmStart | None = Field(None, description="weights stage 1 started from")
    extra_train: list[DatasetDigest] = Field(
        default_factory=list, description="training-only datasets")
    extra_val: list[DatasetDigest] = Field(
        default_factory=list, description="validation-only datasets")
    recalibrated_from: Recalibration | None = Field(
        None, description="the model whose weights were recalibrated (no training)")
    code_version: str | None = Field(None, description="hts_z2 version that registered it")
    date: str | None = Field(None, description="day of registration (YYYY-MM-DD)")
    state_stage: int | None = Field(
        None, description="stage the run's checkpoint had reached (3: both finished)")

    @model_validator(mode="before")
    @classmethod
    def _empty_parts_are_missing(cls, data: Any) -> Any:
        """Older writers stored ``{}`` for a missing part (``training.get(key, {})``)."""
        if isinstance(data, dict):
            optional = ("settings", "metrics", "overlap_calibration", "init_from",
                        "recalibrated_from")  # fmt: skip
            data = {k: (None if k in optional and v == {} else v) for k, v in data.items()}
        return data

    @property
    def seed(self) -> int:
        """Seed of the model's split (0 when the record has no settings)."""
        return self.settings.seed if self.settings is not None else 0
