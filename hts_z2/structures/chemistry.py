"""Element classes used by the candidate filter and the DFT reference backend."""

from __future__ import annotations

MAGNETIC_ELEMENTS: frozenset[str] = frozenset(
    # open 3d shells and the 4f/5f series: local moments break time reversal in practice
    [
        *("V", "Cr", "Mn", "Fe", "Co", "Ni"),
        *("Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb"),
        *("U", "Np", "Pu", "Am", "Cm"),
    ]
)
"""Elements treated as magnetic (Z2 requires time reversal): V, Cr, Mn, Fe, Co, Ni,
the lanthanides Ce–Yb and the light actinides U–Cm."""

HEAVY_Z = 70
"""Candidates contain at least one element with Z above this (the paper's Z > 70)."""
