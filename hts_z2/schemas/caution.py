"""``Caution``: why a defined label may still not hold, as a code with its numbers.

A result carries a list of them (``cautions``); the text a table prints is derived from
the code, value and threshold, never stored prose that code would have to parse.

>>> c = Caution.gap_below_error(0.012, 0.05)
>>> c.code, c.value, c.threshold
('gap_below_band_error', 0.012, 0.05)
>>> c.text
"gap 0.012 eV < the model's validation band error 0.050 eV: the label can flip within \
the model's accuracy; confirm with DFT"
>>> Caution.gap_below_error(0.2, 0.05) is None
True
>>> Caution.overlap_below_error(-0.03, 0.05).code
'overlap_below_band_error'
>>> replace_codes([c], DOMAIN_CODES, Caution.outside_domain(3.2, 2.5))[-1].code
'outside_domain'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

CautionCode = Literal[
    "gap_below_band_error",
    "overlap_below_band_error",
    "outside_domain",
    "unseen_element",
    "unclassified",
]

DOMAIN_CODES: frozenset[str] = frozenset({"outside_domain", "unseen_element"})
"""Cautions that come from the applicability domain (replaced when it is re-measured)."""
BAND_CODES: frozenset[str] = frozenset({"gap_below_band_error", "overlap_below_band_error"})
"""Cautions that come from the model's band error."""


class Caution(BaseModel):
    """Why a defined label may not hold within the model's accuracy."""

    model_config = ConfigDict(frozen=True)

    code: CautionCode = Field(
        description="gap_below_band_error: an insulator's gap is below the model's validation "
        "band error; overlap_below_band_error: a metal's bands overlap by less than it; "
        "outside_domain: atomic environments farther from the training data than the "
        "model's domain threshold; unseen_element: an element without training environments; "
        "unclassified: a caution stored as text before cautions were typed"
    )
    value: float | None = Field(
        None, description="the measured quantity: gap or band overlap (eV), or domain distance"
    )
    threshold: float | None = Field(
        None, description="the bound it was compared with: band error (eV) or domain threshold"
    )
    note: str | None = Field(
        None, description="only for 'unclassified': the text of a caution stored before "
        "cautions were typed"
    )

    @computed_field(description="the caution in words (derived from code, value, threshold)")
    @property
    def text(self) -> str:
        v, t = self.value, self.threshold
        if self.code == "gap_below_band_error":
            return (f"gap {v:.3f} eV < the model's validation band error {t:.3f} eV: the "
                    "label can flip within the model's accuracy; confirm with DFT")
        if self.code == "overlap_below_band_error":
            return (f"bands overlap by {v:.3f} eV < the model's validation band error "
                    f"{t:.3f} eV: may be an insulator within the model's accuracy; confirm "
                    "with DFT")
        if self.code == "outside_domain":
            return (f"atomic environments far from the training data (domain distance "
                    f"{v:.2f} > {t:.2f}): larger Hamiltonian error expected")
        if self.code == "unseen_element":
            return "an element of this structure has no environment in the training data"
        return self.note or "unclassified caution"

    @classmethod
    def gap_below_error(cls, gap: float, band_error: float | None) -> Caution | None:
        """An insulator whose gap (eV) is below the model's band error (eV), else None."""
        if band_error is None or not math.isfinite(gap) or gap >= band_error:
            return None
        return cls(code="gap_below_band_error", value=float(gap), threshold=float(band_error))

    @classmethod
    def overlap_below_error(cls, indirect: float, band_error: float | None) -> Caution | None:
        """A metal whose bands overlap (``-indirect``, eV) by less than the band error."""
        if band_error is None or not math.isfinite(indirect) or -indirect >= band_error:
            return None
        return cls(code="overlap_below_band_error", value=float(-indirect),
                   threshold=float(band_error))

    @classmethod
    def outside_domain(cls, distance: float | None, threshold: float | None
                       ) -> Caution | None:
        """A structure beyond the model's domain threshold (``inf``: an unseen element);
        None inside it or when either is unknown."""
        if distance is None or threshold is None or distance <= threshold:
            return None
        if math.isinf(distance):
            return cls(code="unseen_element", threshold=float(threshold))
        return cls(code="outside_domain", value=float(distance), threshold=float(threshold))


def replace_codes(
    cautions: Iterable[Caution], codes: Iterable[str], new: Caution | None
) -> list[Caution]:
    """``cautions`` without those of ``codes``, plus ``new`` when given (a re-measured
    domain replaces the earlier domain caution; the band-error cautions stay)."""
    codes = frozenset(codes)
    kept = [c for c in cautions if c.code not in codes]
    return kept + ([new] if new is not None else [])


_LEGACY = (
    (re.compile(r"gap (-?[\d.]+) eV < the model's validation band error ([\d.]+) eV"),
     "gap_below_band_error"),
    (re.compile(r"bands overlap by (-?[\d.]+) eV < the model's validation band error "
                r"([\d.]+) eV"), "overlap_below_band_error"),
    (re.compile(r"domain distance ([\d.]+) > ([\d.]+)\)"), "outside_domain"),
    (re.compile(r"an element of this structure has no environment in the training data()()"),
     "unseen_element"),
)


def from_text(text: str | None) -> list[Caution]:
    """The typed cautions of a document stored when a caution was prose (the four texts
    earlier versions wrote, numbers read back at their printed precision); text of no known
    form is kept whole as one ``unclassified`` caution."""
    if not text:
        return []
    found: list[tuple[int, Caution]] = []
    for pattern, code in _LEGACY:
        for m in pattern.finditer(text):
            value, threshold = (float(x) if x else None for x in m.groups())
            found.append((m.start(), Caution(code=code, value=value, threshold=threshold)))
    if not found:
        return [Caution(code="unclassified", note=text)]
    return [c for _, c in sorted(found, key=lambda x: x[0])]


def stored_cautions(doc: dict) -> list[Caution]:
    """The cautions of a stored result document: its typed ``cautions``, or the prose
    ``caution`` of a document written by an earlier version."""
    if doc.get("cautions") is not None:
        return [Caution.model_validate(c) for c in doc["cautions"]]
    return from_text(doc.get("caution"))
