"""The training subflow: prepare (dataset + split) -> stage 1 -> stage 2 -> calibrate
(overlap cutoff) -> evaluate -> register into ``models/``; a recalibration of a
registered model skips the two training stages.

This module owns that order and what each step does with the typed spec
(:class:`~hts_z2.schemas.training.TrainingSpec` /
:class:`~hts_z2.schemas.training.RecalibrationSpec`): :func:`run_training` runs the steps
in one process (``hts-z2 train`` and ``hts-z2 recalibrate``, which draw progress through
a :class:`Reporter`), :func:`training_flow` makes them a jobflow Flow with one job per
step (:class:`TrainingMaker`). Steps share a work directory and hand each other its
records (``split.json``, ``calibration.json``, ``metrics.json``), so a re-run (or a
restarted job) resumes from the last checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from jobflow import Flow, Maker, job
from pydantic import BaseModel, Field

from hts_z2.schemas.training import (
    ArchitectureOptions,
    Calibration,
    EvaluationMetrics,
    RecalibrationSpec,
    Split,
    SplitRecord,
    TrainingSpec,
    TrainSettings,
)

if TYPE_CHECKING:
    from hts_z2.training.trainer import EpochReport

Step = Literal["prepare", "stage 1", "stage 2", "calibrate", "evaluate", "register"]
TRAINING_STEPS: tuple[Step, ...] = (
    "prepare", "stage 1", "stage 2", "calibrate", "evaluate", "register"
)  # fmt: skip
RECALIBRATION_STEPS: tuple[Step, ...] = ("prepare", "calibrate", "evaluate", "register")
Spec = TrainingSpec | RecalibrationSpec


def steps(spec: Spec) -> tuple[Step, ...]:
    """The steps a run of ``spec`` takes, in order."""
    return RECALIBRATION_STEPS if isinstance(spec, RecalibrationSpec) else TRAINING_STEPS


class Reporter(Protocol):
    """What a run shows while it goes. Any object with these methods serves (``hts-z2
    train`` draws a progress bar per step and prints the split and the calibration); a
    subclass inherits these defaults, which show nothing."""

    def step(self, name: Step, total: int | None) -> AbstractContextManager[object]:
        """The context one step runs in; ``total`` is how many :meth:`sample` calls it
        makes (None: unknown, e.g. a training stage, which reports :meth:`batch`)."""
        return nullcontext()

    def batch(self, done: int, total: int) -> None:
        """``done`` of ``total`` optimizer steps of the current epoch."""

    def epoch(self, report: EpochReport) -> None:
        """A finished epoch of a training stage."""

    def sample(self, sample_id: str) -> None:
        """One structure calibrated or evaluated."""

    def prepared(self, record: SplitRecord) -> None:
        """The split the run works on (after the prepare step)."""

    def calibrated(self, calibration: Calibration) -> None:
        """The overlap cutoff chosen and the scores it was chosen from."""


class TrainingResult(BaseModel):
    """What an in-process run produced."""

    record: SplitRecord = Field(description="the data and split it worked on")
    calibration: Calibration = Field(description="how the overlap cutoff was chosen")
    metrics: EvaluationMetrics = Field(description="test-split metrics")
    path: str = Field(description="the registered model's directory")


class SilentReporter(Reporter):
    """Shows nothing."""


def _prepare(spec: Spec, reporter: Reporter) -> SplitRecord:
    from hts_z2.training.run import check_model_target, prepare, prepare_recalibration, read_split

    work = Path(spec.work)
    if not work.exists():  # refuse before any work what register would refuse
        check_model_target(Path(spec.models_root) / spec.model_name, spec.overwrite)
    if isinstance(spec, RecalibrationSpec):
        prepare_recalibration(spec.model_dir, spec.dataset, work, spec.extra_val)
    else:
        prepare(
            spec.dataset,
            work,
            spec.arch.overrides(),
            spec.settings.seed,
            spec.init_from,
            extra_train=list(spec.extra_train),
            solve_basis=spec.solve_basis,
            extra_val=list(spec.extra_val),
        )
    record = read_split(work)
    reporter.prepared(record)
    return record


def _train(stage: int) -> Callable[[Spec, Reporter], list[EpochReport]]:
    def run(spec: Spec, reporter: Reporter) -> list[EpochReport]:
        from hts_z2.training.run import run_stage

        if not isinstance(spec, TrainingSpec):
            raise TypeError(f"a {type(spec).__name__} does not train")
        return run_stage(spec.work, stage, spec.settings, reporter.epoch, reporter.batch)

    return run


def _calibrate(spec: Spec, reporter: Reporter) -> Calibration:
    from hts_z2.training.cutoffs import CANDIDATE_CUTOFFS
    from hts_z2.training.run import run_calibration

    candidates = tuple(sorted(spec.cutoffs)) if spec.cutoffs else CANDIDATE_CUTOFFS
    cal = run_calibration(spec.work, candidates, reporter.sample, spec.calibrate_by)
    reporter.calibrated(cal)
    return cal


def _evaluate(spec: Spec, reporter: Reporter) -> EvaluationMetrics:
    from hts_z2.training.run import run_evaluation

    return run_evaluation(spec.work, spec.z2, reporter.sample)


def settings_of(spec: Spec, record: SplitRecord) -> TrainSettings:
    """The optimization settings a model records: the spec's, or for a recalibration
    those the recalibrated model was trained with."""
    if isinstance(spec, TrainingSpec):
        return spec.settings
    if record.recalibrated_from is None:
        raise ValueError(f"{spec.work}: split.json names no model to recalibrate")
    return record.recalibrated_from.settings


def _register(spec: Spec, reporter: Reporter) -> Path:
    from hts_z2.training.run import read_split, register

    settings = settings_of(spec, read_split(spec.work))
    return register(spec.work, spec.model_name, spec.models_root, settings, spec.overwrite)


STEP_FUNCTIONS: dict[Step, Callable[[Spec, Reporter], Any]] = {
    "prepare": _prepare,
    "stage 1": _train(1),
    "stage 2": _train(2),
    "calibrate": _calibrate,
    "evaluate": _evaluate,
    "register": _register,
}
"""What each step does (all state lives in the work directory)."""


def run_step(spec: Spec, name: Step, reporter: Reporter | None = None) -> Any:
    """Run (or resume) one step of ``spec``'s run; returns its result: the split record,
    the epochs trained, the calibration, the test metrics or the registered model's
    directory."""
    if name not in steps(spec):
        raise ValueError(f"a {type(spec).__name__} has no step {name!r}")
    return STEP_FUNCTIONS[name](spec, reporter or SilentReporter())


def _total(name: Step, spec: Spec, record: SplitRecord | None) -> int | None:
    """How many structures step ``name`` reports (:meth:`Reporter.sample`)."""
    if record is None:
        return None
    if name == "calibrate":
        passes = 2 if spec.calibrate_by == "labels" else 1
        return passes * len(record.split.val or record.split.train)
    if name == "evaluate":
        return len(record.split.test)
    return None


def run_training(spec: Spec, reporter: Reporter | None = None) -> TrainingResult:
    """Every step of ``spec``'s run in this process, in order (a finished step resumes as
    a no-op from the work directory)."""
    reporter = reporter or SilentReporter()
    out: dict[Step, Any] = {}
    record: SplitRecord | None = None
    for name in steps(spec):
        with reporter.step(name, _total(name, spec, record)):
            out[name] = run_step(spec, name, reporter)
        if name == "prepare":
            record = out[name]
    return TrainingResult(
        record=out["prepare"],
        calibration=out["calibrate"],
        metrics=out["evaluate"],
        path=str(out["register"]),
    )


# --- jobflow -----------------------------------------------------------------------------


class PreparedOutput(BaseModel):
    """The prepared work directory."""

    work: str = Field(description="work directory")
    split: Split = Field(description="sample ids of train / val / test")


class StageOutput(BaseModel):
    """A finished training stage."""

    work: str = Field(description="work directory")
    stage: int = Field(description="1 (Hamiltonian loss) or 2 (+ band loss)")
    epochs: int = Field(description="epochs run by this job (0: already finished)")
    best_val: float | None = Field(None, description="best validation loss of those epochs")


class CalibrationOutput(BaseModel):
    """The chosen overlap cutoff."""

    work: str = Field(description="work directory")
    calibration: Calibration = Field(description="cutoff and the scores it was chosen from")


class EvaluationOutput(BaseModel):
    """Test-split metrics."""

    work: str = Field(description="work directory")
    metrics: EvaluationMetrics = Field(description="aggregates and per-structure metrics")


class RegisteredModel(BaseModel):
    """Where the trained model was registered."""

    path: str = Field(description="model directory")
    name: str = Field(description="model name")


def job_output(spec: Spec, name: Step, result: Any) -> BaseModel:
    """A step's result as its job's output document."""
    if name == "prepare":
        return PreparedOutput(work=spec.work, split=result.split)
    if name in ("stage 1", "stage 2"):
        best = min((h.val for h in result), default=None)
        return StageOutput(work=spec.work, stage=int(name[-1]), epochs=len(result), best_val=best)
    if name == "calibrate":
        return CalibrationOutput(work=spec.work, calibration=result)
    if name == "evaluate":
        return EvaluationOutput(work=spec.work, metrics=result)
    return RegisteredModel(path=str(result), name=spec.model_name)


@job
def step_job(spec: Spec, name: Step, after: Any = None) -> BaseModel:
    """Run (or resume) step ``name`` of ``spec``'s run; ``after`` (the previous step's
    output) only orders the jobs."""
    return job_output(spec, name, run_step(spec, name))


def training_flow(spec: Spec, name: str = "hts-z2 training") -> Flow:
    """``spec``'s run as a Flow: one job per step, each after the previous one; the
    Flow's output is the registered model (:class:`RegisteredModel`)."""
    jobs = []
    previous = None
    for step in steps(spec):
        j = step_job(spec, step, previous)
        j.name = f"{name}: {step}"
        jobs.append(j)
        previous = j.output
    return Flow(jobs, output=jobs[-1].output, name=name)


