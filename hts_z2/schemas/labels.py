"""``Z2Label``: the topological label of a material as a value (parse, format, compare).

Stored and printed as text (``"STI (1;000)"``, ``"trivial (0;000)"``, ``"metal"``), so that
one indexed string field answers label queries; in code it is this value type, never a
string to slice.

>>> label = Z2Label.parse("STI (1;000)")
>>> label.kind, label.nu0, label.nu
('STI', 1, (0, 0, 0))
>>> str(label)
'STI (1;000)'
>>> Z2Label.from_indices(0, (0, 0, 1))
Z2Label('WTI (0;001)')
>>> Z2Label.parse("metal").gapless, Z2Label.parse("semimetal").same_class("metal")
(True, True)
>>> Z2Label.parse("STI (1;000)").topological, Z2Label.parse("trivial (0;000)").topological
(True, False)
>>> Z2Label.parse("STI (1;000)") == "STI (1;000)"
True
>>> sorted(map(Z2Label.parse, ["metal", "trivial (0;000)", "WTI (0;001)", "STI (1;111)"]))
[Z2Label('STI (1;111)'), Z2Label('WTI (0;001)'), Z2Label('trivial (0;000)'), Z2Label('metal')]
>>> Z2Label.parse("STI (2;000)")
Traceback (most recent call last):
...
ValueError: not a Z2 label: 'STI (2;000)' (expected e.g. 'STI (1;000)', 'WTI (0;001)', \
'trivial (0;000)', 'insulator', 'metal', 'semimetal' or 'undefined')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

LabelKind = Literal["STI", "WTI", "trivial", "insulator", "metal", "semimetal", "undefined"]

INDEXED = ("STI", "WTI", "trivial")
"""Kinds that carry indices (nu0; nu1 nu2 nu3)."""
TOPOLOGICAL = ("STI", "WTI")
GAPLESS = ("metal", "semimetal")
BARE = ("insulator", "metal", "semimetal", "undefined")
"""Kinds without indices: an insulator whose Z2 was not computed, gapless materials, and a
Z2 that could not be trusted."""

RANK = {"STI": 0, "WTI": 1, "trivial": 2, "insulator": 3, "semimetal": 4, "metal": 5,
        "undefined": 6}
"""Sort order: topological first (the order tables are printed in)."""

_PATTERN = re.compile(r"^(STI|WTI|trivial) \(([01]);([01])([01])([01])\)$")
PATTERN = _PATTERN.pattern


@dataclass(frozen=True)
class Z2Label:
    """A topological label.

    Attributes
    ----------
    kind : ``STI``, ``WTI``, ``trivial`` (with indices), or ``insulator`` (gapped, Z2 not
        computed), ``metal``, ``semimetal``, ``undefined`` (no indices).
    nu0 : strong index (None without indices).
    nu : weak indices (nu1, nu2, nu3) in the reciprocal basis of the cell the result
        records (None without indices).
    """

    kind: LabelKind
    nu0: int | None = None
    nu: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        indexed = self.nu0 is not None and self.nu is not None
        if self.kind in INDEXED and not indexed:
            raise ValueError(f"a {self.kind} label needs its indices (nu0; nu1nu2nu3)")
        if self.kind in BARE and (self.nu0 is not None or self.nu is not None):
            raise ValueError(f"a {self.kind} label carries no indices")
        if indexed:
            expected = "STI" if self.nu0 else "WTI" if any(self.nu) else "trivial"
            if self.kind != expected or {self.nu0, *self.nu} - {0, 1}:
                raise ValueError(f"indices ({self.nu0};{self.nu}) are not a {self.kind}")

    @classmethod
    def parse(cls, text: str | Z2Label) -> Z2Label:
        """The label written as ``text`` (a ``Z2Label`` is returned unchanged)."""
        if isinstance(text, Z2Label):
            return text
        if not isinstance(text, str):
            raise ValueError(f"not a Z2 label: {text!r}")
        match = _PATTERN.match(text.strip())
        if match:
            kind, nu0, *nu = match.groups()
            return cls(kind, int(nu0), tuple(int(x) for x in nu))  # type: ignore[arg-type]
        if text.strip() in BARE:
            return cls(text.strip())  # type: ignore[arg-type]
        raise ValueError(
            f"not a Z2 label: {text!r} (expected e.g. 'STI (1;000)', 'WTI (0;001)', "
            "'trivial (0;000)', 'insulator', 'metal', 'semimetal' or 'undefined')"
        )

    @classmethod
    def from_indices(cls, nu0: int, nu: tuple[int, int, int] | list[int]) -> Z2Label:
        """The label of strong index ``nu0`` and weak indices ``nu``."""
        nu = tuple(int(x) for x in nu)
        if len(nu) != 3:
            raise ValueError(f"three weak indices expected, got {nu}")
        kind = "STI" if nu0 else "WTI" if any(nu) else "trivial"
        return cls(kind, int(nu0), nu)  # type: ignore[arg-type]

    @property
    def indices(self) -> str | None:
        """``"nu0;nu1nu2nu3"`` or None."""
        if self.nu0 is None or self.nu is None:
            return None
        return f"{self.nu0};{''.join(map(str, self.nu))}"

    @property
    def topological(self) -> bool:
        """A strong or weak topological insulator."""
        return self.kind in TOPOLOGICAL

    @property
    def gapless(self) -> bool:
        """A metal or semimetal."""
        return self.kind in GAPLESS

    @property
    def defined(self) -> bool:
        """Carries indices (not ``insulator``, gapless or ``undefined``)."""
        return self.nu0 is not None

    @property
    def label_class(self) -> str:
        """What labels compare by: ``"gapless"`` for metals and semimetals (a model that
        calls a semimetal a metal agrees with it), the text otherwise."""
        return "gapless" if self.gapless else str(self)

    def same_class(self, other: str | Z2Label | None) -> bool | None:
        """Whether ``other`` is the same label up to metal = semimetal (None if missing)."""
        if other is None:
            return None
        return self.label_class == Z2Label.parse(other).label_class

    def __str__(self) -> str:
        return self.kind if self.indices is None else f"{self.kind} ({self.indices})"

    def __repr__(self) -> str:
        return f"Z2Label({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str(self) == other.strip()
        if isinstance(other, Z2Label):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: Z2Label) -> bool:
        return self.sort_key < Z2Label.parse(other).sort_key

    @property
    def sort_key(self) -> tuple[int, str]:
        """Topological first, then trivial, insulators, gapless, undefined."""
        return RANK[self.kind], str(self)


def parse_label(value: Any) -> Z2Label:
    """Pydantic validator: a label from its text (or a ``Z2Label``)."""
    return Z2Label.parse(value)


def label_class(label: str | Z2Label | None) -> str | None:
    """``"gapless"`` for metals and semimetals, the label's text otherwise (None stays)."""
    return None if label is None else Z2Label.parse(label).label_class


def is_topological(label: str | Z2Label | None) -> bool:
    """A strong or weak topological-insulator label (False for None)."""
    return label is not None and Z2Label.parse(label).topological


Label = Annotated[
    Z2Label,
    PlainValidator(parse_label),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({
        "type": "string",
        "description": "Z2 label: 'STI (1;000)', 'WTI (0;001)', 'trivial (0;000)', "
        "'insulator', 'metal', 'semimetal' or 'undefined'",
        "anyOf": [{"pattern": PATTERN}, {"enum": list(BARE)}],
    }),
]
"""A ``Z2Label`` field of a pydantic document: validated from text, stored as text."""
