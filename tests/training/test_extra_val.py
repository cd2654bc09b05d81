"""Validation-only data from further datasets (``--extra-val``): it widens the validation
part, never touches the training or test parts, and refuses compounds or elements that
would make the validation meaningless."""

import json
from pathlib import Path

import pytest
from samples import link_dataset
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.model.checkpoint import load_checkpoint
from hts_z2.reference.dataset import embedded_dataset_path
from hts_z2.training.dataset import add_validation_only, group_of, load_dataset, split_ids
from hts_z2.training.run import (
    load_items,
    prepare,
    prepare_recalibration,
    read_split,
    register,
    run_calibration,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings

EXTRA_SAMPLES = Path(embedded_dataset_path()).parent / "extra" / "samples"
VAL_ONLY = ("Sn-Fd-3m",)  # alpha-Sn: a compound of the main data's elements, not in it
ARCH = {"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4}
FAST = TrainSettings(max_epochs_stage1=1, batch_size=2, seed=1)


def link_extra(tmp: Path) -> Path:
    """A dataset directory holding alpha-Sn from the training-only extra dataset."""
    return link_dataset(tmp, VAL_ONLY, EXTRA_SAMPLES)


def small_split(main):
    return split_ids({s.sample_id: set(s.numbers.tolist()) for s in main.samples}, 1)


def test_extra_samples_join_validation_only(tmp_path):
    main = load_dataset(link_dataset(tmp_path / "a"))
    extra = load_dataset(link_extra(tmp_path / "b"))
    split = small_split(main)
    merged = add_validation_only(split, main.basis, main.valence, extra)
    assert merged["train"] == split["train"] and merged["test"] == split["test"]
    assert merged["val"] == sorted(split["val"] + ["Sn-Fd-3m"])


def test_trained_or_tested_compounds_unseen_elements_and_repeats_are_refused(tmp_path):
    main = load_dataset(link_dataset(tmp_path / "a"))
    split = small_split(main)
    trained = sorted({group_of(i) for i in split["train"]})[0]
    variant = {"PbTe-Fm-3m": "PbTe-Fm-3m__strain-0.02", "Pb-Fm-3m": "Pb-Fm-3m__strain-0.02",
               "SnTe-Fm-3m": "SnTe-Fm-3m__strain-0.02"}[trained]  # fmt: skip
    leaky = load_dataset(link_dataset(tmp_path / "b", (variant,)))
    with pytest.raises(ValueError, match="are in the training or test part"):
        add_validation_only(split, main.basis, main.valence, leaky)
    unseen = load_dataset(link_dataset(tmp_path / "c", ("Bi-R-3m",)))
    with pytest.raises(ValueError, match=r"elements Z = \[83\] not trained on"):
        add_validation_only(split, main.basis, main.valence, unseen)
    repeated = next(i for i in split["train"] if "/" not in i)
    again = load_dataset(link_dataset(tmp_path / "d", (repeated,)))
    with pytest.raises(ValueError, match="already in the split"):
        add_validation_only(split, main.basis, main.valence, again)


def test_prepare_validates_on_the_extra_data_and_records_it(tmp_path):
    main, extra = link_dataset(tmp_path / "a"), link_extra(tmp_path / "b")
    plain = json.loads(prepare(main, tmp_path / "plain", ARCH, seed=1).read_text())
    work = tmp_path / "work"
    prepare(main, work, ARCH, seed=1, extra_val=[extra])
    record = read_split(work)
    assert record.split.train == plain["split"]["train"]
    assert record.split.test == plain["split"]["test"]
    assert record.split.val == sorted(plain["split"]["val"] + ["Sn-Fd-3m"])
    assert record.extra_val[0].samples == 1 and "Sn-Fd-3m" in record.labels
    assert record.extra_val[0].dataset == str(extra.resolve()) and record.seed == 1
    _, items, _ = load_items(work, ("val",))
    assert "Sn-Fd-3m" in {it.sample_id for it in items["val"]}
    run_stage(work, 1, FAST)
    cal = run_calibration(work, candidates=(1e-3, 1e-1), criterion="band")
    assert cal.split == "val" and cal.scores[0].n_total == len(record.split.val)
    run_evaluation(work, z2=False)
    target = register(work, "extra-val", tmp_path / "models", FAST)
    card = (target / "card.md").read_text()
    n_val = len(record.split.val)
    assert f"Validation-only data: 1 of the {n_val} validation samples" in card
    net, _ = load_checkpoint(target)
    assert net.cfg.training.n_val == n_val and net.cfg.training.extra_val[0].samples == 1


def test_recalibration_on_a_wider_validation_split(tmp_path):
    main, extra = link_dataset(tmp_path / "a"), link_extra(tmp_path / "b")
    work = tmp_path / "work"
    prepare(main, work, ARCH, seed=1)
    run_stage(work, 1, FAST)
    run_evaluation(work, z2=False)
    source = register(work, "tiny", tmp_path / "models", FAST)
    record = read_split(prepare_recalibration(source, main, tmp_path / "recal", [extra]).parent)
    assert "Sn-Fd-3m" in record.split.val
    assert record.split.test == load_checkpoint(source)[0].cfg.training.test_ids
    runner = CliRunner()
    base = ["recalibrate", str(source), "--dataset", str(main), "--models", str(source.parent),
            "--extra-val", str(extra)]  # fmt: skip
    out = runner.invoke(app, [*base, "--name", "x", "--cutoffs", "-0.1"])
    assert out.exit_code == 2 and "--cutoffs must lie in [0, 1)" in out.output
    out = runner.invoke(
        app, [*base, "--name", "wide", "--work", str(tmp_path / "w"), "--skip-z2",
              "--calibrate-by", "band", "--cutoffs", "0.1", "--cutoffs", "0.001"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "(incl. 1 validation-only)" in out.output
    net, _ = load_checkpoint(source.parent / "wide")
    scores = net.cfg.training.overlap_calibration.scores
    assert [s.cutoff for s in scores] == [0.001, 0.1]
    assert all(s.n_total == len(record.split.val) for s in scores)
