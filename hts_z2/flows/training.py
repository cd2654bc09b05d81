"""The training subflow as a jobflow Flow: prepare (dataset + split) -> stage 1 ->
stage 2 -> calibrate (overlap cutoff) -> evaluate -> register into ``models/``. Jobs
share a work directory, so a re-run (or a restarted job) resumes from the last
checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from jobflow import Flow, Maker, job
from pydantic import BaseModel

from hts_z2.training.trainer import TrainSettings


class StageOutput(BaseModel):
    """A finished training stage."""

    work: str
    stage: int
    epochs: int
    best_val: float | None = None


class EvaluationOutput(BaseModel):
    """Test-split metrics (see :class:`hts_z2.training.evaluate.TestMetrics`)."""

    work: str
    metrics: dict


class RegisteredModel(BaseModel):
    """Where the trained model was registered."""

    path: str
    name: str


@job
def prepare_job(
    dataset: str,
    work: str,
    arch: dict,
    seed: int,
    extra_train: list[str] | None = None,
    solve_basis: str = "full",
    extra_val: list[str] | None = None,
) -> str:
    """Fix basis, valence and split of ``dataset`` (plus training-only ``extra_train`` and
    validation-only ``extra_val`` datasets) and the solved sub-basis in ``work``; returns
    ``work``."""
    from hts_z2.training.run import prepare

    prepare(
        dataset,
        work,
        arch,
        seed,
        extra_train=extra_train,
        solve_basis=solve_basis,
        extra_val=extra_val,
    )
    return work


@job
def stage_job(work: str, stage: int, settings: dict) -> StageOutput:
    """Run (or resume) one training stage."""
    from hts_z2.training.run import run_stage

    history = run_stage(work, stage, TrainSettings(**settings))
    best = min((h.val for h in history), default=None)
    return StageOutput(work=work, stage=stage, epochs=len(history), best_val=best)


@job
def calibrate_job(work: str, criterion: str = "labels") -> str:
    """Choose the overlap cutoff on the validation split (by ``criterion``: labels or
    band); returns ``work``."""
    from hts_z2.training.run import run_calibration

    run_calibration(work, criterion=criterion)
    return work


@job
def evaluate_job(work: str, z2: bool = True) -> EvaluationOutput:
    """Evaluate the final network on the test split."""
    from hts_z2.training.run import run_evaluation

    return EvaluationOutput(work=work, metrics=run_evaluation(work, z2).to_dict())


@job
def register_job(
    work: str, name: str, models_root: str, settings: dict, overwrite: bool = False
) -> RegisteredModel:
    """Write the model directory (weights, config, card)."""
    from hts_z2.training.run import register

    path = register(work, name, models_root, TrainSettings(**settings), overwrite)
    return RegisteredModel(path=str(path), name=name)


@dataclass
class TrainingMaker(Maker):
    """dataset -> stage 1 -> stage 2 -> calibrate -> evaluate -> register.

    Attributes
    ----------
    model_name : directory name under ``models_root``.
    arch : :class:`~hts_z2.model.config.ModelConfig` overrides (r_cut, channels, ...).
    settings : optimization settings of both stages.
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
        register job fails rather than replace it).
    """

    name: str = "hts-z2 training"
    model_name: str = "my-hts-z2-model"
    arch: dict = field(default_factory=dict)
    settings: TrainSettings = field(default_factory=TrainSettings)
    z2: bool = True
    extra_train: list[str] = field(default_factory=list)
    extra_val: list[str] = field(default_factory=list)
    solve_basis: str = "full"
    calibrate_by: str = "labels"
    overwrite: bool = False

    def make(self, dataset: str, work: str, models_root: str) -> Flow:
        s = asdict(self.settings)
        prep = prepare_job(
            dataset,
            work,
            self.arch,
            self.settings.seed,
            self.extra_train,
            self.solve_basis,
            self.extra_val,
        )
        s1 = stage_job(prep.output, 1, s)
        s2 = stage_job(s1.output.work, 2, s)
        cal = calibrate_job(s2.output.work, self.calibrate_by)
        ev = evaluate_job(cal.output, self.z2)
        reg = register_job(ev.output.work, self.model_name, models_root, s, self.overwrite)
        jobs = [prep, s1, s2, cal, ev, reg]
        labels = ["prepare", "stage 1", "stage 2", "calibrate", "evaluate", "register"]
        for j, label in zip(jobs, labels, strict=True):
            j.name = f"{self.name}: {label}"
        return Flow(jobs, output=reg.output, name=self.name)
