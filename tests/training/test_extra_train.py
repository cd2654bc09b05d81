"""Training-only data from further datasets (``--extra-train``): the held-out parts of the
main dataset's split do not move, and nothing held out leaks into training."""

import json

import pytest
from samples import link_dataset

from hts_z2.model.checkpoint import load_checkpoint
from hts_z2.training.dataset import add_training_only, load_dataset, split_ids
from hts_z2.training.run import (
    load_items,
    prepare,
    prepare_recalibration,
    read_split,
    register,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings

EXTRA = ("PbSe-Fm-3m", "PbSe-Fm-3m__strain+0.02", "Bi-R-3m")
ARCH = {"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4}


def small_split(main):
    return split_ids({s.sample_id: set(s.numbers.tolist()) for s in main.samples}, 1)


def test_extra_samples_join_training_and_leave_val_and_test_alone(tmp_path):
    main = load_dataset(link_dataset(tmp_path / "a"))
    extra = load_dataset(link_dataset(tmp_path / "b", EXTRA))
    split = small_split(main)
    merged, basis, valence = add_training_only(split, main, extra)
    assert merged["val"] == split["val"] and merged["test"] == split["test"]
    assert set(merged["train"]) == set(split["train"]) | {s.sample_id for s in extra.samples}
    assert basis[83] == extra.basis[83] and valence[83] == extra.valence[83]  # Bi is new
    assert basis[82] == main.basis[82] and valence[34] == extra.valence[34]


def test_held_out_compounds_and_repeated_samples_are_refused(tmp_path):
    names = ("PbTe-Fm-3m", "SnTe-Fm-3m", "PbSe-Fm-3m", "Pb-Fm-3m")
    main = load_dataset(link_dataset(tmp_path / "a", names))
    split = small_split(main)
    assert "PbTe-Fm-3m" in split["val"] + split["test"]  # held out with seed 1
    leaky = load_dataset(link_dataset(tmp_path / "b", ("PbTe-Fm-3m__strain-0.02",)))
    with pytest.raises(ValueError, match="held-out compounds \\['PbTe-Fm-3m'\\] would leak"):
        add_training_only(split, main, leaky)
    again = load_dataset(link_dataset(tmp_path / "c", ("SnTe-Fm-3m", "Bi-R-3m")))
    with pytest.raises(ValueError, match="already in the split"):
        add_training_only(split, main, again)


def test_prepare_trains_on_the_extra_data_and_records_it(tmp_path):
    main, extra = link_dataset(tmp_path / "a"), link_dataset(tmp_path / "b", EXTRA)
    plain = json.loads(prepare(main, tmp_path / "plain", ARCH, seed=1).read_text())
    work = tmp_path / "work"
    record = read_split(prepare(main, work, ARCH, seed=1, extra_train=[extra]).parent)
    assert record.split.test == plain["split"]["test"]
    assert record.split.val == plain["split"]["val"]
    assert record.extra_train[0].samples == len(EXTRA)
    extra_ids = {s.sample_id for s in load_dataset(extra).samples}
    assert len(extra_ids) == len(EXTRA) and all(i in record.labels for i in extra_ids)
    _, items, _ = load_items(work, ("train",))
    assert {it.sample_id for it in items["train"]} >= extra_ids
    fast = TrainSettings(max_epochs_stage1=1, batch_size=2, seed=1)
    run_stage(work, 1, fast)
    run_evaluation(work, z2=False)
    target = register(work, "extra", tmp_path / "models", fast)
    card = (target / "card.md").read_text()
    assert f"Training-only data: {len(EXTRA)} samples from 1 further dataset" in card
    n_train = len(record.split.train)
    trained = load_checkpoint(target)[0].cfg.training
    assert trained.n_train == n_train
    assert [e.model_dump() for e in trained.extra_train] == [
        {"dataset_sha256": record.extra_train[0].dataset_sha256, "samples": len(EXTRA)}
    ]
    assert f"seeded: train {n_train},\n" in card


def test_a_recalibrated_model_counts_its_training_only_samples(tmp_path):
    main, extra = link_dataset(tmp_path / "a"), link_dataset(tmp_path / "b", EXTRA)
    work = tmp_path / "work"
    record = read_split(prepare(main, work, ARCH, seed=1, extra_train=[extra]).parent)
    fast = TrainSettings(max_epochs_stage1=1, batch_size=2, seed=1)
    run_stage(work, 1, fast)
    run_evaluation(work, z2=False)
    source = register(work, "extra", tmp_path / "models", fast)
    recal = tmp_path / "recal"
    rebuilt = read_split(prepare_recalibration(source, main, recal).parent)
    assert rebuilt.extra_train[0].dataset is None  # known by digest alone
    n_train, n_main = len(record.split.train), len(rebuilt.split.train)
    assert n_train == n_main + len(EXTRA)
    run_evaluation(recal, z2=False)
    target = register(recal, "extra-recal", tmp_path / "models", fast)
    assert load_checkpoint(target)[0].cfg.training.n_train == n_train
    card = (target / "card.md").read_text()
    assert f"train {n_train} ({n_main} of this dataset + {len(EXTRA)} training-only)" in card
    assert "Training labels (this dataset's):" in card
