"""Compare reference entries with stored results: per-material entries and the summary.

Agreement (an entry with any error never agrees):

- both insulators: ``agree_nu0`` when the strong indices are equal; ``agree_full`` when
  ``(nu0; nu1 nu2 nu3)`` are equal after expressing our weak indices in the reference
  cell (None, not evaluated, when the cells are not related by a unimodular matrix);
- both ``metal``: both agree (the screening called it a metal, as the reference did);
- anything else (a class differs, either side undefined, our run skipped or failed):
  no agreement.

The confusion matrix counts entries without errors: rows are the reference class, columns
ours (a stored result that is not ``done`` counts as ``undefined``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hts_z2.schemas.caution import Caution, stored_cautions
from hts_z2.validate.matching import Match, check_cell, find_match
from hts_z2.validate.reference import CLASSES, Reference, class_of, label_of


@dataclass
class Ours:
    """What the store holds for the matched material (None fields when absent)."""

    material_id: str
    status: str
    label: str
    nu0: int | None = None
    nu: tuple[int, int, int] | None = None
    planes: tuple[int, ...] | None = None
    gap: float | None = None
    min_plane_gap: float | None = None
    converged: bool | None = None
    model: str | None = None
    reason: str | None = None
    cautions: tuple[Caution, ...] = ()

    @classmethod
    def from_doc(cls, doc: dict) -> Ours:
        z2 = doc.get("z2") or {}
        gap = doc.get("gap") or {}
        status = str(doc.get("status", "unknown"))
        label = str(z2.get("label") or "undefined") if status == "done" else "undefined"
        nu = z2.get("nu")
        planes = z2.get("planes")
        return cls(
            material_id=str(doc.get("material_id")),
            status=status,
            label=label,
            nu0=z2.get("nu0") if status == "done" else None,
            nu=tuple(int(v) for v in nu) if status == "done" and nu else None,  # type: ignore[arg-type]
            planes=tuple(planes) if status == "done" and planes and None not in planes else None,
            gap=gap.get("indirect"),
            min_plane_gap=z2.get("min_plane_gap"),
            converged=z2.get("converged"),
            model=(doc.get("model") or {}).get("name"),
            reason=doc.get("reason"),
            cautions=tuple(stored_cautions(doc)) if status == "done" else (),
        )


@dataclass
class Entry:
    """One reference entry after matching and comparison."""

    reference: Reference
    match: Match
    ours: Ours | None = None
    ours_label_in_reference_cell: str | None = None
    agree_nu0: bool = False
    agree_full: bool | None = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def reference_class(self) -> str:
        return class_of(self.reference.label)

    @property
    def our_class(self) -> str:
        return "undefined" if self.ours is None else class_of(self.ours.label)


@dataclass
class Summary:
    """Counts over all entries."""

    n_reference: int
    n_matched: int
    n_compared: int
    n_agree_full: int
    n_agree_nu0: int
    confusion: dict[str, dict[str, int]]
    n_cautioned: int = 0
    """Compared entries whose stored result carries a caution (gap below the model's
    validation band error)."""
    n_agree_full_cautioned: int = 0
    """Of those, how many agree on (nu0;nu1nu2nu3)."""

    def agreement(self, on: str = "full") -> float:
        """Fraction of ALL reference entries that agree (``on``: "full" or "nu0")."""
        n = self.n_agree_full if on == "full" else self.n_agree_nu0
        return n / self.n_reference if self.n_reference else 0.0


def _ours_in_reference_cell(entry: Entry) -> None:
    ours, M = entry.ours, entry.match.transform
    if ours is None or ours.nu0 is None or ours.nu is None:
        return
    if entry.match.cell == "transformed" and M is not None:
        nu = tuple(int(v) for v in np.mod(M @ np.array(ours.nu), 2))
        entry.ours_label_in_reference_cell = label_of(ours.nu0, nu)  # type: ignore[arg-type]
    elif entry.match.cell in ("same", "assumed"):
        entry.ours_label_in_reference_cell = label_of(ours.nu0, ours.nu)


def _agree(entry: Entry) -> None:
    ref, ours = entry.reference, entry.ours
    entry.agree_nu0, entry.agree_full = False, False
    if not entry.ok or ours is None:
        return
    if ref.label == "metal" and ours.label == "metal":
        entry.agree_nu0 = entry.agree_full = True
        return
    if ref.nu0 is None or ours.nu0 is None:
        return
    entry.agree_nu0 = ref.nu0 == ours.nu0
    if entry.match.cell == "differs":
        entry.agree_full = None
        return
    entry.agree_full = entry.ours_label_in_reference_cell == ref.label


def _duplicates(entries: list[Entry]) -> None:
    """Two references for one stored material: both become errors."""
    seen: dict[str, list[Entry]] = {}
    for e in entries:
        if e.match.doc is not None:
            seen.setdefault(str(e.match.doc.get("material_id")), []).append(e)
    for mid, group in seen.items():
        if len(group) > 1:
            sources = ", ".join(e.reference.source for e in group)
            for e in group:
                e.errors.append(f"duplicate: {len(group)} references for {mid} ({sources})")


def _known(ref: Reference, docs: list[dict]) -> Match:
    """For a reference that could not be read: its stored result when the id is known."""
    same = [d for d in docs if ref.key_kind == "material_id" and d.get("material_id") == ref.key]
    return Match(doc=same[0], how="material_id") if len(same) == 1 else Match()


def compare(references: list[Reference], docs: list[dict]) -> tuple[list[Entry], Summary]:
    """Match every reference to ``docs`` (result documents) and compare.

    Returns
    -------
    (entries in the order of ``references``, summary).
    """
    entries = []
    for ref in references:
        match = find_match(ref, docs) if not ref.errors else _known(ref, docs)
        check_cell(ref, match)
        entry = Entry(reference=ref, match=match)
        entry.errors = [*ref.errors, *match.errors]
        entry.warnings = [*ref.warnings, *match.warnings]
        if match.doc is not None:
            entry.ours = Ours.from_doc(match.doc)
            if entry.ours.status != "done":
                entry.warnings.append(
                    f"stored result is {entry.ours.status}: {entry.ours.reason or 'no reason'}"
                )
            entry.warnings += [f"caution: {c.text}" for c in entry.ours.cautions]
        entries.append(entry)
    _duplicates(entries)
    confusion = {r: dict.fromkeys(CLASSES, 0) for r in CLASSES}
    for e in entries:
        _ours_in_reference_cell(e)
        _agree(e)
        if e.ok and e.ours is not None:
            confusion[e.reference_class][e.our_class] += 1
    cautioned = [e for e in entries if e.ok and e.ours is not None and e.ours.cautions]
    summary = Summary(
        n_reference=len(entries),
        n_matched=sum(e.match.doc is not None for e in entries),
        n_compared=sum(e.ok and e.ours is not None for e in entries),
        n_agree_full=sum(e.agree_full is True for e in entries),
        n_agree_nu0=sum(e.agree_nu0 for e in entries),
        confusion=confusion,
        n_cautioned=len(cautioned),
        n_agree_full_cautioned=sum(e.agree_full is True for e in cautioned),
    )
    return entries, summary
