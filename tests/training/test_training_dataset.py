from types import SimpleNamespace

import numpy as np
import pytest
from samples import SMALL, link_dataset

from hts_z2.training.dataset import group_of, load_dataset, solve_valence, split_ids


def fake(sid, numbers, n_el):
    return SimpleNamespace(sample_id=sid, numbers=np.array(numbers), n_electrons=n_el)


def test_solve_valence_peels_elements_from_samples_with_one_unknown():
    samples = [
        fake("Bi", [83, 83], 30),
        fake("Bi2Se3", [83, 83, 34, 34, 34], 48),
        fake("SnSe", [50, 34], 20),
    ]
    assert solve_valence(samples) == {83: 15, 34: 6, 50: 14}


def test_solve_valence_rejects_undetermined_elements():
    with pytest.raises(ValueError, match="cannot be determined"):
        solve_valence([fake("AB", [1, 2], 3)], setup_valence=lambda z: None)


def test_without_gpaw_the_error_says_how_to_get_the_valences(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gpaw", None)  # a demo install: no GPAW
    with pytest.raises(ValueError, match=r"pip install 'hts-z2\[dft\]'"):
        solve_valence([fake("TaAs", [73, 33], 18)],
                      setup_valence=lambda z: None)


def test_gpaw_setups_pin_elements_and_non_additive_counts_are_refused():
    # GPAW's setups pin elements that only occur together (Ta 13, As 5)
    assert solve_valence([fake("TaAs", [73, 33], 18)]) == {73: 13, 33: 5}
    with pytest.raises(ValueError, match="not additive"):
        solve_valence([fake("A", [1], 1), fake("A2", [1, 1], 3)])


def test_split_keeps_variants_together_and_held_out_elements_covered():
    elements = {
        "A": {1},
        "A__strain": {1},
        "AB": {1, 2},
        "AB__rattle-0": {1, 2},
        "B": {2},
        "C": {3},
        "AC": {1, 3},
    }
    split = split_ids(elements, seed=3, val_fraction=0.2, test_fraction=0.2)
    assert sorted(i for part in split.values() for i in part) == sorted(elements)
    for part in ("val", "test"):
        for sid in split[part]:
            assert all(group_of(o) != group_of(sid) for o in split["train"])
            covered = set().union(*(elements[t] for t in split["train"]))
            assert elements[sid] <= covered
    assert split == split_ids(elements, seed=3, val_fraction=0.2, test_fraction=0.2)


def test_load_dataset_reads_real_samples_and_rejects_broken_files(tmp_path):
    root = link_dataset(tmp_path)
    (root / "samples" / "broken.h5").write_bytes(b"not hdf5")
    data = load_dataset(root)
    assert len(data.samples) == len(SMALL)
    assert "PbTe-Fm-3m" in {s.sample_id for s in data.samples}
    assert "broken" in data.rejected
    assert data.valence[82] == 14 and data.valence[52] == 6
    assert len(data.sha256) == 64
