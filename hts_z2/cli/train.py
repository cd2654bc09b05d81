"""``hts-z2 train`` and ``hts-z2 recalibrate``: turn the options into a typed spec, run the
training subflow (:func:`hts_z2.flows.training.run_training`, which owns the steps and
their order) with progress bars, and print what it produced; resumable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress, TaskID

from hts_z2.cli.console import fail, get_console, progress_columns
from hts_z2.schemas.training import EXTRA_VAL, RunSpec, TrainingSpec, TrainSettings
from hts_z2.training.cutoffs import CANDIDATE_CUTOFFS

if TYPE_CHECKING:
    from hts_z2.flows.training import Step
    from hts_z2.schemas.training import (
        Calibration,
        EvaluationMetrics,
        RecalibrationSpec,
        SplitRecord,
    )
    from hts_z2.training.trainer import EpochReport

console = get_console()
CUTOFFS_HELP = "candidate overlap cutoffs of the calibration (repeatable; default: " + (
    ", ".join(f"{c:g}" for c in CANDIDATE_CUTOFFS) + ")"
)
SPEC = TrainingSpec.model_fields
"""The spec's fields: their descriptions are the help of the options that set them."""
CALIBRATE_BY_HELP = RunSpec.model_fields["calibrate_by"].description
DEVICE_HELP = TrainSettings.model_fields["device"].description
EXTRA_VAL_HELP = f"{EXTRA_VAL} (repeatable)"
CLEAN_ERRORS: dict[str, tuple[type[Exception], ...]] = {
    "prepare": (FileExistsError, FileNotFoundError, ValueError, RuntimeError),
    "register": (FileExistsError,),
}
"""Errors of a step that are the user's to fix (bad data, a name taken, an unusable
device): printed as ``error: ...`` with exit status 2 instead of a traceback."""


def train(
    dataset: Path = typer.Argument(
        None, help="dataset directory (default: the embedded training dataset)"
    ),
    name: str = typer.Option("my-hts-z2-model", help="model name (directory under --models)"),
    models: Path = typer.Option(None, help="models directory (default: the repository's models/)"),
    work: Path = typer.Option(Path("train-work"), help="work directory (checkpoints; resume)"),
    minutes1: float = typer.Option(60.0, help="time budget of stage 1 (minutes)"),
    minutes2: float = typer.Option(20.0, help="time budget of stage 2 (minutes)"),
    epochs1: int = typer.Option(200, help="most epochs of stage 1"),
    epochs2: int = typer.Option(50, help="most epochs of stage 2"),
    batch_size: int = typer.Option(4, help="structures per optimizer step"),
    channels: int = typer.Option(32, help="scalar channels of the network"),
    layers: int = typer.Option(2, help="orbital-convolution layers"),
    r_cut: float = typer.Option(10.0, help="pair cutoff of predicted blocks (Å)"),
    tensor_product: str = typer.Option("reduced", help="reduced (Eq. 8) or full"),
    overlap_cutoff: float = typer.Option(
        1e-3, help="overlap eigenvalues dropped in the stage-2 band loss (0: exact solve)"
    ),
    seed: int = typer.Option(0, help="seed of the split and the initialization"),
    weight_rms: float = typer.Option(
        1.0, help="weight of the RMS H0/S terms (they weigh in the large hoppings)"
    ),
    band_lambda: float = typer.Option(
        1e-2, help="weight of the stage-2 band-energy MAE (eV) in the objective (paper: 1e-2)"
    ),
    init_from: Path = typer.Option(None, help=SPEC["init_from"].description),
    extra_train: list[Path] = typer.Option(
        None, help=f"{SPEC['extra_train'].description} (repeatable)"
    ),
    extra_val: list[Path] = typer.Option(None, help=EXTRA_VAL_HELP),
    overlap: str = typer.Option(
        "basis",
        help="basis: exact S from the radial functions of the basis (needs GPAW to export "
        "them); predicted: learn S with the network",
    ),
    solve_basis: str = typer.Option("full", help=SPEC["solve_basis"].description),
    calibrate_by: str = typer.Option("labels", help=CALIBRATE_BY_HELP),
    cutoffs: list[float] = typer.Option(
        None,
        help=CUTOFFS_HELP,
    ),
    skip_z2: bool = typer.Option(False, help="skip the Z2 agreement in the evaluation"),
    device: str = typer.Option("cpu", help=DEVICE_HELP),
    overwrite: bool = typer.Option(
        False, help="replace a model already registered under --models/--name"
    ),
) -> None:
    """Train (stage 1: Hamiltonian loss; stage 2: + band loss), choose the overlap cutoff
    on the validation split, evaluate on the test split, register."""
    from hts_z2.model.device import torch_device
    from hts_z2.model.predictor import models_dir
    from hts_z2.reference.dataset import embedded_dataset_path
    from hts_z2.schemas.training import ArchitectureOptions

    check_criterion(calibrate_by)
    check_cutoffs(cutoffs)
    spec = TrainingSpec(
        dataset=str(dataset or embedded_dataset_path()),
        extra_train=[str(p) for p in extra_train or []],
        extra_val=[str(p) for p in extra_val or []],
        work=str(work),
        models_root=str(models or models_dir()),
        model_name=name,
        arch=ArchitectureOptions(
            channels=channels,
            n_layers=layers,
            r_cut=r_cut,
            tensor_product=tensor_product,
            overlap_cutoff=overlap_cutoff,
            overlap=overlap,
        ),
        init_from=None if init_from is None else str(init_from),
        solve_basis=solve_basis,
        settings=TrainSettings(
            max_minutes_stage1=minutes1,
            max_minutes_stage2=minutes2,
            max_epochs_stage1=epochs1,
            max_epochs_stage2=epochs2,
            batch_size=batch_size,
            seed=seed,
            weight_rms=weight_rms,
            band_lambda=band_lambda,
            device=device,
        ),
        calibrate_by=calibrate_by,
        cutoffs=cutoffs or None,
        z2=not skip_z2,
        overwrite=overwrite,
    )
    try:
        torch_device(device)  # the stages train here: refuse an unusable device up front
    except CLEAN_ERRORS["prepare"] as err:
        fail(str(err))

    def heading(record: SplitRecord) -> str:
        return f"dataset {spec.dataset}: {split_summary(record)}  (work dir {work})"

    run(spec, heading)


