"""The training subflow as plain functions: dataset -> stage 1 -> stage 2 -> calibrate
(overlap cutoff, validation split) -> evaluate -> register into ``models/``. The jobflow
Flow in :mod:`hts_z2.flows.training` and ``hts-z2 train`` call these; all state lives in
a work directory, so a run resumes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import torch

from hts_z2 import __version__
from hts_z2.hamiltonian.overlap import OverlapCalculator
from hts_z2.model.checkpoint import (
    OVERLAP_BASIS,
    WEIGHTS,
    file_sha256,
    load_checkpoint,
    load_overlap,
    save_checkpoint,
    save_overlap_basis,
    weights_sha256,
)
from hts_z2.model.config import ModelConfig
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.slots import SlotLayout
from hts_z2.schemas.training import (
    Calibration,
    DatasetDigest,
    DatasetEntry,
    EvaluationMetrics,
    LabelOfRecord,
    Recalibration,
    SampleLabels,
    Split,
    SplitName,
    SplitRecord,
    TrainingRecord,
    TrainSettings,
    WarmStart,
)
from hts_z2.training.calibrate import (
    CANDIDATE_CUTOFFS,
    CRITERIA,
    labels_by_cutoff,
    pick_cutoff,
    predicted_values,
    score_cutoffs,
    score_labels,
)
from hts_z2.training.card import model_card, train_count
from hts_z2.training.data import TrainingItem, build_item
from hts_z2.training.dataset import (
    LoadedDataset,
    add_training_only,
    add_validation_only,
    load_dataset,
    model_split,
    split_ids,
)
from hts_z2.training.evaluate import evaluate
from hts_z2.training.record_labels import sample_records
from hts_z2.training.trainer import EpochReport, new_network, save_stage_start, train_stage

SPLIT_FILE = "split.json"
"""The prepare step's :class:`~hts_z2.schemas.training.SplitRecord`."""
CALIBRATION_FILE = "calibration.json"
"""The calibration step's :class:`~hts_z2.schemas.training.Calibration`."""
METRICS_FILE = "metrics.json"
"""The evaluation step's :class:`~hts_z2.schemas.training.EvaluationMetrics`."""

Doc = TypeVar("Doc", SplitRecord, Calibration, EvaluationMetrics)


def write_document(path: Path, doc: SplitRecord | Calibration | EvaluationMetrics) -> None:
    """Write one of the work directory's records as JSON."""
    path.write_text(doc.model_dump_json(indent=1))


def read_document(path: Path, kind: type[Doc]) -> Doc:
    """Read one of the work directory's records (older files load as they are)."""
    return kind.model_validate_json(path.read_text())


def read_split(work: str | Path) -> SplitRecord:
    """``work/split.json``: what :func:`prepare` (or :func:`prepare_recalibration`) fixed."""
    return read_document(Path(work) / SPLIT_FILE, SplitRecord)


def read_calibration(work: str | Path) -> Calibration | None:
    """``work/calibration.json`` (None before :func:`run_calibration` has run)."""
    path = Path(work) / CALIBRATION_FILE
    return read_document(path, Calibration) if path.is_file() else None


def read_metrics(work: str | Path) -> EvaluationMetrics:
    """``work/metrics.json``: what :func:`run_evaluation` measured."""
    return read_document(Path(work) / METRICS_FILE, EvaluationMetrics)


def record_config(record: SplitRecord) -> ModelConfig:
    """The network configuration a split record fixes."""
    return ModelConfig.from_dict(record.config)


