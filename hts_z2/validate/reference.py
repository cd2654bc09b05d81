"""Reference Z2 results read from other tools' outputs, in the project's plane conventions.

A :class:`Reference` is one material as a first-principles tool reported it: the six plane
values (ordered ``k1=0, k1=1/2, k2=0, k2=1/2, k3=0, k3=1/2``) or directly the indices
``(nu0; nu1 nu2 nu3)``, optionally the Wannier charge centres (WCCs) of each plane and the
structure (cell) the tool used. Readers never raise on bad input: problems end up in
``errors`` (the entry is then not compared) or ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hts_z2.topology.result import label_from_planes
from hts_z2.topology.wilson import z2_from_wcc

PLANE_KEYS: tuple[str, ...] = ("k1_0", "k1_half", "k2_0", "k2_half", "k3_0", "k3_half")
"""Column names of the six planes (tables, JSON output)."""

CLASSES: tuple[str, ...] = ("STI", "WTI", "trivial", "metal", "undefined")
"""Classes of the confusion matrix."""


class ReaderError(ValueError):
    """A reference file that cannot be read (message names the file and the problem)."""


@dataclass
class PlaneWCC:
    """Wannier charge centres of one plane.

    Attributes
    ----------
    wcc : [n_lines, m] sorted WCCs in [0, 1).
    kb : [n_lines] position of each line along the halved direction, in [0, 1/2].
    z2 : Z2 of the plane recomputed from ``wcc`` (largest-gap method), None if not possible.
    stated : Z2 the tool printed for this plane (e.g. in ``WT.out``), if any.
    converged : the tool's own convergence flags all passed (None: not recorded).
    gap_ok : the largest-gap check of :func:`hts_z2.topology.wilson.z2_from_wcc` passed.
    """

    wcc: np.ndarray
    kb: np.ndarray
    z2: int | None = None
    stated: int | None = None
    converged: bool | None = None
    gap_ok: bool | None = None


@dataclass
class Reference:
    """One material's reference result.

    Attributes
    ----------
    key : material id (or reduced formula, see ``key_kind``) as the reference names it.
    key_kind : ``"material_id"`` or ``"formula"``.
    tool : ``"z2pack"``, ``"wanniertools"``, ``"pyatb"`` or ``"table"``.
    source : file or directory the entry was read from.
    planes : six plane values (None where unknown).
    nu0, nu : indices (None when not defined).
    label : ``"STI (1;000)"``-style label, ``"metal"`` or ``"undefined"``.
    wcc : plane index (0..5) -> WCCs, for tools that write them.
    structure : pymatgen Structure of the cell the tool used, if given.
    converged : every plane's convergence flags passed (None: not recorded).
    """

    key: str
    tool: str
    source: str
    key_kind: str = "material_id"
    planes: tuple[int | None, ...] | None = None
    nu0: int | None = None
    nu: tuple[int, int, int] | None = None
    label: str = "undefined"
    wcc: dict[int, PlaneWCC] = field(default_factory=dict)
    structure: Any = None
    converged: bool | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the entry has no errors and defines a class."""
        return not self.errors

    @property
    def indices(self) -> str | None:
        """``"nu0;nu1nu2nu3"`` or None."""
        return indices_text(self.nu0, self.nu)


def indices_text(nu0: int | None, nu: tuple[int, ...] | None) -> str | None:
    """``"1;000"`` from ``(nu0, nu)``; None when undefined."""
    if nu0 is None or nu is None:
        return None
    return f"{nu0};{''.join(str(int(v)) for v in nu)}"


def label_of(nu0: int, nu: tuple[int, int, int]) -> str:
    """``"STI (1;000)"`` / ``"WTI (0;001)"`` / ``"trivial (0;000)"``."""
    kind = "STI" if nu0 else ("WTI" if any(nu) else "trivial")
    return f"{kind} ({indices_text(nu0, nu)})"


def class_of(label: str | None) -> str:
    """Confusion-matrix class of a label (``"STI (1;000)"`` -> ``"STI"``)."""
    if not label:
        return "undefined"
    head = label.split()[0]
    return head if head in CLASSES else "undefined"


def planes_from_indices(nu0: int, nu: tuple[int, int, int]) -> tuple[int, ...]:
    """Six plane values implied by the indices: ``Z2(k_i=1/2) = nu_i``,
    ``Z2(k_i=0) = nu0 + nu_i mod 2``."""
    out: list[int] = []
    for v in nu:
        out += [(nu0 + v) % 2, v]
    return tuple(out)


