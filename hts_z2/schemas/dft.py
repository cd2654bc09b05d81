"""First-principles topology documents: the plane-wave label of record of one structure.

One document per (structure fingerprint, method, settings key), stored in collection
``dft_results``; ``hts-z2 dft --json`` prints a list of them.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DFT_COLLECTION = "dft_results"
Kind = Literal["insulator", "semimetal", "metal", "undefined"]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class DftGap(BaseModel):
    """Gap between spinor band ``n_el`` and ``n_el + 1`` over every computed k-point:
    the SCF grid's irreducible points, the high-symmetry path, the TRIM and the Wilson-loop
    planes (eV; ``indirect`` is negative where bands overlap)."""

    indirect: float = Field(description="CBM - VBM over all computed k (eV)")
    direct: float = Field(description="smallest CB - VB at one k (eV)")
    vbm: float
    cbm: float
    k_vbm: list[float]
    k_cbm: list[float]
    k_direct: list[float]
    n_k: int = Field(description="k-points searched")


class DftZ2(BaseModel):
    """Z2 indices from one method; planes ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0,
    k3=1/2), weak indices in the reciprocal basis of the stored cell."""

    method: Literal["parity", "wilson"]
    planes: list[int] | None = None
    nu0: int | None = None
    nu: list[int] | None = None
    label: str = Field(description="'STI (1;000)', 'trivial (0;000)', ... or 'undefined'")
    converged: bool = False
    reason: str | None = None


class TrimParityDoc(BaseModel):
    """Parity of the occupied spinor subspace at one TRIM."""

    k: list[float]
    delta: int = Field(description="Fu–Kane product over occupied Kramers pairs")
    n_odd: int = Field(description="odd occupied spinor states")
    deviation: float = Field(description="max ||lambda| - 1| of the parity eigenvalues")
    direct_gap: float = Field(description="lowest empty - highest occupied level here (eV)")
    frontier: list[int] = Field(description="parity of the highest occupied, lowest empty level")


class WilsonPlaneDoc(BaseModel):
    """Wilson-loop (WCC) Z2 of one TRIM plane."""

    name: str
    z2: int | None
    n_loop: int = Field(description="k-points per Wilson loop")
    lines: int = Field(description="loops (lines) on the half plane, after insertion")
    min_gap_distance: float | None = Field(description="largest-gap test margin (>= 0.3)")
    converged: bool
    min_direct_gap: float = Field(description="smallest direct gap on the plane's points (eV)")
    min_singular: float = Field(description="smallest singular value of any link")
    reason: str | None = None
    wcc: list[list[float]] = Field(default_factory=list, description="[lines, n_el] WCCs")


class Sensitivity(BaseModel):
    """How robust the label is against PBE's band-energy errors."""

    pbe_sensitive: bool
    energy: float | None = Field(
        description="the band inversion that decides the Z2 (eV): smallest direct gap at a "
        "TRIM whose frontier levels have opposite parity; without inversion symmetry the "
        "smallest direct gap on the computed k-points"
    )
    threshold: float
    reason: str


