import sys
from pathlib import Path

import pytest
from jobflow import run_locally

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from samples import link_dataset

from hts_z2.flows.training import TrainingMaker
from hts_z2.model import load_model
from hts_z2.structures.embedded import get_embedded
from hts_z2.training.trainer import TrainSettings


@pytest.mark.slow
def test_training_flow_registers_a_model(tmp_path):
    dataset = link_dataset(tmp_path)
    maker = TrainingMaker(
        model_name="flow-model",
        arch={"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4},
        settings=TrainSettings(max_epochs_stage1=2, max_epochs_stage2=1, batch_size=2),
        z2=False,
        solve_basis="szp",
    )
    flow = maker.make(str(dataset), str(tmp_path / "work"), str(tmp_path / "models"))
    assert [j.name.split(": ")[1] for j in flow.jobs] == [
        "prepare",
        "stage 1",
        "stage 2",
        "calibrate",
        "evaluate",
        "register",
    ]
    responses = run_locally(flow, create_folders=False, ensure_success=True)
    path = responses[flow.jobs[-1].uuid][1].output.path
    model = load_model(path)
    assert model.name == "flow-model" and len(model.sha256) == 64
    assert (Path(path) / "card.md").is_file()
    assert model.config.training.n_train >= 1
    # solved in sz + polarization: Pb s p d + d-polarization, Te s p + d-polarization
    assert model.config.solve_shells[82] == (0, 1, 2, 6)
    (tb,) = model.predict([get_embedded("PbTe-Fm-3m").structure])
    assert tb.n_bands == 2 * (14 + 9)
    assert "solved in a sub-basis" in (Path(path) / "card.md").read_text()


def fake_results(work: Path) -> dict:
    """What each step returns, for a run whose steps are stubs."""
    from hts_z2.schemas.training import Calibration, EvaluationMetrics, Split, SplitRecord

    split = Split(train=["A", "B"], val=["C"], test=["D", "E"])
    return {
        "prepare": SplitRecord(dataset="d", dataset_sha256="0", split=split, config={}),
        "stage 1": [],
        "stage 2": [],
        "calibrate": Calibration(overlap_cutoff=0.1),
        "evaluate": EvaluationMetrics(n_structures=2, h0_mae_meV=1.0, soc_mae_meV=0.1, s_mae=0.0),
        "register": work / "models" / "m",
    }


def test_one_owner_of_the_step_order(tmp_path, monkeypatch):
    """run_training (the CLI's path) and TrainingMaker (the Flow) take the same steps in the
    same order from the same typed spec; a recalibration skips the two stages."""
    from contextlib import contextmanager

    from hts_z2.flows import training as flows
    from hts_z2.schemas.training import RecalibrationSpec, TrainingSpec

    results, calls, totals = fake_results(tmp_path), [], {}
    for name in flows.TRAINING_STEPS:
        monkeypatch.setitem(
            flows.STEP_FUNCTIONS,
            name,
            lambda spec, reporter, name=name: calls.append(name) or results[name],
        )

    class Watch(flows.SilentReporter):
        @contextmanager
        def step(self, name, total):
            totals[name] = total
            yield

    maker = TrainingMaker(model_name="m", arch={"channels": 4}, calibrate_by="labels")
    spec = maker.spec(str(tmp_path / "data"), str(tmp_path / "work"), str(tmp_path / "models"))
    result = flows.run_training(spec, Watch())
    assert (
        calls
        == list(flows.TRAINING_STEPS)
        == ["prepare", "stage 1", "stage 2", "calibrate", "evaluate", "register"]
    )
    assert totals["calibrate"] == 2 * 1 and totals["evaluate"] == 2 and totals["prepare"] is None
    assert isinstance(spec, TrainingSpec) and spec.arch.channels == 4
    assert result.path == str(tmp_path / "models" / "m")
    assert result.calibration.overlap_cutoff == 0.1

    flow = maker.make(spec.dataset, spec.work, spec.models_root)
    assert [j.name.split(": ")[1] for j in flow.jobs] == list(flows.TRAINING_STEPS)
    assert all(j.function_args[0] == spec for j in flow.jobs)
    for before, after in zip(flow.jobs, flow.jobs[1:], strict=False):
        assert after.function_args[2].uuid == before.uuid  # each job waits for the previous

    recal = RecalibrationSpec(model_dir="a", dataset="d", work=spec.work, models_root="m")
    calls.clear()
    flows.run_training(recal)
    assert calls == ["prepare", "calibrate", "evaluate", "register"]
    assert [j.name for j in flows.training_flow(recal, "r").jobs] == [f"r: {s}" for s in calls]
    with pytest.raises(ValueError, match="no step 'stage 1'"):
        flows.run_step(recal, "stage 1")
