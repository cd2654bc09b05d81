"""The screening result document: one per (material_id, model sha256) in ``z2_results``.

Built from its parts by the screening flow and by ``hts-z2 predict`` (the same
document), stored by :mod:`hts_z2.store`, read back by ``query`` / ``screen`` /
``validate`` with :meth:`ResultDoc.from_stored` (which also reads documents written by
earlier versions: a prose ``caution`` and top-level ``domain_*`` fields).
"""

from __future__ import annotations

import math
import platform
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hts_z2.schemas.caution import Caution, from_text
from hts_z2.schemas.dft import Confirmation
from hts_z2.schemas.labels import Label

COLLECTION = "z2_results"
KEY_FIELDS = ("material_id", "model.sha256")
Status = Literal["done", "skipped", "failed"]
METAL_LABEL = "metal"
SCHEMA_VERSION = 2
"""Layout version of result documents: 1 had a prose ``caution`` and top-level
``domain_distance`` / ``domain_by_element`` / ``in_domain``; 2 has typed ``cautions`` and a
``domain`` part. Documents of version 1 are read as version 2."""


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class ModelRef(BaseModel):
    """The Hamiltonian model that produced a result."""

    name: str = Field(description="model name (its directory under models/)")
    sha256: str = Field(description="sha256 of the model's weights file")


class GapDoc(BaseModel):
    """Band gap over the computed k-points (eV)."""

    indirect: float = Field(description="CBM - VBM over all computed k (eV; < 0: overlap)")
    direct: float = Field(description="smallest CB - VB at one k (eV)")
    is_metal: bool = Field(description="no positive gap at the computed k-points")
    n_k: int | None = Field(None, description="k-points searched (grid, path, Z2 planes)")
    k_vbm: list[float] | None = Field(None, description="reduced k of the valence maximum")
    k_cbm: list[float] | None = Field(None, description="reduced k of the conduction minimum")


class Z2Doc(BaseModel):
    """Z2 indices; planes ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2)."""

    planes: list[int] | None = Field(None, description="Z2 of the six TRIM planes")
    nu0: int | None = Field(None, description="strong index")
    nu: list[int] | None = Field(None, description="weak indices (nu1, nu2, nu3)")
    label: Label = Field(description="the label these indices give")
    min_plane_gap: float | None = Field(
        None, description="smallest direct gap on the planes' k-points (eV)")
    converged: bool = Field(False, description="stable under plane-grid refinement and "
                            "passing the method's quality checks")
    method: str = Field("fhs", description="fhs (Fukui-Hatsugai-Suzuki) or wilson")
    grid: list[int] | None = Field(None, description="half-plane grid of the reported value")
    reason: str | None = Field(None, description="why the indices are undefined")
    lattice: list[list[float]] | None = Field(
        None, description="the cell (rows, Å) whose reciprocal basis the weak indices use")

    @field_validator("min_plane_gap", mode="before")
    @classmethod
    def _finite_gap(cls, value: float | None) -> float | None:
        return _finite(value)


class DomainDoc(BaseModel):
    """How far the structure's atomic environments lie from the model's training data
    (:mod:`hts_z2.model.domain`)."""

    distance: float | None = Field(
        description="largest distance of an atom to the nearest training atom of its element "
        "(None: an element without training environments)")
    by_element: dict[str, float | None] = Field(
        default_factory=dict, description="element symbol -> its farthest atom's distance "
        "(None: no training environments of that element)")
    threshold: float | None = Field(None, description="the model's domain threshold")
    in_domain: bool = Field(description="distance within the threshold")

    @field_validator("distance", mode="before")
    @classmethod
    def _finite_distance(cls, value: float | None) -> float | None:
        return _finite(value)