def parse_indices(text: str) -> tuple[int, tuple[int, int, int]]:
    """``"1;000"`` (also ``"(1;000)"``, ``"1;0,0,0"``, ``"1; 0 0 0"``) -> ``(1, (0, 0, 0))``.

    Raises
    ------
    ValueError if the text is not of that form.
    """
    body = text.strip().strip("()").replace(",", "").replace(" ", "")
    head, sep, tail = body.partition(";")
    if not sep or head not in ("0", "1") or len(tail) != 3 or set(tail) - {"0", "1"}:
        raise ValueError(f"Z2 indices must be written 'nu0;nu1nu2nu3' (e.g. 1;000), got {text!r}")
    return int(head), (int(tail[0]), int(tail[1]), int(tail[2]))


def set_planes(ref: Reference, planes: list[int | None]) -> None:
    """Store six plane values and derive ``nu0, nu, label``; records missing or
    inconsistent planes as errors."""
    ref.planes = tuple(planes)
    missing = [PLANE_KEYS[i] for i, p in enumerate(planes) if p is None]
    if missing:
        ref.errors.append(f"missing plane(s): {', '.join(missing)}")
        return
    try:
        nu0, nu, label = label_from_planes(tuple(int(p) for p in planes))  # type: ignore[arg-type]
    except ValueError as err:
        ref.errors.append(f"planes {list(planes)}: {err}")
        return
    ref.nu0, ref.nu, ref.label = nu0, nu, label


def set_indices(ref: Reference, nu0: int, nu: tuple[int, int, int]) -> None:
    """Store indices given directly (the planes follow from them)."""
    ref.nu0, ref.nu = nu0, nu
    ref.planes = planes_from_indices(nu0, nu)
    ref.label = label_of(nu0, nu)


def plane_from_wcc(wcc: np.ndarray, kb: np.ndarray, where: str | Path) -> PlaneWCC:
    """Sort lines by ``kb`` and WCCs per line, then the largest-gap Z2.

    Parameters
    ----------
    wcc : [n_lines, m] WCCs (any real numbers; taken mod 1).
    kb : [n_lines] line positions in [0, 1/2].

    Raises
    ------
    ReaderError for fewer than two lines, an odd number of WCCs (no Kramers pairs), or
    lines that do not start at ``kb = 0`` and end at ``kb = 1/2``.
    """
    wcc = np.asarray(wcc, dtype=float)
    kb = np.asarray(kb, dtype=float)
    if wcc.ndim != 2 or len(wcc) < 2 or wcc.shape[1] == 0 or not np.all(np.isfinite(wcc)):
        raise ReaderError(f"{where}: need WCCs on at least two lines, got shape {wcc.shape}")
    if wcc.shape[1] % 2:
        raise ReaderError(
            f"{where}: {wcc.shape[1]} WCCs per line; Z2 needs Kramers pairs (an even number)"
        )
    order = np.argsort(kb, kind="stable")
    kb, wcc = kb[order], np.sort(np.mod(wcc[order], 1.0), axis=1)
    if abs(kb[0]) > 1e-6 or abs(kb[-1] - 0.5) > 1e-6:
        raise ReaderError(
            f"{where}: lines must run from k=0 to k=1/2 of the halved direction, "
            f"got {kb[0]:.4g} .. {kb[-1]:.4g}"
        )
    z2, quality = z2_from_wcc(wcc)
    return PlaneWCC(wcc=wcc, kb=kb, z2=z2, gap_ok=quality["ok"])


def finish_from_wcc(ref: Reference, stated: list[int | None] | None = None) -> None:
    """Plane values of a WCC-based reference: the tool's stated values where given
    (checked against the recomputed ones), else the recomputed ones."""
    planes: list[int | None] = []
    for p in range(6):
        plane = ref.wcc.get(p)
        said = None if stated is None else stated[p]
        if plane is not None and said is not None and plane.z2 is not None and plane.z2 != said:
            ref.warnings.append(
                f"plane {PLANE_KEYS[p]}: the tool printed Z2 = {said} but its WCCs give "
                f"{plane.z2} (largest-gap method); using the printed value"
            )
        if plane is not None and plane.gap_ok is False:
            ref.warnings.append(
                f"plane {PLANE_KEYS[p]}: WCC lines too coarse for a clean largest-gap count"
            )
        planes.append(said if said is not None else (None if plane is None else plane.z2))
    flags = [w.converged for w in ref.wcc.values() if w.converged is not None]
    ref.converged = all(flags) if flags else None
    set_planes(ref, planes)
