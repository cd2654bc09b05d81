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
    assert model.config.training["n_train"] >= 1
    # solved in sz + polarization: Pb s p d + d-polarization, Te s p + d-polarization
    assert model.config.solve_shells[82] == (0, 1, 2, 6)
    (tb,) = model.predict([get_embedded("PbTe-Fm-3m").structure])
    assert tb.n_bands == 2 * (14 + 9)
    assert "solved in a sub-basis" in (Path(path) / "card.md").read_text()
