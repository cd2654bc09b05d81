"""The result document: one per (material_id, model sha256) in collection ``z2_results``."""

from __future__ import annotations

import math
import platform
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hts_z2.schemas.dft import Confirmation

COLLECTION = "z2_results"
KEY_FIELDS = ("material_id", "model.sha256")
Status = Literal["done", "skipped", "failed"]
METAL_LABEL = "metal"


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class ModelRef(BaseModel):
    """The Hamiltonian model that produced a result."""

    name: str
    sha256: str


class GapDoc(BaseModel):
    """Band gap over the computed k-points (eV)."""

    indirect: float
    direct: float
    is_metal: bool
    n_k: int | None = None
    k_vbm: list[float] | None = None
    k_cbm: list[float] | None = None


class Z2Doc(BaseModel):
    """Z2 indices; planes ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2).

    ``lattice`` is the cell whose reciprocal basis the weak indices refer to.
    """

    planes: list[int] | None = None
    nu0: int | None = None
    nu: list[int] | None = None
    label: str
    min_plane_gap: float | None = None
    converged: bool = False
    method: str = "fhs"
    grid: list[int] | None = None
    reason: str | None = None
    lattice: list[list[float]] | None = None

    @field_validator("min_plane_gap", mode="before")
    @classmethod
    def _finite_gap(cls, value: float | None) -> float | None:
        return _finite(value)


class ResultDoc(BaseModel):
    """One screening result (see DESIGN.md, "Storage").

    ``label`` repeats ``z2.label`` for insulators, is ``"metal"`` for metals (no Z2) and None
    for skipped and failed materials, so that one indexed field answers label queries.
    ``caution`` says why a defined label may still not hold (e.g. a gap smaller than the
    model's validated band error, or bands of a metal overlapping by less than it).
    ``z2_manifold`` holds, for such a near-insulating metal whose direct gap stays open,
    the indices of its lowest ``n_occ`` bands: what the label would be if the overlap
    closed (a band inversion a screening should not hide).
    ``domain_distance`` is how far the structure's atomic environments lie from those
    the model was trained on (:mod:`hts_z2.model.domain`; None when the model ships no
    reference), ``domain_by_element`` the same per element (its farthest atom; null for
    an element without training environments), ``in_domain`` whether the distance is
    within the model's threshold; beyond it the ``caution`` says so.
    ``confirmation`` is the first-principles check of the result (plane-wave label of
    record, :mod:`hts_z2.flows.confirmation`): ``confirmed`` / ``rejected`` for a model TI,
    ``agrees`` / ``disagrees`` otherwise, ``undetermined`` without a usable label; it is
    written after the model's result and never replaces it.
    """

    model_config = ConfigDict(protected_namespaces=())

    material_id: str
    source: str
    source_ids: dict[str, str] = Field(default_factory=dict)
    formula: str | None = None
    elements: list[str] = Field(default_factory=list)
    nelements: int | None = None
    nsites: int | None = None
    spacegroup: int | None = None
    structure: dict[str, Any] | None = None
    campaign: str | None = None
    model: ModelRef
    status: Status
    reason: str | None = None
    label: str | None = None
    caution: str | None = None
    gap: GapDoc | None = None
    z2: Z2Doc | None = None
    z2_manifold: Z2Doc | None = None
    domain_distance: float | None = None
    domain_by_element: dict[str, float | None] | None = None
    in_domain: bool | None = None
    confirmation: Confirmation | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    last_updated: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @field_validator("domain_distance", mode="before")
    @classmethod
    def _finite_distance(cls, value: float | None) -> float | None:
        return _finite(value)

    def key(self) -> dict[str, str]:
        """The unique key as a MongoDB filter."""
        return {"material_id": self.material_id, "model.sha256": self.model.sha256}

    def to_mongo(self) -> dict[str, Any]:
        """A BSON-ready dict (datetimes stay datetimes)."""
        return self.model_dump(mode="python")


def versions() -> dict[str, str]:
    """Versions of the code that produced a result."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("hts-z2", "numpy", "scipy", "pymatgen", "torch"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    return out


def json_schema() -> dict[str, Any]:
    """JSON schema of :class:`ResultDoc` (written to ``database/z2_results.schema.json``)."""
    schema = ResultDoc.model_json_schema()
    schema["$id"] = "https://hts-z2/database/z2_results.schema.json"
    schema["description"] = (ResultDoc.__doc__ or "").strip().splitlines()[0]
    return schema
