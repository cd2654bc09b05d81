"""First-principles topology documents: the plane-wave label of record of one structure.

One document per (structure fingerprint, method, settings key), stored in collection
``dft_results``; ``hts-z2 dft --json`` prints a list of them.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hts_z2.schemas.labels import Label, Z2Label, is_topological, label_class

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
    vbm: float = Field(description="valence band maximum (eV)")
    cbm: float = Field(description="conduction band minimum (eV)")
    k_vbm: list[float] = Field(description="reduced k of the valence maximum")
    k_cbm: list[float] = Field(description="reduced k of the conduction minimum")
    k_direct: list[float] = Field(description="reduced k of the smallest direct gap")
    n_k: int = Field(description="k-points searched")


class DftZ2(BaseModel):
    """Z2 indices from one method; planes ordered (k1=0, k1=1/2, k2=0, k2=1/2, k3=0,
    k3=1/2), weak indices in the reciprocal basis of the stored cell."""

    method: Literal["parity", "wilson"] = Field(
        description="parity (Fu-Kane) or wilson (Wannier charge centres)")
    planes: list[int] | None = Field(None, description="Z2 of the six TRIM planes")
    nu0: int | None = Field(None, description="strong index")
    nu: list[int] | None = Field(None, description="weak indices (nu1, nu2, nu3)")
    label: Label = Field(description="'STI (1;000)', 'trivial (0;000)', ... or 'undefined'")
    converged: bool = Field(False, description="the method's checks passed")
    reason: str | None = Field(None, description="why the indices are undefined")


class TrimParityDoc(BaseModel):
    """Parity of the occupied spinor subspace at one TRIM."""

    k: list[float] = Field(description="reduced coordinates of the TRIM")
    delta: int = Field(description="Fu–Kane product over occupied Kramers pairs")
    n_odd: int = Field(description="odd occupied spinor states")
    deviation: float = Field(description="max ||lambda| - 1| of the parity eigenvalues")
    direct_gap: float = Field(description="lowest empty - highest occupied level here (eV)")
    frontier: list[int] = Field(description="parity of the highest occupied, lowest empty level")


class WilsonPlaneDoc(BaseModel):
    """Wilson-loop (WCC) Z2 of one TRIM plane."""

    name: str = Field(description="plane, e.g. 'k1=0'")
    z2: int | None = Field(description="the plane's Z2 (None: not converged)")
    n_loop: int = Field(description="k-points per Wilson loop")
    lines: int = Field(description="loops (lines) on the half plane, after insertion")
    min_gap_distance: float | None = Field(description="largest-gap test margin (>= 0.3)")
    converged: bool = Field(description="stable under refinement and passing the gap test")
    min_direct_gap: float = Field(description="smallest direct gap on the plane's points (eV)")
    min_singular: float = Field(description="smallest singular value of any link")
    reason: str | None = Field(None, description="why the plane is not converged")
    wcc: list[list[float]] = Field(default_factory=list, description="[lines, n_el] WCCs")


class Sensitivity(BaseModel):
    """How robust the label is against PBE's band-energy errors."""

    pbe_sensitive: bool = Field(description="the deciding energy is below the threshold")
    energy: float | None = Field(
        description="the band inversion that decides the Z2 (eV): smallest direct gap at a "
        "TRIM whose frontier levels have opposite parity; without inversion symmetry the "
        "smallest direct gap on the computed k-points"
    )
    threshold: float = Field(description="PBE-sensitivity threshold (eV)")
    reason: str = Field(description="how the deciding energy was found")


