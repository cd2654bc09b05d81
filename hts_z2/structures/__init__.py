"""Crystal structures: the embedded literature set and seeded structural variants.

The public names below are imported lazily, so that light submodules of this package can be
imported without loading pymatgen.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hts_z2.structures.embedded import EmbeddedEntry, get_embedded, load_embedded
    from hts_z2.structures.variants import (
        min_distance,
        rattled,
        strained,
        substituted,
        variant_set,
    )

_EXPORTS = {
    "EmbeddedEntry": "hts_z2.structures.embedded",
    "get_embedded": "hts_z2.structures.embedded",
    "load_embedded": "hts_z2.structures.embedded",
    "min_distance": "hts_z2.structures.variants",
    "rattled": "hts_z2.structures.variants",
    "strained": "hts_z2.structures.variants",
    "substituted": "hts_z2.structures.variants",
    "variant_set": "hts_z2.structures.variants",
}

__all__ = [
    "EmbeddedEntry",
    "get_embedded",
    "load_embedded",
    "min_distance",
    "rattled",
    "strained",
    "substituted",
    "variant_set",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