def prepare(
    dataset: str | Path,
    work: str | Path,
    arch: dict | None = None,
    seed: int = 0,
    init_from: str | Path | None = None,
    overlap: str = "basis",
    extra_train: list[str | Path] | None = None,
    solve_basis: str = "full",
    extra_val: list[str | Path] | None = None,
) -> Path:
    """Read the dataset, fix the basis/valence and the split; writes ``work/split.json``.

    ``solve_basis="szp"`` solves bands and Z2 in the single-zeta + polarization shells of
    the dataset's dzp basis (``ModelConfig.solve_shells``, from GPAW's basis files): the
    loss and the model's predictions then cover those shells only.

    ``extra_train`` (dataset directories) adds training-only samples: the validation and
    test parts stay those of ``dataset`` alone (see :func:`add_training_only`).
    ``extra_val`` (dataset directories of further compounds) widens the validation part,
    on which the learning rate, the early stop and the overlap cutoff are decided
    (:func:`add_validation_only`); the test part stays ``dataset``'s.

    ``arch`` overrides :class:`ModelConfig` fields (r_cut, channels, ...). ``init_from``
    (a model directory) starts stage 1 from that model's weights instead of a random
    initialization (fine-tuning, or continuing a registered model's training); its
    architecture and basis are then used and must cover the dataset. ``overlap="basis"``
    (or ``arch["overlap"]``)
    (exact S at inference) exports the radial tables of the dataset's GPAW basis into
    ``work/overlap_basis.npz``, which needs GPAW (the ``dft`` extra); "predicted" trains
    the network's S head instead (e.g. for imported data without basis tables).
    """
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    path = work / SPLIT_FILE
    if path.is_file():
        return path
    data = load_dataset(dataset)
    ids = split_ids({s.sample_id: set(s.numbers.tolist()) for s in data.samples}, seed)
    extras = [(root, load_dataset(root)) for root in extra_train or []]
    for _, extra in extras:
        ids, basis, valence = add_training_only(ids, data, extra)
        data = replace(data, basis=basis, valence=valence)
    fields = {"overlap": overlap, **(arch or {})}
    cfg = ModelConfig(basis=data.basis, valence=data.valence, **fields)
    start = None
    if init_from is not None:
        cfg, sha = warm_start(init_from, cfg, work)
        start = WarmStart(model=str(Path(init_from).resolve()), sha256=sha)
    gpaw_settings = data.samples[0].meta.get("settings", {}).get("gpaw", {})
    if solve_basis != "full":
        try:
            from hts_z2.reference.basis_export import solve_shells
        except ImportError as err:
            raise RuntimeError(
                f"solve basis {solve_basis!r} reads GPAW's basis files: pip install 'hts-z2[dft]'"
            ) from err
        shells = solve_shells(cfg.basis, solve_basis, gpaw_settings.get("basis", "dzp"))
        cfg = replace(cfg, solve_shells=shells)
    if cfg.overlap == "basis":
        export_basis_tables(cfg, gpaw_settings, work)
    record = split_record(dataset, data, Split(**ids), cfg, start, seed)
    for root, extra in extras:
        record.extra_train.append(extra_entry(root, extra))
        record.labels.update(sample_labels(extra))
        record.label_of_record.update(sample_record_labels(extra))
    add_extra_validation(record, extra_val or [])
    write_document(path, record)
    return path


def extra_entry(root: str | Path, extra: LoadedDataset) -> DatasetEntry:
    """How ``split.json`` names a further dataset directory."""
    return DatasetEntry(
        dataset=str(Path(root).resolve()),
        dataset_sha256=extra.sha256,
        samples=len(extra.samples),
        rejected=extra.rejected,
    )


def add_extra_validation(record: SplitRecord, roots: list[str | Path]) -> None:
    """Add the samples of the dataset directories ``roots`` to the validation part of a
    ``split.json`` record (with their reference labels), against the basis and valences
    of its configuration; see :func:`add_validation_only`."""
    cfg = record_config(record)
    for root in roots:
        extra = load_dataset(root)
        ids = add_validation_only(record.split.ids(), cfg.basis, cfg.valence, extra)
        record.split = Split(**ids)
        record.extra_val.append(extra_entry(root, extra))
        record.labels.update(sample_labels(extra))
        record.label_of_record.update(sample_record_labels(extra))


def sample_record_labels(data: LoadedDataset) -> dict[str, LabelOfRecord]:
    """Label of record of every sample (its parent's plane-wave label, where it keeps the
    parent's composition) and whether the sample's LCAO label disagrees with it."""
    formulas = {s.sample_id: s.meta.get("formula", "") for s in data.samples}
    return sample_records(formulas, sample_labels(data))


def sample_labels(data: LoadedDataset) -> dict[str, str]:
    """Reference screening label of every sample (``?`` when none is stored)."""
    return {
        s.sample_id: s.meta.get("reference", {}).get("z2", {}).get("label", "?")
        for s in data.samples
    }


