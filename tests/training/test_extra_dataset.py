"""The shipped training-only dataset (hts_z2/data/extra) loads and adds only new parent
compounds to the embedded dataset's training split (missing data fails, never skips)."""

from pathlib import Path

from hts_z2.reference.dataset import embedded_dataset_path
from hts_z2.training.dataset import add_training_only, group_of, load_dataset, split_ids

EXTRA = Path(embedded_dataset_path()).parent / "extra"


def test_extra_dataset_adds_new_parents_to_training_only():
    assert (EXTRA / "samples").is_dir(), f"test data missing: {EXTRA}"
    main, extra = load_dataset(embedded_dataset_path()), load_dataset(EXTRA)
    assert len(extra.samples) == 43 and not extra.rejected
    split = split_ids({s.sample_id: set(s.numbers.tolist()) for s in main.samples}, 0)
    merged, basis, valence = add_training_only(split, main, extra)
    assert merged["test"] == split["test"] and merged["val"] == split["val"]
    assert not {group_of(s.sample_id) for s in extra.samples} & {
        group_of(s.sample_id) for s in main.samples
    }
    assert set(basis) == set(main.basis) and valence == main.valence  # no new elements
