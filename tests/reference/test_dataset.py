import pytest
from toy_model import toy_sample

from hts_z2.reference.dataset import (
    dataset_stats,
    generate,
    read_failures,
    sample_filename,
    sample_path,
)


@pytest.fixture
def maker():
    calls = []

    def make(structure, sample_id):
        calls.append(sample_id)
        if structure == "bad":
            raise RuntimeError("SCF did not converge in 300 iterations")
        return toy_sample(sample_id, meta={"timings": {"scf_s": 2.0, "extract_s": 1.0}})

    make.calls = calls
    return make


def test_generate_is_resumable_and_records_failures(tmp_path, maker):
    entries = [("A/1", "ok"), ("A/2", "bad"), ("B/1", "ok")]
    report = generate(entries, tmp_path, maker)
    assert report.done == ["A/1", "B/1"]
    assert "SCF did not converge" in report.failed["A/2"]
    assert read_failures(tmp_path) == {"A/2": report.failed["A/2"]}
    again = generate(entries, tmp_path, maker)
    assert again.existing == ["A/1", "B/1"] and again.done == []
    assert maker.calls.count("A/1") == 1 and maker.calls.count("A/2") == 1
    generate(entries, tmp_path, maker, retry_failed=True)
    assert maker.calls.count("A/2") == 2
    assert len(read_failures(tmp_path)) == 1


def test_corrupt_sample_is_recomputed(tmp_path, maker):
    generate([("A/1", "ok")], tmp_path, maker)
    sample_path(tmp_path, "A/1").write_bytes(b"truncated")
    report = generate([("A/1", "ok")], tmp_path, maker)
    assert report.done == ["A/1"]


def test_stats(tmp_path, maker):
    generate([("A/1", "ok"), ("A/2", "bad"), ("B/1", "ok")], tmp_path, maker)
    stats = dataset_stats(tmp_path)
    assert stats.n_samples == 2 and stats.n_failed == 1
    assert stats.elements == {"Bi": 2, "Se": 2}
    assert stats.atoms == (2, 2, 2.0)
    assert stats.seconds_per_sample == (3.0, 3.0)
    assert stats.bytes_on_disk > 0
    with pytest.raises(FileNotFoundError, match="not a dataset"):
        dataset_stats(tmp_path / "nothing")


def test_filenames():
    assert sample_filename("Bi2Se3-R-3m/strain+0.02") == "Bi2Se3-R-3m__strain+0.02.h5"
    assert "/" not in sample_filename("a/b c:d")