class ResultDoc(BaseModel):
    """One screening result of one material by one model."""

    model_config = ConfigDict(protected_namespaces=())

    schema_version: int = Field(SCHEMA_VERSION, description="layout version of the document "
                                "(2: typed cautions and a domain part; 1 is read as 2)")
    material_id: str = Field(description="the source's id of the material")
    source: str = Field(description="gnome, mp, files or demo")
    source_ids: dict[str, str] = Field(default_factory=dict,
                                       description="source -> id, for cross-referencing")
    formula: str | None = Field(None, description="reduced formula")
    elements: list[str] = Field(default_factory=list, description="element symbols")
    nelements: int | None = Field(None, description="number of elements")
    nsites: int | None = Field(None, description="sites in the screened cell")
    spacegroup: int | None = Field(None, description="space-group number")
    structure: dict[str, Any] | None = Field(None, description="the screened cell "
                                             "(pymatgen Structure.as_dict)")
    campaign: str | None = Field(None, description="campaign name")
    model: ModelRef = Field(description="the model that produced the result")
    status: Status = Field(description="done, skipped (not a candidate) or failed")
    reason: str | None = Field(None, description="why skipped or failed, or why the label "
                               "is not a converged Z2")
    label: Label | None = Field(
        None, description="z2.label for insulators, 'metal' for metals (no Z2), 'insulator' "
        "when Z2 was not computed; None for skipped and failed materials")
    cautions: list[Caution] = Field(
        default_factory=list, description="why the label may not hold within the model's "
        "accuracy (gap or overlap below its band error, environments outside its domain)")
    gap: GapDoc | None = Field(None, description="band gap")
    z2: Z2Doc | None = Field(None, description="Z2 indices of an insulator")
    z2_manifold: Z2Doc | None = Field(
        None, description="for a metal within the band error of an insulator whose direct gap "
        "stays open: the Z2 of its lowest n_occ bands (the label if the overlap closed)")
    domain: DomainDoc | None = Field(
        None, description="distance to the training data (None: the model has no reference)")
    confirmation: Confirmation | None = Field(
        None, description="first-principles check (plane-wave label of record); written "
        "after the model's result, never replacing it")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds by stage")
    versions: dict[str, str] = Field(default_factory=dict, description="package versions")
    meta: dict[str, Any] = Field(default_factory=dict, description="source metadata, paths "
                                 "of written Hamiltonians")
    last_updated: datetime = Field(default_factory=lambda: datetime.now(timezone.utc),
                                   description="time of the last write (UTC)")

    @model_validator(mode="before")
    @classmethod
    def _earlier_versions(cls, data: Any) -> Any:
        """Documents stored before cautions and the domain were typed: ``caution`` (prose)
        becomes ``cautions``, ``domain_distance`` / ``domain_by_element`` / ``in_domain``
        become ``domain``."""
        if not isinstance(data, dict):
            return data
        if "caution" in data or "domain_distance" in data or "in_domain" in data:
            data = dict(data)
            data["schema_version"] = SCHEMA_VERSION
            text = data.pop("caution", None)
            if "cautions" not in data:
                data["cautions"] = [c.model_dump() for c in from_text(text)]
            distance = data.pop("domain_distance", None)
            by_element = data.pop("domain_by_element", None)
            in_domain = data.pop("in_domain", None)
            if data.get("domain") is None and in_domain is not None:
                data["domain"] = {"distance": distance, "by_element": by_element or {},
                                  "in_domain": in_domain}
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ResultDoc:
        """A document as read from the store (``_id`` and unknown keys ignored)."""
        return cls.model_validate({k: v for k, v in data.items() if k != "_id"})

    @property
    def shown_z2(self) -> Z2Doc | None:
        """The Z2 a table shows: the insulator's, or a near-insulating metal's occupied
        bands'."""
        return self.z2 or self.z2_manifold

    def key(self) -> dict[str, str]:
        """The unique key as a MongoDB filter."""
        return {"material_id": self.material_id, "model.sha256": self.model.sha256}

    def to_mongo(self) -> dict[str, Any]:
        """A BSON-ready dict (datetimes stay datetimes, labels are text)."""
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
    schema["$id"] = f"https://hts-z2/database/z2_results.schema.json#v{SCHEMA_VERSION}"
    schema["version"] = SCHEMA_VERSION
    schema["description"] = (ResultDoc.__doc__ or "").strip().splitlines()[0]
    return schema