def run(spec: TrainingSpec | RecalibrationSpec, heading: Callable[[SplitRecord], str]) -> None:
    """Run ``spec``'s steps with progress bars (``heading`` of the prepared split is
    printed first), then print the test metrics, the model's directory and its domain
    reference."""
    from hts_z2.cli.domain import domain_after_register
    from hts_z2.flows.training import run_training

    reporter = ProgressReporter(spec.calibrate_by, heading)
    try:
        result = run_training(spec, reporter)
    except Exception as err:
        if not isinstance(err, CLEAN_ERRORS.get(reporter.current or "", ())):
            raise
        fail(str(err))
    console.print(metrics_line(result.metrics))
    console.print(f"model registered in {result.path}")
    console.print(domain_after_register(Path(result.path), result.record))


class ProgressReporter:
    """A run on the console (a :class:`hts_z2.flows.training.Reporter`): one progress bar
    per training stage, calibration and evaluation; the prepared split and the
    calibration's scores as lines."""

    def __init__(self, criterion: str, heading: Callable[[SplitRecord], str]) -> None:
        self.criterion = criterion
        self.heading = heading
        self.current: Step | None = None
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def label(self, name: Step) -> str | None:
        """The bar's title of step ``name`` (None: no bar)."""
        if name in ("stage 1", "stage 2"):
            return name
        if name == "calibrate":
            return f"overlap cutoff (validation, by {self.criterion})"
        if name == "evaluate":
            return "evaluate (test split)"
        return None

    @contextmanager
    def step(self, name: Step, total: int | None) -> Iterator[None]:
        self.current = name
        label = self.label(name)
        if label is None:
            yield
            return
        with Progress(*progress_columns(), console=console) as bar:
            self.bar, self.task = bar, bar.add_task(label, total=total, info="")
            try:
                yield
            finally:
                self.bar = self.task = None

    def batch(self, done: int, total: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def epoch(self, r: EpochReport) -> None:
        if self.bar is None or self.task is None:
            return
        self.bar.update(
            self.task,
            description=f"stage {r.stage} epoch {r.epoch}",
            info=f"train {r.train:.4f}  val {r.val:.4f}  lr {r.lr:.1e}",
        )
        self.bar.console.log(
            f"stage {r.stage} epoch {r.epoch}: train {r.train:.4f} val {r.val:.4f} "
            f"lr {r.lr:.1e} ({r.seconds:.0f} s)"
        )

    def sample(self, sample_id: str) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, info=sample_id)

    def prepared(self, record: SplitRecord) -> None:
        console.print(self.heading(record))

    def calibrated(self, cal: Calibration) -> None:
        console.print(calibration_line(cal))