def split_record(
    dataset: str | Path,
    data: LoadedDataset,
    split: Split,
    cfg: ModelConfig,
    init_from: WarmStart | None,
    seed: int,
) -> SplitRecord:
    """What ``work/split.json`` holds: dataset, split (drawn with ``seed``), configuration,
    reference labels."""
    return SplitRecord(
        dataset=str(Path(dataset).resolve()),
        dataset_sha256=data.sha256,
        rejected=data.rejected,
        split=split,
        seed=seed,
        config=cfg.to_dict(),
        init_from=init_from,
        labels=sample_labels(data),
        label_of_record=sample_record_labels(data),
    )


def prepare_recalibration(
    model_dir: str | Path,
    dataset: str | Path,
    work: str | Path,
    extra_val: list[str | Path] | None = None,
) -> Path:
    """A work directory holding a registered model as its trained network, on the split it
    was trained with, so that :func:`run_calibration`, :func:`run_evaluation` and
    :func:`register` re-choose its overlap cutoff without training; writes
    ``work/split.json`` (with ``recalibrated_from``: the model's path and sha256).
    ``extra_val`` widens the validation part with further datasets' compounds (which
    must not be among the model's training compounds: only those of ``dataset`` can be
    checked here, since a model records its training-only data by sha256 alone).

    Raises
    ------
    ValueError
        ``dataset`` is not the model's training dataset (sha256), or the split rebuilt
        with the model's seed differs from the test ids it recorded.
    """
    work = Path(work)
    path = work / SPLIT_FILE
    if path.is_file():
        return path
    net, sha = load_checkpoint(model_dir)
    training = net.cfg.training or TrainingRecord()
    data = load_dataset(dataset)
    try:
        ids = model_split(training, data)
    except ValueError as err:
        raise ValueError(f"{model_dir}, {dataset}: {err}") from None
    work.mkdir(parents=True, exist_ok=True)
    net.cfg = replace(net.cfg, training=None)
    save_checkpoint(net, work / "stage2")
    if net.cfg.overlap == "basis":
        shutil.copyfile(Path(model_dir) / OVERLAP_BASIS, work / OVERLAP_BASIS)
    record = split_record(dataset, data, Split(**ids), net.cfg, training.init_from,
                          training.seed)  # fmt: skip
    record.extra_train = [DatasetEntry(**e.model_dump()) for e in training.extra_train]
    record.recalibrated_from = Recalibration(
        model=str(Path(model_dir).resolve()),
        sha256=sha,
        settings=training.settings or TrainSettings(),
        date=training.date,
    )
    add_extra_validation(record, extra_val or [])
    write_document(path, record)
    return path


def warm_start(model_dir: str | Path, cfg: ModelConfig, work: Path) -> tuple[ModelConfig, str]:
    """Write ``work/state.pt`` so that stage 1 starts from ``model_dir``'s weights.

    Returns the model's configuration (without its training record) with the overlap
    cutoff of ``cfg``, and the sha256 of its weights. Raises ``ValueError`` when the
    model's basis or valences do not cover the dataset's.
    """
    net, sha = load_checkpoint(model_dir)
    for z, shells in cfg.basis.items():
        if tuple(net.cfg.basis.get(z, ())) != tuple(shells):
            raise ValueError(f"{model_dir}: basis of element Z={z} differs from the dataset's")
        if net.cfg.valence.get(z) != cfg.valence.get(z):
            raise ValueError(f"{model_dir}: valence of element Z={z} differs from the dataset's")
    save_stage_start(work, 1, net.state_dict())
    return replace(
        net.cfg, training=None, overlap_cutoff=cfg.overlap_cutoff, overlap=cfg.overlap
    ), sha


def export_basis_tables(cfg: ModelConfig, settings: dict, work: Path) -> None:
    """Write ``work/overlap_basis.npz`` from the GPAW basis and setups the dataset used."""
    try:
        from hts_z2.reference.basis_export import export_overlap_basis
    except ImportError as err:
        raise RuntimeError(
            "overlap='basis' needs GPAW (pip install 'hts-z2[dft]') to export the radial "
            "tables of the basis; or train with overlap='predicted'"
        ) from err
    basis = export_overlap_basis(cfg.basis, settings.get("basis", "dzp"), settings.get("xc", "PBE"))
    save_overlap_basis(basis, cfg, work)


