"""Reference-data generation as a jobflow Flow: one job per structure (cluster-parallel)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Literal

from jobflow import Flow, Maker, job
from pydantic import BaseModel

from hts_z2.reference.convert import PruneSettings
from hts_z2.reference.gpaw_scf import GpawSettings
from hts_z2.reference.pipeline import ReferenceSettings


class ReferenceOutput(BaseModel):
    """What a reference job did for one structure."""

    sample_id: str
    status: Literal["done", "existing", "failed"]
    path: str | None = None
    reason: str | None = None
    seconds: float = 0.0


def settings_from_dict(d: dict) -> ReferenceSettings:
    """Inverse of ``dataclasses.asdict`` for :class:`ReferenceSettings`."""
    gpaw = dict(d.get("gpaw", {}))
    if gpaw.get("kpts") is not None:
        gpaw["kpts"] = tuple(gpaw["kpts"])
    return ReferenceSettings(
        gpaw=GpawSettings(**gpaw),
        prune=PruneSettings(**d.get("prune", {})),
        max_atoms=d.get("max_atoms", 12),
        labels=d.get("labels", True),
    )


@job
def reference_job(structure, sample_id: str, out_dir: str, settings: dict) -> ReferenceOutput:
    """Compute (or find) the sample of one structure in the dataset ``out_dir``."""
    from hts_z2.reference.dataset import generate, sample_path
    from hts_z2.reference.pipeline import gpaw_reference

    cfg = settings_from_dict(settings)
    t0 = time.perf_counter()
    report = generate(
        [(sample_id, structure)], out_dir, lambda s, i: gpaw_reference(s, i, cfg), retry_failed=True
    )
    seconds = time.perf_counter() - t0
    if report.failed:
        return ReferenceOutput(
            sample_id=sample_id, status="failed", reason=report.failed[sample_id], seconds=seconds
        )
    status = "done" if report.done else "existing"
    return ReferenceOutput(
        sample_id=sample_id,
        status=status,
        path=str(sample_path(out_dir, sample_id)),
        seconds=seconds,
    )


@dataclass
class ReferenceMaker(Maker):
    """Flow of independent reference jobs, one per (id, structure).

    Attributes
    ----------
    settings : the DFT, pruning and size settings shared by all jobs.
    """

    name: str = "hts-z2 reference dataset"
    settings: ReferenceSettings = field(default_factory=ReferenceSettings)

    def make(self, entries: list[tuple[str, object]], out_dir: str) -> Flow:
        cfg = asdict(self.settings)
        jobs = []
        for sample_id, structure in entries:
            j = reference_job(structure, sample_id, str(out_dir), cfg)
            j.name = f"reference {sample_id}"
            jobs.append(j)
        return Flow(jobs, output=[j.output for j in jobs], name=self.name)