class DftResult(BaseModel):
    """Plane-wave PBE+SOC topology of one structure (the label of record)."""

    model_config = ConfigDict(protected_namespaces=())

    material_id: str = Field(description="id of the material computed")
    formula: str = Field(description="reduced formula")
    fingerprint: str = Field(description="structure_fingerprint of the computed cell")
    structure: dict[str, Any] | None = Field(None,
        description="the computed cell (pymatgen Structure.as_dict)")
    spacegroup: int | None = Field(None, description="space-group number")
    centrosymmetric: bool | None = Field(None,
        description="the cell has inversion symmetry (parity applies)")
    method: str = Field(description="first-principles method, e.g. gpaw-pw-pbe-soc")
    requested: Literal["auto", "parity", "wilson"] = Field(
        "auto", description="topology methods asked for (auto: parity where inversion exists, "
        "Wilson loops for every insulator)"
    )
    topology_methods: list[str] = Field(default_factory=list, description="methods that ran")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="first-principles settings (cutoff, k-spacing, SOC bands, ...)")
    calculation: dict[str, Any] = Field(
        default_factory=dict, description="what the settings gave for this cell: SCF k-mesh, "
        "scalar bands of the spin–orbit runs"
    )
    settings_key: str = Field(description="digest of the settings (part of the cache key)")
    status: Literal["done", "failed", "skipped"] = Field("done",
        description="done, failed or skipped")
    reason: str | None = Field(None,
        description="why failed or skipped, or why the label is undefined")
    kind: Kind = Field("undefined", description="insulator, semimetal, metal or undefined")
    label: Label | None = Field(
        None, description="label of record: 'STI (1;000)', 'trivial (0;000)', 'semimetal', "
        "'metal' or 'undefined'"
    )
    z2: DftZ2 | None = Field(None, description="the indices of record")
    z2_parity: DftZ2 | None = Field(None, description="the Fu-Kane parity indices")
    z2_wilson: DftZ2 | None = Field(None, description="the Wilson-loop indices")
    methods_agree: bool | None = Field(
        None, description="parity and Wilson loops agree (None unless both were computed)"
    )
    z2_manifold: DftZ2 | None = Field(
        None, description="Z2 of the lowest n_el bands of a semimetal whose direct gap "
        "stays open (extra information; not a gapped-insulator label)"
    )
    gap: DftGap | None = Field(None, description="band gap over every computed k-point")
    n_electrons: int | None = Field(None, description="valence electrons (occupied spinor bands)")
    parity: list[TrimParityDoc] | None = Field(None, description="parities at the eight TRIM")
    wilson: list[WilsonPlaneDoc] | None = Field(None, description="Wilson-loop results per plane")
    sensitivity: Sensitivity | None = Field(None,
        description="how robust the label is against PBE's errors")
    pbe_sensitive: bool | None = Field(
        None, description="the deciding band inversion or gap is below the threshold: PBE "
        "itself may get the label wrong"
    )
    timings: dict[str, float] = Field(default_factory=dict, description="seconds by step")
    versions: dict[str, str] = Field(default_factory=dict, description="package versions")
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc),
                              description="time of the calculation (UTC)")

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
def judge(model_label: str | Z2Label | None, result: DftResult) -> tuple[Verdict, bool | None]:
    """(verdict, agrees) of a model label against a first-principles result.

    A model TI is ``confirmed`` when the first-principles label is the same TI, ``rejected``
    when it is trivial, a semimetal or a metal, ``disagrees`` for another TI; a model
    non-TI ``agrees`` or ``disagrees`` (a missed TI disagrees). A failed, skipped or
    ``undefined`` first-principles result leaves it ``undetermined``.
    """
    if result.status != "done" or result.label in (None, "undefined"):
        return "undetermined", None
    agrees = label_class(model_label) == label_class(result.label)
    if is_topological(model_label):
        if agrees:
            return "confirmed", True
        return ("disagrees" if is_topological(result.label) else "rejected"), False
    return ("agrees" if agrees else "disagrees"), agrees


class Confirmation(BaseModel):
    """First-principles check of one screening result (part of the result document)."""

    method: str = Field(description="first-principles method, e.g. gpaw-pw-pbe-soc")
    status: Literal["done", "failed", "skipped"] = Field(
        description="status of the first-principles result")
    verdict: Verdict = Field(
        description="confirmed / rejected (model TI), agrees / disagrees (other labels), "
        "undetermined (no usable first-principles label)"
    )
    label: Label | None = Field(None, description="the first-principles label of record")
    kind: Kind | None = Field(None, description="insulator, semimetal, metal or undefined")
    planes: list[int] | None = Field(None, description="first-principles plane Z2 values")
    gap_indirect: float | None = Field(None, description="first-principles indirect gap (eV)")
    gap_direct: float | None = Field(None, description="first-principles direct gap (eV)")
    pbe_sensitive: bool | None = Field(None,
        description="the deciding inversion or gap is below the PBE-sensitivity threshold")
    agrees: bool | None = Field(None, description="model and first-principles label agree "
                                "(metal = semimetal)")
    fingerprint: str = Field(description="structure fingerprint of the computed cell")
    settings_key: str = Field(description="digest of the first-principles settings")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="first-principles settings")
    timings: dict[str, float] = Field(
        default_factory=dict, description="seconds by step of the first-principles run")
    cached: bool = Field(False, description="taken from the first-principles cache")
    reason: str | None = Field(None, description="why failed, skipped or undetermined")

    @classmethod
    def from_result(cls, model_label: str | Z2Label | None, result: DftResult, cached: bool
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
