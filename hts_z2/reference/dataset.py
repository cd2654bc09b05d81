"""A training dataset: a directory of sample files plus a log of recorded failures.

Layout::

    DIR/samples/<sample id with '/' -> '__'>.h5     one ReferenceSample each (atomic writes)
    DIR/failures.jsonl                               {"sample_id", "reason", "time"} per line

Generation is resumable: a sample whose file loads is skipped, a recorded failure is not
retried unless asked, and nothing is ever written half-done.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hts_z2.reference.sample import (
    ReferenceSample,
    SampleError,
    load_sample,
    load_sample_summary,
    sample_file_ok,
)


def embedded_dataset_path() -> Path:
    """The training dataset shipped with the package (``hts_z2/data/dataset``)."""
    return Path(str(resources.files("hts_z2") / "data" / "dataset"))


def sample_filename(sample_id: str) -> str:
    """File name of a sample id ('/' -> '__', other unsafe characters -> '_')."""
    return re.sub(r"[^A-Za-z0-9_.+\-]", "_", sample_id.replace("/", "__")) + ".h5"


def sample_path(root: str | Path, sample_id: str) -> Path:
    return Path(root) / "samples" / sample_filename(sample_id)


def iter_sample_paths(root: str | Path) -> Iterator[Path]:
    """Sample files of a dataset, sorted by name."""
    yield from sorted((Path(root) / "samples").glob("*.h5"))


def read_failures(root: str | Path) -> dict[str, str]:
    """Recorded failures: sample id -> reason (the latest record wins)."""
    path = Path(root) / "failures.jsonl"
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["sample_id"]] = rec["reason"]
    return out


def record_failure(root: str | Path, sample_id: str, reason: str) -> None:
    path = Path(root) / "failures.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps({"sample_id": sample_id, "reason": reason, "time": time.time()}))
        f.write("\n")


@dataclass
class GenerationReport:
    """What one :func:`generate` call did."""

    done: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def generate(
    entries: Iterable[tuple[str, object]],
    root: str | Path,
    make: Callable[[object, str], ReferenceSample],
    retry_failed: bool = False,
    on_progress: Callable[[str, str], None] | None = None,
) -> GenerationReport:
    """Compute and save the samples that are not there yet.

    Parameters
    ----------
    entries : (sample id, structure) pairs.
    make : ``make(structure, sample_id) -> ReferenceSample`` (e.g. ``gpaw_reference``);
        any exception it raises is recorded as a failure with its message.
    on_progress : called with (sample id, "done" | "existing" | "failed").
    """
    report = GenerationReport()
    failures = read_failures(root)
    for sample_id, structure in entries:
        path = sample_path(root, sample_id)
        status = "existing"
        if sample_file_ok(path):
            report.existing.append(sample_id)
        elif sample_id in failures and not retry_failed:
            report.failed[sample_id] = failures[sample_id]
            status = "failed"
        else:
            try:
                make(structure, sample_id).save(path)
                report.done.append(sample_id)
                status = "done"
            except Exception as err:  # recorded, never lost: the reason is the message
                reason = f"{type(err).__name__}: {err}"
                record_failure(root, sample_id, reason)
                report.failed[sample_id] = reason
                status = "failed"
        if on_progress is not None:
            on_progress(sample_id, status)
    return report


@dataclass(frozen=True)
class Recoded:
    """One sample rewritten by :func:`recode`: sizes before and after (bytes), format."""

    sample_id: str
    bytes_before: int
    bytes_after: int
    format_version: int


def recode(root: str | Path, on_progress: Callable[[Recoded], None] | None = None) -> list[Recoded]:
    """Rewrite every sample of a dataset in the current format (format 3 stores S and SOC
    as residuals of their prediction from the basis; see ``reference/blockcoding.py``).

    Each sample keeps its identity (``meta["sha256"]``, which datasets and models refer
    to). Each file is rewritten atomically and only after its new content was read back and
    found equal to the old (the sha256 of the decoded arrays, edges in the order format 2
    and later store them: a format-1 file's edges are reordered); a sample that the tables
    cannot describe stays in format 2.

    Raises
    ------
    SampleError for an unreadable sample or one whose recoded file does not read back equal
    (the original file is left in place).
    """
    import tempfile

    out = []
    for path in iter_sample_paths(root):
        before = path.stat().st_size
        sample = load_sample(path)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            new = sample.save(Path(tmp) / path.name, keep_identity=True)
            again = load_sample(new)
            if again.arrays_sha256() != sample.symmetric().arrays_sha256():
                raise SampleError(f"{path}: the recoded blocks do not read back equal")
            new.replace(path)
        rec = Recoded(sample.sample_id, before, path.stat().st_size, again.meta["format_version"])
        out.append(rec)
        if on_progress is not None:
            on_progress(rec)
    return out


@dataclass(frozen=True)
class DatasetStats:
    """Summary of a dataset directory."""

    path: str
    n_samples: int
    n_failed: int
    elements: dict[str, int]
    atoms: tuple[int, int, float]
    orbitals: tuple[int, int, float]
    edges_total: int
    bytes_on_disk: int
    seconds_per_sample: tuple[float, float] | None
    labels: dict[str, int]
    max_pruning_error_eV: float


def dataset_stats(root: str | Path | None = None) -> DatasetStats:
    """Count samples, elements, sizes, time per sample and reference labels.

    ``root=None`` means the embedded training dataset.
    """
    root = Path(root) if root is not None else embedded_dataset_path()
    if not (root / "samples").is_dir():
        raise FileNotFoundError(f"{root} is not a dataset directory (no samples/ inside)")
    elements: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    atoms, orbitals, seconds, prune_err = [], [], [], []
    edges = size = 0
    from pymatgen.core.periodic_table import Element

    for path in iter_sample_paths(root):
        s = load_sample_summary(path)
        size += path.stat().st_size
        atoms.append(len(s.numbers))
        orbitals.append(int(s.n_orbitals_per_atom.sum()))
        edges += s.n_edges
        elements.update({Element.from_Z(int(z)).symbol for z in set(s.numbers.tolist())})
        t = s.meta.get("timings", {})
        if t:
            seconds.append(sum(t.values()))
        labels[s.meta.get("reference", {}).get("z2", {}).get("label", "unlabelled")] += 1
        prune_err.append(s.meta.get("pruning", {}).get("max_band_error_eV", 0.0))

    def summary(x: list[int]) -> tuple[int, int, float]:
        return (min(x), max(x), float(statistics.mean(x))) if x else (0, 0, 0.0)

    return DatasetStats(
        path=str(root),
        n_samples=len(atoms),
        n_failed=len(read_failures(root)),
        elements=dict(sorted(elements.items())),
        atoms=summary(atoms),
        orbitals=summary(orbitals),
        edges_total=edges,
        bytes_on_disk=size,
        seconds_per_sample=(statistics.mean(seconds), statistics.median(seconds))
        if seconds
        else None,
        labels=dict(labels),
        max_pruning_error_eV=max(prune_err, default=0.0),
    )