class DftResult(BaseModel):
    """Plane-wave PBE+SOC topology of one structure (the label of record)."""

    model_config = ConfigDict(protected_namespaces=())

    material_id: str
    formula: str
    fingerprint: str = Field(description="structure_fingerprint of the computed cell")
    structure: dict[str, Any] | None = None
    spacegroup: int | None = None
    centrosymmetric: bool | None = None
    method: str = Field(description="first-principles method, e.g. gpaw-pw-pbe-soc")
    requested: Literal["auto", "parity", "wilson"] = Field(
        "auto", description="topology methods asked for (auto: parity where inversion exists, "
        "Wilson loops for every insulator)"
    )
    topology_methods: list[str] = Field(default_factory=list, description="methods that ran")
    settings: dict[str, Any] = Field(default_factory=dict)
    calculation: dict[str, Any] = Field(
        default_factory=dict, description="what the settings gave for this cell: SCF k-mesh, "
        "scalar bands of the spin–orbit runs"
    )
    settings_key: str
    status: Literal["done", "failed", "skipped"] = "done"
    reason: str | None = None
    kind: Kind = "undefined"
    label: str | None = Field(
        None, description="label of record: 'STI (1;000)', 'trivial (0;000)', 'semimetal', "
        "'metal' or 'undefined'"
    )
    z2: DftZ2 | None = Field(None, description="the indices of record")
    z2_parity: DftZ2 | None = None
    z2_wilson: DftZ2 | None = None
    methods_agree: bool | None = Field(
        None, description="parity and Wilson loops agree (None unless both were computed)"
    )
    z2_manifold: DftZ2 | None = Field(
        None, description="Z2 of the lowest n_el bands of a semimetal whose direct gap "
        "stays open (extra information; not a gapped-insulator label)"
    )
    gap: DftGap | None = None
    n_electrons: int | None = None
    parity: list[TrimParityDoc] | None = None
    wilson: list[WilsonPlaneDoc] | None = None
    sensitivity: Sensitivity | None = None
    pbe_sensitive: bool | None = Field(
        None, description="the deciding band inversion or gap is below the threshold: PBE "
        "itself may get the label wrong"
    )
    timings: dict[str, float] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @field_validator("timings", mode="before")
    @classmethod
    def _round_timings(cls, value: dict) -> dict:
        return {k: round(float(v), 2) for k, v in (value or {}).items()}

    def key(self) -> dict[str, str]:
        """The cache key as a MongoDB filter."""
        return {
            "fingerprint": self.fingerprint,
            "method": self.method,
            "settings_key": self.settings_key,
        }

    def to_mongo(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @property
    def total_time(self) -> float:
        return float(self.timings.get("total_s", sum(self.timings.values())))


def dft_json_schema() -> dict[str, Any]:
    """JSON schema of :class:`DftResult` (``database/dft_results.schema.json``)."""
    schema = DftResult.model_json_schema()
    schema["$id"] = "https://hts-z2/database/dft_results.schema.json"
    schema["description"] = (DftResult.__doc__ or "").strip().splitlines()[0]
    return schema


def finite_or_none(value: float | None) -> float | None:
    """A float for JSON, None for NaN / infinity."""
    return _finite(value)


Verdict = Literal["confirmed", "rejected", "agrees", "disagrees", "undetermined"]
TOPOLOGICAL = ("STI", "WTI")


def is_topological(label: str | None) -> bool:
    """A strong or weak topological-insulator label."""
    return bool(label) and label.split(" ")[0] in TOPOLOGICAL


def _class(label: str | None) -> str | None:
    if label is None:
        return None
    return "gapless" if label.split(" ")[0] in ("metal", "semimetal") else label


def judge(model_label: str | None, result: DftResult) -> tuple[Verdict, bool | None]:
    """(verdict, agrees) of a model label against a first-principles result.

    A model TI is ``confirmed`` when the first-principles label is the same TI, ``rejected``
    when it is trivial, a semimetal or a metal, ``disagrees`` for another TI; a model
    non-TI ``agrees`` or ``disagrees`` (a missed TI disagrees). A failed, skipped or
    ``undefined`` first-principles result leaves it ``undetermined``.
    """
    if result.status != "done" or result.label in (None, "undefined"):
        return "undetermined", None
    agrees = _class(model_label) == _class(result.label)
    if is_topological(model_label):
        if agrees:
            return "confirmed", True
        return ("disagrees" if is_topological(result.label) else "rejected"), False
    return ("agrees" if agrees else "disagrees"), agrees


class Confirmation(BaseModel):
    """First-principles check of one screening result (part of the result document)."""

    method: str = Field(description="first-principles method, e.g. gpaw-pw-pbe-soc")
    status: Literal["done", "failed", "skipped"]
    verdict: Verdict = Field(
        description="confirmed / rejected (model TI), agrees / disagrees (other labels), "
        "undetermined (no usable first-principles label)"
    )
    label: str | None = Field(None, description="the first-principles label of record")
    kind: Kind | None = None
    planes: list[int] | None = Field(None, description="first-principles plane Z2 values")
    gap_indirect: float | None = None
    gap_direct: float | None = None
    pbe_sensitive: bool | None = None
    agrees: bool | None = Field(None, description="model and first-principles label agree "
                                "(metal = semimetal)")
    fingerprint: str
    settings_key: str
    settings: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    cached: bool = Field(False, description="taken from the first-principles cache")
    reason: str | None = None

    @classmethod
    def from_result(cls, model_label: str | None, result: DftResult, cached: bool
                    ) -> Confirmation:
        verdict, agrees = judge(model_label, result)
        gap = result.gap
        return cls(
            method=result.method,
            status=result.status,
            verdict=verdict,
            label=result.label,
            kind=result.kind if result.status == "done" else None,
            planes=result.z2.planes if result.z2 is not None else None,
            gap_indirect=None if gap is None else _finite(gap.indirect),
            gap_direct=None if gap is None else _finite(gap.direct),
            pbe_sensitive=result.pbe_sensitive,
            agrees=agrees,
            fingerprint=result.fingerprint,
            settings_key=result.settings_key,
            settings=result.settings,
            timings=result.timings,
            cached=cached,
            reason=result.reason,
        )
