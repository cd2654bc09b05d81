"""``hts-z2 train`` / ``recalibrate`` turn their options into a typed spec and hand it to
the one runner of the training steps (hts_z2.flows.training.run_training); errors the user
can fix in the prepare and register steps are a clean exit 2, others propagate."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.schemas.training import (
    Calibration,
    CutoffScore,
    EvaluationMetrics,
    Recalibration,
    RecalibrationSpec,
    Split,
    SplitRecord,
    TrainingSpec,
)

runner = CliRunner()


def result_of(tmp_path: Path):
    from hts_z2.flows.training import TrainingResult

    record = SplitRecord(
        dataset=str(tmp_path / "data"), dataset_sha256="0" * 64, config={},
        split=Split(train=["A", "B"], val=["C"], test=["D"]),
        recalibrated_from=Recalibration(model="/models/src", sha256="f" * 64),
    )  # fmt: skip
    cal = Calibration(overlap_cutoff=0.1, criterion="band", scores=[
        CutoffScore(cutoff=0.1, band_mae_meV=150.0, n_solved=1, n_total=1)])  # fmt: skip
    metrics = EvaluationMetrics(n_structures=1, h0_mae_meV=3.0, soc_mae_meV=0.1, s_mae=0.0,
                                band_mae_meV=120.0, n_band=1, z2_total=1)  # fmt: skip
    return TrainingResult(record=record, calibration=cal, metrics=metrics,
                          path=str(tmp_path / "models" / "x"))  # fmt: skip


@pytest.fixture
def captured(tmp_path, monkeypatch):
    """The spec the command runs (the run itself replaced by its reporter's calls)."""
    import hts_z2.cli.domain
    import hts_z2.flows.training

    seen = {}

    def run_training(spec, reporter):
        seen["spec"] = spec
        result = result_of(tmp_path)
        with reporter.step("prepare", None):
            reporter.prepared(result.record)
        with reporter.step("calibrate", 1):
            reporter.sample("C")
            reporter.calibrated(result.calibration)
        with reporter.step("evaluate", 1):
            reporter.sample("D")
        return result

    monkeypatch.setattr(hts_z2.flows.training, "run_training", run_training)
    monkeypatch.setattr(
        hts_z2.cli.domain,
        "domain_after_register",
        lambda target, record: f"domain reference: stub for {record.dataset}",
    )
    return seen


def test_train_options_become_the_spec(tmp_path, captured):
    data, val1, val2 = (tmp_path / n for n in ("data", "v1", "v2"))
    args = ["train", str(data), "--name", "x", "--models", str(tmp_path / "models"),
            "--work", str(tmp_path / "work"), "--epochs1", "3", "--minutes2", "1.5",
            "--channels", "8", "--layers", "1", "--r-cut", "7.0", "--seed", "4",
            "--band-lambda", "0.05", "--extra-val", str(val1), "--extra-val", str(val2),
            "--cutoffs", "0.1", "--cutoffs", "0.01", "--calibrate-by", "band", "--skip-z2",
            "--solve-basis", "szp", "--overlap", "predicted"]  # fmt: skip
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    spec = captured["spec"]
    assert isinstance(spec, TrainingSpec)
    assert (spec.dataset, spec.model_name, spec.work) == (str(data), "x", str(tmp_path / "work"))
    assert spec.extra_val == [str(val1), str(val2)] and spec.extra_train == []
    assert spec.arch.overrides() == {"channels": 8, "n_layers": 1, "r_cut": 7.0,
                                     "tensor_product": "reduced", "overlap_cutoff": 1e-3,
                                     "overlap": "predicted"}  # fmt: skip
    s = spec.settings
    assert (s.max_epochs_stage1, s.max_minutes_stage2, s.seed, s.band_lambda) == (3, 1.5, 4, 0.05)
    assert spec.cutoffs == [0.1, 0.01] and spec.calibrate_by == "band" and spec.z2 is False
    assert spec.solve_basis == "szp" and spec.overwrite is False and spec.init_from is None
    text = " ".join(out.output.split())
    assert f"dataset {data}: train 2, val 1, test 1" in text
    assert "validation by overlap cutoff: 0.1: 150 meV (1/1 solved) -> 0.1" in text
    assert "band MAE 120.0 meV" in text and f"model registered in {tmp_path}" in text
    assert "domain reference: stub" in text


def test_recalibrate_options_become_the_spec(tmp_path, captured):
    source = tmp_path / "models" / "src"
    source.mkdir(parents=True)
    out = runner.invoke(app, ["recalibrate", str(source), "--name", "y", "--dataset",
                              str(tmp_path / "data"), "--work", str(tmp_path / "w"),
                              "--models", str(tmp_path / "models")])  # fmt: skip
    assert out.exit_code == 0, out.output
    spec = captured["spec"]
    assert isinstance(spec, RecalibrationSpec)
    assert (spec.model_dir, spec.model_name, spec.calibrate_by) == (str(source), "y", "labels")
    assert spec.cutoffs is None and spec.z2 is True
    text = " ".join(out.output.split())
    assert f"re-calibrating {source} (sha256 ffffffffffff) by labels" in text


def stage_error(stage: str, err: Exception):
    def run_training(spec, reporter):
        with reporter.step(stage, None):
            raise err

    return run_training


@pytest.mark.parametrize(
    ("stage", "err", "clean"),
    [
        ("prepare", ValueError("no usable samples in d"), True),
        ("prepare", RuntimeError("solve basis 'szp' reads GPAW's basis files"), True),
        ("register", FileExistsError("m already holds another model"), True),
        ("calibrate", ValueError("w: no samples to calibrate the overlap cutoff on"), False),
        ("register", ValueError("unexpected"), False),
    ],
)
def test_user_errors_of_prepare_and_register_exit_2(tmp_path, monkeypatch, stage, err, clean):
    import hts_z2.flows.training

    monkeypatch.setattr(hts_z2.flows.training, "run_training", stage_error(stage, err))
    out = runner.invoke(app, ["train", str(tmp_path), "--work", str(tmp_path / "w"),
                              "--models", str(tmp_path / "m")])  # fmt: skip
    if clean:
        assert out.exit_code == 2 and f"error: {err}" in " ".join(out.output.split())
    else:
        assert out.exit_code == 1 and out.exception is err
