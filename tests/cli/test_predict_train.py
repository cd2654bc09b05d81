import json
import sys
from pathlib import Path

import pytest
from screening_double import NearMetalToyModel
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from samples import link_dataset

from hts_z2.cli.app import app

runner = CliRunner()


@pytest.mark.slow
def test_train_then_predict_from_the_command_line(tmp_path, monkeypatch):
    dataset = link_dataset(tmp_path)
    # PbTe made from PbSe (another parent) gives the domain reference a finite distance
    extra = link_dataset(tmp_path / "extra", ("Bi-R-3m", "PbSe-Fm-3m__sub-Se_Te"))
    models = tmp_path / "models"
    args = [
        "train",
        str(dataset),
        "--extra-train",
        str(extra),
        "--name",
        "cli-model",
        "--models",
        str(models),
        "--work",
        str(tmp_path / "work"),
        "--epochs1",
        "2",
        "--epochs2",
        "1",
        "--channels",
        "4",
        "--layers",
        "1",
        "--r-cut",
        "7.0",
        "--band-lambda",
        "0.05",
        "--device",
        "cpu",
        "--skip-z2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "model registered" in result.output and "(incl. 2 training-only)" in result.output
    assert (models / "cli-model" / "model.safetensors").is_file()
    assert (models / "cli-model" / "domain.npz").is_file()
    assert "domain reference:" in result.output and "threshold" in result.output
    config = json.loads((models / "cli-model" / "config.json").read_text())
    assert config["training"]["settings"]["band_lambda"] == 0.05
    assert config["training"]["settings"]["device"] == "cpu"
    # resuming a finished run re-evaluates and re-registers without training again
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    # a new run never replaces a registered model unless asked to
    fresh = [*args[:-1], "--work", str(tmp_path / "work2"), "--skip-z2"]
    refused = runner.invoke(app, fresh)
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert not (tmp_path / "work2").exists()
    monkeypatch.setenv("HTS_Z2_MODELS", str(models))
    out = runner.invoke(app, ["predict", "PbTe-Fm-3m", "--model", "cli-model", "--json"])
    # an untrained model may predict an overlap too indefinite for its cutoff: then
    # exit 1 with the reason
    if out.exit_code == 0:
        doc = json.loads(out.output)
        assert doc["model"]["name"] == "cli-model" and "gap" in doc
        assert doc["domain"]["distance"] >= 0 and doc["domain"]["threshold"] > 0
        assert set(doc["domain"]["by_element"]) == {"Pb", "Te"}
    else:
        assert out.exit_code == 1 and "undefined" in out.output and "overlap S(k)" in out.output


def test_predict_rejects_unknown_structures_and_models(tmp_path, monkeypatch):
    monkeypatch.setenv("HTS_Z2_MODELS", str(tmp_path))
    out = runner.invoke(app, ["predict", "no-such-thing"])
    assert out.exit_code != 0
    out = runner.invoke(app, ["predict", "PbTe-Fm-3m", "--model", "missing"])
    assert out.exit_code == 2 and "no model" in out.output


def test_train_on_an_unusable_device_is_a_clear_error(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    work = tmp_path / "work"
    args = ["train", "--device", "cuda", "--work", str(work), "--models", str(tmp_path)]
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "no usable CUDA device" in out.output
    assert not work.exists()


def test_predict_names_the_occupied_band_topology_of_a_near_metal(monkeypatch):
    """A prediction whose bands overlap by 0.12 eV (band error 0.5 eV): label metal, a
    caution, and the Z2 of the occupied bands."""
    import hts_z2.model

    monkeypatch.setattr(hts_z2.model, "load_model", lambda name=None: NearMetalToyModel())
    out = runner.invoke(app, ["predict", "Bi2Se3-R-3m", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["label"] == "metal" and doc["gap"]["indirect"] == pytest.approx(-0.12)
    assert doc["z2"] is None and doc["z2_manifold"]["label"] == "STI (1;000)"
    [caution] = doc["cautions"]
    assert caution["code"] == "overlap_below_band_error" and caution["threshold"] == 0.5
    assert "bands overlap by 0.120" in caution["text"]
    assert doc["domain"] is None and doc["status"] == "done" and doc["source"] == "demo"
    out = runner.invoke(app, ["predict", "Bi2Se3-R-3m"], env={"COLUMNS": "200"})
    assert "Z2 of the occupied bands (the lowest n_occ): STI (1;000)" in out.output


def test_predict_reports_the_shipped_models_training_domain(tmp_path):
    """PbS lies beyond hts-z2-soc-v5.1's threshold 2.39 through its S environments; the
    band plot (with the reference bands) is written as well."""
    png = tmp_path / "pbs.png"
    out = runner.invoke(app, ["predict", "PbS-Fm-3m", "--bands", str(png), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert png.is_file() and png.stat().st_size > 10_000
    domain = doc["domain"]
    assert domain["distance"] == pytest.approx(2.50, abs=0.02) and not domain["in_domain"]
    assert domain["threshold"] == pytest.approx(2.39, abs=0.01)
    assert domain["by_element"]["S"] > domain["threshold"] > domain["by_element"]["Pb"]
    [far] = [c for c in doc["cautions"] if c["code"] == "outside_domain"]
    assert "far from the training data (domain distance 2.50 > 2.39)" in far["text"]
    out = runner.invoke(app, ["predict", "PbS-Fm-3m"], env={"COLUMNS": "200"})
    assert "outside the training domain" in out.output and "caution:" in out.output


def test_predict_on_a_conventional_cell_predicts_its_primitive_cell(tmp_path):
    from pymatgen.io.cif import CifWriter
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from hts_z2.structures.embedded import get_embedded

    conventional = SpacegroupAnalyzer(
        get_embedded("Bi2Se3-R-3m").structure).get_conventional_standard_structure()
    path = tmp_path / "Bi2Se3_conventional.cif"
    path.write_text(str(CifWriter(conventional)))
    conv = runner.invoke(app, ["predict", str(path), "--json"])
    prim = runner.invoke(app, ["predict", "Bi2Se3-R-3m", "--json"])
    assert conv.exit_code == 0 and prim.exit_code == 0, conv.output
    assert "primitive cell of the given 15-site cell" in conv.stderr
    a, b = json.loads(conv.stdout), json.loads(prim.stdout)
    assert a["label"] == b["label"] and a["gap"]["indirect"] == pytest.approx(
        b["gap"]["indirect"], abs=0.02)