@dataclass
class TrainingMaker(Maker):
    """dataset -> stage 1 -> stage 2 -> calibrate -> evaluate -> register.

    Attributes
    ----------
    model_name : directory name under ``models_root``.
    arch : :class:`~hts_z2.schemas.training.ArchitectureOptions` (or a dict of them:
        r_cut, channels, ...).
    settings : optimization settings of both stages (its seed also seeds the split).
    z2 : include the Z2-label agreement in the evaluation.
    extra_train : further dataset directories used for training only (validation and
        test stay the main dataset's split).
    extra_val : further dataset directories whose compounds join the validation split
        only (the test split stays the main dataset's).
    solve_basis : "full" or "szp" (bands and Z2 in the single-zeta + polarization
        shells of the dataset's basis; see :func:`hts_z2.training.run.prepare`).
    calibrate_by : how the overlap cutoff is chosen on the validation split: "labels"
        (screening-label agreement, then band MAE) or "band" (band MAE alone, no Z2).
    overwrite : replace a model already registered under ``model_name`` (otherwise the
        prepare job of a new work directory refuses to start, and the register job to
        replace it).
    """

    name: str = "hts-z2 training"
    model_name: str = "my-hts-z2-model"
    arch: ArchitectureOptions | dict = field(default_factory=ArchitectureOptions)
    settings: TrainSettings = field(default_factory=TrainSettings)
    z2: bool = True
    extra_train: list[str] = field(default_factory=list)
    extra_val: list[str] = field(default_factory=list)
    solve_basis: str = "full"
    calibrate_by: str = "labels"
    overwrite: bool = False

    def spec(self, dataset: str, work: str, models_root: str) -> TrainingSpec:
        """The run this Maker describes, on ``dataset`` in ``work``."""
        return TrainingSpec(
            dataset=str(dataset),
            work=str(work),
            models_root=str(models_root),
            model_name=self.model_name,
            arch=ArchitectureOptions.model_validate(self.arch),
            settings=self.settings,
            z2=self.z2,
            extra_train=[str(p) for p in self.extra_train],
            extra_val=[str(p) for p in self.extra_val],
            solve_basis=self.solve_basis,
            calibrate_by=self.calibrate_by,
            overwrite=self.overwrite,
        )

    def make(self, dataset: str, work: str, models_root: str) -> Flow:
        return training_flow(self.spec(dataset, work, models_root), self.name)
