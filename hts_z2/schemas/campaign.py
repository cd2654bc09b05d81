"""Campaign documents: the per-material screening settings and the counts a campaign
reports (both cross job boundaries, so both are plain typed documents)."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScreeningSettings(BaseModel):
    """Per-material physics settings shared by all chunks of a campaign."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kspacing: float = Field(0.15, description="band-gap grid spacing (1/Å, 2π included)")
    z2_method: str = Field("fhs", description="Z2 method: fhs or wilson")
    z2_max_gap: float | None = Field(
        None, description="compute Z2 only for gaps up to this (eV; the paper uses 0.3); "
        "None: for every insulator")
    z2_n_max: int = Field(64, description="largest plane grid of the Z2 refinement")
    batch_size: int = Field(8, description="structures per model batch")
    device: str = Field("cpu", description="torch device of inference: cpu, cuda[:N], auto")
    model_form: str = Field(
        "sparse", description="form of the predicted Hamiltonian between the network and "
        "the gap and Z2: sparse (the predicted atom-pair blocks, a few MiB per structure) "
        "or dense (the H(R), S(R) lists, ~100 MiB); both give the same bands")
    bands_device: str | None = Field(
        None, description="torch device (cpu, cuda[:N]) for the Bloch sums and eigensolves "
        "of gap and Z2; None: numpy on the CPU (measured faster on CPUs; measure a GPU with "
        "benchmarks/bench_throughput.py --bands-device cuda first)")
    workers: int | None = Field(
        None, description="structures whose gap and Z2 are computed at once, each on one "
        "BLAS thread (default: the CPUs this process may use)")
    store_structure: bool = Field(True, description="keep the structure in each result")
    hamiltonian_dir: str | None = Field(
        None, description="also write each predicted Hamiltonian (DeepH layout) below this")
    recompute: bool = Field(
        False, description="screen materials this model already has results for again and "
        "replace them (otherwise a stored result is kept, never replaced by a worse one)")

    @model_validator(mode="after")
    def _check(self) -> ScreeningSettings:
        if not (self.kspacing > 0 and math.isfinite(self.kspacing)):
            raise ValueError(f"kspacing must be a positive number (1/Å), got {self.kspacing}")
        if self.z2_max_gap is not None and math.isnan(self.z2_max_gap):
            raise ValueError("z2_max_gap must be a number (eV) or None")
        if self.bands_device is not None and not re.fullmatch(
            r"cpu|auto|cuda(:\d+)?", self.bands_device
        ):
            raise ValueError(f"bands_device must be cpu, cuda, cuda:<index> or auto, got "
                             f"{self.bands_device!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.batch_size < 1 or self.z2_n_max < 2:
            raise ValueError(f"batch_size must be >= 1 and z2_n_max >= 2, got "
                             f"{self.batch_size} and {self.z2_n_max}")
        if self.model_form not in ("sparse", "dense"):
            raise ValueError(f"model_form must be sparse or dense, got {self.model_form!r}")
        if self.z2_method not in ("fhs", "wilson"):
            raise ValueError(f"z2_method must be fhs or wilson, got {self.z2_method!r}")
        return self


class CampaignCounts(BaseModel):
    """Materials by outcome of a campaign or one of its steps; ``read = done + skipped +
    failed``."""

    read: int = Field(0, description="materials read from the source")
    done: int = Field(0, description="materials with a result (including those already stored)")
    skipped: int = Field(0, description="materials that are not candidates")
    failed: int = Field(0, description="materials that could not be read or computed")
    existing: int = Field(0, description="done results found in the store (not screened again)")
    kept: int = Field(0, description="materials this run rejected or could not read whose "
                      "earlier, better result stays stored")
    backfilled: int = Field(0, description="stored results given a domain distance")
    seconds: dict[str, float] = Field(default_factory=dict, description="seconds by stage")
    confirmation: dict[str, float] = Field(
        default_factory=dict, description="first-principles confirmations by outcome "
        "(cached, computed, failed, over_budget, selected, ...)")

    def add(self, other: CampaignCounts) -> CampaignCounts:
        """Sum of two counts (stage seconds and confirmation outcomes added)."""
        seconds = dict(self.seconds)
        for stage, s in other.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
        confirmation = dict(self.confirmation)
        for what, n in other.confirmation.items():
            confirmation[what] = confirmation.get(what, 0) + n
        counted = {k: getattr(self, k) + getattr(other, k)
                   for k in ("read", "done", "skipped", "failed", "existing", "kept",
                             "backfilled")}
        return CampaignCounts(**counted, seconds=seconds, confirmation=confirmation)