def calibration_line(cal: Calibration) -> str:
    """``validation by overlap cutoff: 0.001: 120 meV (4/4 solved, 3 labels agree), ...
    -> 0.001``."""
    return (
        "validation by overlap cutoff: "
        + ", ".join(
            f"{s.cutoff:g}: "
            + ("n/a" if s.band_mae_meV is None else f"{s.band_mae_meV:.0f} meV")
            + f" ({s.n_solved}/{s.n_total} solved"
            + ("" if s.labels_agree is None else f", {s.labels_agree} labels agree")
            + ")"
            for s in cal.scores
        )
        + f"  -> {cal.overlap_cutoff:g}"
    )


def metrics_line(m: EvaluationMetrics) -> str:
    """The test metrics in one line."""
    return (
        f"test: H0 MAE {m.h0_mae_meV:.1f} meV "
        f"({m.h0_mae_large_meV or float('nan'):.0f} meV where |H| > 0.5 eV), "
        f"SOC MAE {m.soc_mae_meV:.2f} meV, "
        f"S MAE {m.s_mae:.4f}, band MAE "
        + ("n/a" if m.band_mae_meV is None else f"{m.band_mae_meV:.1f} meV")
        + f", Z2 agreement {m.z2_agree}/{m.z2_total} with the LCAO reference, "
        f"{m.z2_agree_record}/{m.z2_total_record} with the label of record"
    )


def split_summary(record: SplitRecord) -> str:
    """``train N (incl. M training-only), val N (incl. M validation-only), test N``."""

    def part(name: str, ids: list[str], entries: list, kind: str) -> str:
        inside = sum(e.samples for e in entries if e.dataset is not None)
        recorded = sum(e.samples for e in entries if e.dataset is None)
        text = f"{name} {len(ids)}"
        if inside:
            text += f" (incl. {inside} {kind})"
        if recorded:  # a registered model names its training-only data by sha256 alone
            text += f" + {recorded} {kind} the model was trained on"
        return text

    split = record.split
    return ", ".join(
        (
            part("train", split.train, record.extra_train, "training-only"),
            part("val", split.val, record.extra_val, "validation-only"),
            f"test {len(split.test)}",
        )
    )


def check_cutoffs(cutoffs: list[float] | None) -> None:
    """Exit with a clear error for a candidate overlap cutoff outside [0, 1)."""
    bad = [c for c in cutoffs or [] if not 0.0 <= c < 1.0]
    if bad:
        fail(f"--cutoffs must lie in [0, 1) (overlap eigenvalues); got {bad}")


def check_criterion(criterion: str) -> None:
    """Exit with a clear error for an unknown ``--calibrate-by``."""
    from hts_z2.training.calibrate import CRITERIA

    if criterion not in CRITERIA:
        fail(f"--calibrate-by must be one of {', '.join(CRITERIA)}")


def recalibrate(
    model: Path = typer.Argument(..., help="registered model directory (or name under --models)"),
    name: str = typer.Option(..., help="name of the re-calibrated model"),
    dataset: Path = typer.Option(
        None, help="the model's training dataset (default: the embedded one)"
    ),
    models: Path = typer.Option(None, help="models directory (default: the repository's models/)"),
    work: Path = typer.Option(Path("recalibrate-work"), help="work directory (resumes)"),
    extra_val: list[Path] = typer.Option(None, help=EXTRA_VAL_HELP),
    cutoffs: list[float] = typer.Option(
        None,
        help=CUTOFFS_HELP,
    ),
    calibrate_by: str = typer.Option("labels", help=CALIBRATE_BY_HELP),
    skip_z2: bool = typer.Option(False, help="skip the Z2 agreement in the evaluation"),
    overwrite: bool = typer.Option(False, help="replace a model registered under --name"),
) -> None:
    """Choose a registered model's overlap cutoff anew on its validation split, without
    training: re-evaluate on its test split and register the same weights under a new
    name (their file records the new cutoff, so the new model has its own sha256)."""
    from hts_z2.model.predictor import models_dir
    from hts_z2.reference.dataset import embedded_dataset_path
    from hts_z2.schemas.training import RecalibrationSpec

    check_criterion(calibrate_by)
    check_cutoffs(cutoffs)
    models = models or models_dir()
    source = model if model.is_dir() else Path(models) / model
    spec = RecalibrationSpec(
        model_dir=str(source),
        dataset=str(dataset or embedded_dataset_path()),
        extra_val=[str(p) for p in extra_val or []],
        work=str(work),
        models_root=str(models),
        model_name=name,
        calibrate_by=calibrate_by,
        cutoffs=cutoffs or None,
        z2=not skip_z2,
        overwrite=overwrite,
    )

    def heading(record: SplitRecord) -> str:
        sha = record.recalibrated_from.sha256 if record.recalibrated_from else "?"
        return (
            f"re-calibrating {source} (sha256 {sha[:12]}) by {calibrate_by}; work dir {work}\n"
            f"{split_summary(record)}"
        )

    run(spec, heading)
