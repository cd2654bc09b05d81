"""Re-choosing a registered model's overlap cutoff without training (``hts-z2 recalibrate``)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from samples import SMALL, link_dataset
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.model.checkpoint import load_checkpoint, save_checkpoint
from hts_z2.model.domain import DomainReference, save_reference
from hts_z2.model.predictor import load_model
from hts_z2.training.run import (
    prepare,
    prepare_recalibration,
    read_split,
    register,
    run_calibration,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings

ARCH = {"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4}
FAST = TrainSettings(max_epochs_stage1=1, max_epochs_stage2=1, batch_size=2, seed=1)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A tiny trained model registered with the band criterion, and its dataset."""
    tmp = tmp_path_factory.mktemp("recal")
    dataset = link_dataset(tmp)
    work = tmp / "work"
    prepare(dataset, work, ARCH, seed=1)
    run_stage(work, 1, FAST)
    run_calibration(work, candidates=(1e-3, 1e-1), criterion="band")
    run_evaluation(work, z2=False)
    return register(work, "tiny", tmp / "models", FAST), dataset, tmp


def test_recalibration_keeps_the_weights_and_gives_the_new_cutoff_its_own_identity(registered):
    source, dataset, tmp = registered
    net0, sha0 = load_checkpoint(source)
    work = tmp / "work-recal"
    prepare_recalibration(source, dataset, work)
    record = read_split(work)
    assert record.recalibrated_from.sha256 == sha0
    assert record.recalibrated_from.settings == net0.cfg.training.settings
    assert record.split.test == net0.cfg.training.test_ids
    cal = run_calibration(work, candidates=(1e-3, 1e-1), criterion="labels")
    assert sorted(cal.labels) == sorted(record.split.val or record.split.train)
    for sid, got in cal.labels.items():
        assert got.reference == record.labels[sid]
        assert set(got.predicted) == {"0.001", "0.1"}
    agree = {c: sum(g.predicted[f"{c:g}"] == g.reference for g in cal.labels.values())
             for c in (1e-3, 1e-1)}  # fmt: skip
    assert agree == {s.cutoff: s.labels_agree for s in cal.scores}
    run_evaluation(work, z2=True)
    target = register(work, "tiny-recal", tmp / "models", FAST)
    net1, sha1 = load_checkpoint(target)
    assert net1.cfg.overlap_cutoff == cal.overlap_cutoff
    assert net1.cfg.training.recalibrated_from.sha256 == sha0
    for name, tensor in net0.state_dict().items():
        assert torch.equal(tensor, net1.state_dict()[name]), name
    assert (sha1 != sha0) == (net1.cfg.overlap_cutoff != net0.cfg.overlap_cutoff)
    card = (target / "card.md").read_text()
    assert "Weights: those of `tiny`" in card and sha0[:16] in card
    assert "| validation sample | reference label | predicted label |" in card


def test_recalibration_refuses_another_dataset_or_split(registered, tmp_path):
    source, _, _ = registered
    other = link_dataset(tmp_path, SMALL[:3])
    with pytest.raises(ValueError, match="is not the one the model was trained on"):
        prepare_recalibration(source, other, tmp_path / "w1")
    net, _ = load_checkpoint(source)
    edited = net.cfg.training.model_copy(update={"test_ids": ["no-such-sample"]})
    net.cfg = replace(net.cfg, training=edited)
    save_checkpoint(net, tmp_path / "edited")
    dataset = link_dataset(tmp_path / "d2")
    with pytest.raises(ValueError, match="differs from the model's test ids"):
        prepare_recalibration(tmp_path / "edited", dataset, tmp_path / "w2")


def test_recalibrate_command(registered, tmp_path):
    source, dataset, _ = registered
    runner = CliRunner()
    base = ["recalibrate", str(source), "--dataset", str(dataset), "--models", str(source.parent)]
    out = runner.invoke(app, [*base, "--name", "x", "--calibrate-by", "z2"])
    assert out.exit_code == 2 and "--calibrate-by must be one of" in out.output
    out = runner.invoke(app, [*base, "--name", "tiny", "--work", str(tmp_path / "w")])
    assert out.exit_code == 2 and "already holds another model" in " ".join(out.output.split())
    # the source's domain reference (environments do not depend on the cutoff)
    source_model = load_model(source)
    features = {z: np.full((2, 4), float(z), np.float32) for z in source_model.elements}
    save_reference(DomainReference(features, 1.5, 0.75, source_model.sha256), source)
    out = runner.invoke(
        app, [*base, "--name", "tiny-band", "--work", str(tmp_path / "w2"), "--skip-z2",
              "--calibrate-by", "band"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    recalibrated = load_model(source.parent / "tiny-band")
    assert recalibrated.sha256 != source_model.sha256
    assert recalibrated.domain is not None and recalibrated.domain.weights_sha256 == (
        recalibrated.sha256
    )
    assert "domain reference" in out.output
    assert "## Training domain" in (source.parent / "tiny-band" / "card.md").read_text()
    assert "model registered in" in out.output and "labels agree" not in out.output
    net, _ = load_checkpoint(source.parent / "tiny-band")
    assert net.cfg.training.overlap_calibration.criterion == "band"
