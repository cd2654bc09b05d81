"""Real reference samples used by the training tests (missing files fail the tests)."""

from __future__ import annotations

from pathlib import Path

from hts_z2.reference.dataset import embedded_dataset_path
from hts_z2.reference.sample import load_sample

SAMPLES = embedded_dataset_path() / "samples"
SMALL = ("PbTe-Fm-3m", "Pb-Fm-3m", "SnTe-Fm-3m", "PbTe-Fm-3m__strain+0.02")


def sample(name: str):
    path = SAMPLES / f"{name}.h5"
    assert path.is_file(), f"test data missing: {path}"
    return load_sample(path)


def link_dataset(tmp: Path, names=SMALL, source: Path = SAMPLES) -> Path:
    """A dataset directory of symlinks to the named samples of ``source`` (default: the
    embedded dataset's)."""
    root = tmp / "dataset"
    (root / "samples").mkdir(parents=True)
    for n in names:
        src = source / f"{n}.h5"
        assert src.is_file(), f"test data missing: {src}"
        (root / "samples" / src.name).symlink_to(src)
    return root