def load_items(
    work: str | Path,
    parts: tuple[SplitName, ...],
    on_progress: Callable[[str], None] | None = None,
) -> tuple[ModelConfig, dict[SplitName, list[TrainingItem]], SplitRecord]:
    """Training items of the named split parts (graphs + targets), with the configuration
    and the split record they come from."""
    record = read_split(work)
    cfg = record_config(record)
    layout = SlotLayout.from_basis(cfg.basis)
    extra = [e.dataset for e in (*record.extra_train, *record.extra_val) if e.dataset]
    roots = [record.dataset, *extra]
    by_id = {s.sample_id: s for root in roots for s in load_dataset(root).samples}
    out: dict[SplitName, list[TrainingItem]] = {}
    for part in parts:
        items = []
        for sid in record.split.part(part):
            if sid in by_id:
                items.append(build_item(by_id[sid], cfg, layout))
                if on_progress is not None:
                    on_progress(sid)
        out[part] = items
    return cfg, out, record


def run_stage(
    work: str | Path,
    stage: int,
    settings: TrainSettings,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> list[EpochReport]:
    """Stage 1 or 2 on the prepared split; resumes from ``work/state.pt``."""
    work = Path(work)
    cfg, items, _ = load_items(work, ("train", "val"))
    net = new_network(cfg, items["train"], settings.seed)
    return train_stage(net, items["train"], items["val"], settings, stage, work, on_epoch, on_step)


def trained_network(work: str | Path) -> HamiltonianNet:
    """Best weights of the last finished stage, with the configuration it trained with."""
    work = Path(work)
    for stage in (2, 1):
        if (work / f"stage{stage}" / "model.safetensors").is_file():
            return load_checkpoint(work / f"stage{stage}")[0]
    raise FileNotFoundError(f"{work}: no trained stage to evaluate")


def final_network(work: str | Path) -> HamiltonianNet:
    """The trained network with the overlap cutoff chosen by :func:`run_calibration`
    (when it has run)."""
    net = trained_network(work)
    cal = read_calibration(work)
    if cal is not None and cal.overlap_cutoff is not None:
        net.cfg = replace(net.cfg, overlap_cutoff=cal.overlap_cutoff)
    return net


def run_calibration(
    work: str | Path,
    candidates: tuple[float, ...] = CANDIDATE_CUTOFFS,
    on_progress: Callable[[str], None] | None = None,
    criterion: str = "labels",
) -> Calibration:
    """Pick the overlap cutoff on the validation split (the training split when the
    dataset is too small to have one); writes ``work/calibration.json``.

    ``criterion="labels"`` ranks the cutoffs by how many screening labels (gap + Z2 of
    the prediction, as inference computes them) agree with the reference labels, then by
    band MAE; ``"band"`` by band MAE alone (faster: no Z2). ``on_progress`` is called
    once per structure and pass (twice per structure with labels).

    Returns the :class:`~hts_z2.schemas.training.Calibration`: ``overlap_cutoff``,
    ``criterion``, the ``split`` used and its ``scores`` per candidate
    (``reference_band_mae_meV``: the reference H solved at that cutoff, i.e. the error the
    truncation alone costs; ``labels_agree``); with labels also ``labels``: per validation
    sample its ``reference`` label and the ``predicted`` one at every candidate (keyed by
    ``f"{cutoff:g}"``), so two models can be compared sample by sample.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown calibration criterion {criterion!r}; use one of {CRITERIA}")
    work = Path(work)
    split: SplitName = "val"
    _, items, record = load_items(work, ("val",))
    if not items["val"]:
        split = "train"
        _, items, record = load_items(work, ("train",))
    if not items[split]:
        raise ValueError(f"{work}: no samples to calibrate the overlap cutoff on")
    net = trained_network(work)
    overlap = load_overlap(work, net.cfg)
    values = ((predicted_values(net, it), it) for it in items[split])
    scores = score_cutoffs(values, candidates, on_progress, overlap, truncation=True)
    per_sample: dict[str, SampleLabels] = {}
    if criterion == "labels":
        pairs = list(_labelled(net, items[split], candidates, overlap, record.labels,
                               on_progress))  # fmt: skip
        scores = score_labels(scores, pairs)
        per_sample = {
            it.sample_id: SampleLabels(
                reference=ref, predicted={f"{c:g}": lab for c, lab in got.items()}
            )
            for it, (got, ref) in zip(items[split], pairs, strict=True)
        }
    result = Calibration(
        overlap_cutoff=pick_cutoff(scores, criterion),
        criterion=criterion,
        split=split,
        scores=scores,
        labels=per_sample,
    )
    write_document(work / CALIBRATION_FILE, result)
    return result


def _labelled(
    net: HamiltonianNet,
    items: list[TrainingItem],
    candidates: tuple[float, ...],
    overlap: OverlapCalculator | None,
    labels: dict[str, str],
    on_progress: Callable[[str], None] | None,
) -> Iterator[tuple[dict[float, str], str]]:
    """(labels by cutoff, reference label) per item, reporting progress."""
    for it in items:
        yield labels_by_cutoff(net, it, candidates, overlap), labels.get(it.sample_id, "?")
        if on_progress is not None:
            on_progress(it.sample_id)


def run_evaluation(
    work: str | Path, z2: bool = True, on_progress: Callable[[str], None] | None = None
) -> EvaluationMetrics:
    """Test-split metrics of the final network; writes ``work/metrics.json``."""
    work = Path(work)
    _, items, record = load_items(work, ("test",))
    if not items["test"]:
        raise ValueError(f"{work}: none of the test samples could be loaded")
    net = final_network(work)
    of_record = {sid: r.label for sid, r in record.label_of_record.items()}
    metrics = evaluate(
        net, items["test"], record.labels, z2, on_progress, load_overlap(work, net.cfg),
        of_record,
    )
    write_document(work / METRICS_FILE, metrics)
    return metrics


def check_model_target(target: str | Path, overwrite: bool = False) -> None:
    """Refuse to start a run whose model directory already holds a model.

    Raises
    ------
    FileExistsError
        ``target`` has weights and ``overwrite`` is false.
    """
    weights = Path(target) / WEIGHTS
    if not overwrite and weights.is_file():
        raise FileExistsError(
            f"{target} already holds another model (weights sha256 "
            f"{file_sha256(weights)[:12]}); choose another --name / --models, "
            "or pass --overwrite to replace it"
        )


def register(
    work: str | Path,
    name: str,
    models_root: str | Path,
    settings: TrainSettings,
    overwrite: bool = False,
) -> Path:
    """Copy the final network into ``models_root/name`` with metadata and a model card.

    Registering the same weights again (a finished run resumed) rewrites the directory;
    other weights replace an existing model only with ``overwrite``.

    Raises
    ------
    FileExistsError
        ``models_root/name`` holds different weights and ``overwrite`` is false.
    """
    work = Path(work)
    record = read_split(work)
    metrics = read_metrics(work)
    calibration = read_calibration(work)
    net = final_network(work)
    state = work / "state.pt"
    stage = torch.load(state, weights_only=True)["stage"] if state.is_file() else None
    training = TrainingRecord(
        dataset_sha256=record.dataset_sha256,
        n_train=train_count(record),
        n_val=len(record.split.val),
        n_test=len(record.split.test),
        test_ids=record.split.test,
        settings=settings,
        metrics=metrics.summary(),
        overlap_calibration=calibration,
        init_from=record.init_from,
        extra_train=[_digest(e) for e in record.extra_train],
        extra_val=[_digest(e) for e in record.extra_val],
        recalibrated_from=record.recalibrated_from,
        code_version=__version__,
        date=time.strftime("%Y-%m-%d"),
        state_stage=stage,
    )
    net.cfg = replace(net.cfg, training=training)
    target = Path(models_root) / name
    existing = target / WEIGHTS
    same = existing.is_file() and file_sha256(existing) == weights_sha256(net)
    check_model_target(target, overwrite or same)
    save_checkpoint(net, target, model_card(name, net.cfg, record, metrics, calibration))
    if net.cfg.overlap == "basis":
        shutil.copyfile(work / OVERLAP_BASIS, target / OVERLAP_BASIS)
    return target


def _digest(entry: DatasetDigest) -> DatasetDigest:
    """A further dataset as a registered model names it (digest and size, no path)."""
    return DatasetDigest(dataset_sha256=entry.dataset_sha256, samples=entry.samples)
