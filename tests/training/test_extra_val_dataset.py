"""The shipped validation-only dataset (hts_z2/data/extra_val) loads, holds only compounds
that neither the embedded dataset nor the training-only extra dataset has, and widens the
shipped model's validation split (missing data fails, never skips)."""

from pathlib import Path

from hts_z2.model.checkpoint import load_checkpoint
from hts_z2.model.predictor import DEFAULT_MODEL, MODELS_DIR
from hts_z2.reference.dataset import embedded_dataset_path
from hts_z2.training.dataset import add_validation_only, embedded_split, group_of, load_dataset

DATA = Path(embedded_dataset_path()).parent
EXTRA_VAL = DATA / "extra_val"
N_SAMPLES = 16


def test_extra_val_holds_new_compounds_with_reference_labels():
    assert (EXTRA_VAL / "samples").is_dir(), f"test data missing: {EXTRA_VAL}"
    val = load_dataset(EXTRA_VAL)
    assert len(val.samples) == N_SAMPLES and not val.rejected
    known = {
        group_of(s.sample_id)
        for root in (embedded_dataset_path(), DATA / "extra")
        for s in load_dataset(root).samples
    }
    assert not {group_of(s.sample_id) for s in val.samples} & known
    labels = [s.meta["reference"]["z2"]["label"] for s in val.samples]
    assert all(isinstance(lab, str) and lab for lab in labels)


def test_extra_val_widens_the_default_models_validation_split():
    net, _ = load_checkpoint(MODELS_DIR / DEFAULT_MODEL)
    split, by_id = embedded_split(net.cfg.training)
    assert sorted(by_id) == sorted(i for part in split.values() for i in part)
    wide = add_validation_only(split, net.cfg.basis, net.cfg.valence, load_dataset(EXTRA_VAL))
    assert wide["train"] == split["train"] and wide["test"] == split["test"]
    assert len(wide["val"]) == len(split["val"]) + N_SAMPLES
