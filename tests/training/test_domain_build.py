"""The shipped model's domain reference: current, and rebuilt exactly from its data."""

from pathlib import Path

import numpy as np
import pytest

from hts_z2.model.domain import DOMAIN_FILE, read_reference
from hts_z2.model.predictor import DEFAULT_MODEL, load_model, models_dir
from hts_z2.training.domain import build_domain, training_samples

DATA = Path(__file__).resolve().parents[2] / "hts_z2" / "data"


def test_the_shipped_model_has_a_reference_of_its_own_weights():
    model = load_model()
    assert model.domain is not None, f"{DEFAULT_MODEL}/{DOMAIN_FILE} missing or stale"
    assert model.domain.weights_sha256 == model.sha256
    assert model.domain.elements == model.elements
    assert model.domain.channels == model.config.channels
    assert 0 < model.domain.threshold < np.inf


@pytest.mark.slow
def test_the_shipped_reference_is_rebuilt_from_the_training_data():
    model = load_model()
    training = model.config.training
    with pytest.raises(ValueError, match="--extra-train"):
        training_samples(training)
    with pytest.raises(ValueError, match="not a training dataset"):
        training_samples(training, None, [DATA / "extra_val"])
    samples = training_samples(training, None, [DATA / "extra"])
    assert len(samples) == training.n_train
    ref = build_domain(model, samples, model.domain.quantile)
    shipped = read_reference(models_dir() / DEFAULT_MODEL / DOMAIN_FILE)
    assert ref.threshold == pytest.approx(shipped.threshold, rel=1e-5)
    assert ref.summary["samples"] == shipped.summary["samples"] == training.n_train
    assert ref.summary["parents"] == shipped.summary["parents"]
    for z, f in shipped.features.items():
        np.testing.assert_allclose(ref.features[z], f, atol=1e-4)


def test_the_domain_command_refuses_data_that_is_not_the_models(tmp_path):
    from typer.testing import CliRunner

    from hts_z2.cli.app import app

    runner = CliRunner()
    out = runner.invoke(app, ["domain", DEFAULT_MODEL, "--quantile", "1.5"])
    assert out.exit_code == 2 and "--quantile" in out.output
    out = runner.invoke(app, ["domain", DEFAULT_MODEL, "--extra-train", str(DATA / "extra_val")])
    assert out.exit_code == 2 and "not a training dataset" in " ".join(out.output.split())
    out = runner.invoke(app, ["domain", str(tmp_path)])
    assert out.exit_code == 2 and "error" in out.output
