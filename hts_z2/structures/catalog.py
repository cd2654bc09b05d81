"""Compound catalogue behind the embedded structure set, and the builder that turns it into JSON.

Every compound is stored as data (space group, conventional lattice parameters, Wyckoff
representatives, literature source) and expanded with pymatgen's space-group operations (as
``Structure.from_spacegroup`` does); the primitive cell
(``SpacegroupAnalyzer.get_primitive_standard_structure``) is what is kept.
The committed file ``hts_z2/data/structures/embedded.json`` is produced by::

    python -m hts_z2.structures.catalog

and a test rebuilds it and compares, so catalogue and JSON cannot drift apart.

Lengths are in Å and angles in degrees. Rhombohedral compounds are given in the hexagonal
setting; the stored primitive cell is the rhombohedral one, and weak Z2 indices quoted in
``expected_label`` refer to the reciprocal basis of that primitive cell.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition, Element, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from pymatgen.symmetry.groups import SpaceGroup

from hts_z2.structures.variants import min_distance

__all__ = [
    "CATALOG",
    "CATEGORIES",
    "EXCLUDED_ELEMENTS",
    "CompoundSpec",
    "build_embedded",
    "build_structure",
    "conventional_structure",
    "default_path",
    "main",
    "to_json",
]

CATEGORIES = frozenset({"TI", "TCI", "trivial", "semimetal", "metal"})

#: Elements kept out of the set: magnetic 3d metals, lanthanides and actinides (no or
#: unreliable GPAW PBE setups / dzp bases, or magnetic ground states).
EXCLUDED_ELEMENTS = frozenset(
    {"V", "Cr", "Mn", "Fe", "Co", "Ni"}
    | {Element.from_Z(z).symbol for z in range(57, 72)}
    | {Element.from_Z(z).symbol for z in range(89, 104)}
)

MIN_DISTANCE = 1.8  # Å, sanity floor for every embedded structure
MAX_PRIMITIVE_SITES = 10
_SYMPREC = 1e-3
_DECIMALS = 10

Site = tuple[str, tuple[float, float, float]]


@dataclass(frozen=True)
class CompoundSpec:
    """One catalogue compound.

    Attributes
    ----------
    id : str
        Short slug, ``<formula>-<space group symbol without '/'>``.
    formula : str
        Reduced formula the built structure must match.
    spacegroup : str
        Hermann–Mauguin symbol understood by pymatgen (its default setting: hexagonal axes
        for rhombohedral groups; ``":2"`` appended where origin choice 2 is meant).
    number : int
        International space-group number; the primitive cell must analyse to it.
    lattice : tuple of float
        Conventional cell (a, b, c, alpha, beta, gamma) in Å and degrees.
    sites : tuple of (str, (x, y, z))
        One representative per occupied Wyckoff position, fractional coordinates.
    source, category, expected_label, notes : str, str, str or None, str
        Citation, class (one of ``CATEGORIES``), literature Z2 label or None, free text.
    conditions : str
        ``"ambient"``, or the conditions under which the stored phase exists (e.g. a
        high-temperature phase): its label need not be the ambient material's.
    """

    id: str
    formula: str
    spacegroup: str
    number: int
    lattice: tuple[float, float, float, float, float, float]
    sites: tuple[Site, ...]
    source: str
    category: str
    expected_label: str | None
    notes: str
    conditions: str = "ambient"


def _cubic(a: float) -> tuple[float, float, float, float, float, float]:
    return (a, a, a, 90.0, 90.0, 90.0)


def _hexagonal(a: float, c: float) -> tuple[float, float, float, float, float, float]:
    return (a, a, c, 90.0, 90.0, 120.0)


def _tetragonal(a: float, c: float) -> tuple[float, float, float, float, float, float]:
    return (a, a, c, 90.0, 90.0, 90.0)


_MADELUNG = "Madelung, Semiconductors: Data Handbook, 3rd ed. (Springer, 2004); room temperature"
_WYCKOFF = "Wyckoff, Crystal Structures, Vol. 1, 2nd ed. (Interscience, 1963); room temperature"
_CRC = "experimental, room temperature, CRC Handbook of Chemistry and Physics (elements)"
_FU_KANE = "Fu & Kane, Phys. Rev. B 76, 045302 (2007)"
_ZHANG09 = "Zhang et al., Nat. Phys. 5, 438 (2009)"
_SB_NOTE = "Sb (Z=51) is a partner-set member, not a heavy (Z>70) element."
_ROCKSALT = (("A", (0.0, 0.0, 0.0)), ("X", (0.5, 0.5, 0.5)))
_RELAXED = (
    "PBE-relaxed at the experimental lattice (GPAW PW 350 eV, residual forces < 0.01 eV/A; "
    "python -m hts_z2.reference.planewave.relax), a published refinement of this parameter "
    "could not be checked"
)


def _binary(prototype: tuple[Site, ...], a: str, x: str) -> tuple[Site, ...]:
    """Fill an ``A``/``X`` prototype site list with concrete elements."""
    names = {"A": a, "X": x}
    return tuple((names[label], xyz) for label, xyz in prototype)


_ZINCBLENDE = (("A", (0.0, 0.0, 0.0)), ("X", (0.25, 0.25, 0.25)))
_CSCL = (("A", (0.0, 0.0, 0.0)), ("X", (0.5, 0.5, 0.5)))


def _perovskite(a: str, b: str, x: str) -> tuple[Site, ...]:
    """Cubic ABX3 perovskite: A on 1b, B on 1a, X on 3d."""
    return ((a, (0.5, 0.5, 0.5)), (b, (0.0, 0.0, 0.0)), (x, (0.5, 0.0, 0.0)))


def _tetradymite(metal: str, x1: str, x2: str, u: float, v: float) -> tuple[Site, ...]:
    """Bi2Te3-type sites: X1 on 3a, M on 6c (0,0,u), X2 on 6c (0,0,v), hexagonal axes."""
    return ((metal, (0.0, 0.0, u)), (x1, (0.0, 0.0, 0.0)), (x2, (0.0, 0.0, v)))


def _hcp(element: str) -> tuple[Site, ...]:
    return ((element, (1 / 3, 2 / 3, 0.25)),)


def _spec(
    id: str,
    formula: str,
    spacegroup: str,
    number: int,
    lattice: tuple[float, float, float, float, float, float],
    sites: tuple[Site, ...],
    source: str,
    category: str,
    expected_label: str | None,
    notes: str = "",
    conditions: str = "ambient",
) -> CompoundSpec:
    return CompoundSpec(
        id, formula, spacegroup, number, lattice, sites, source, category, expected_label, notes,
        conditions,
    )


# fmt: off
CATALOG: tuple[CompoundSpec, ...] = (
    # --- topological insulators -------------------------------------------------------------
    _spec("Bi2Se3-R-3m", "Bi2Se3", "R-3m", 166, _hexagonal(4.143, 28.636),
          _tetradymite("Bi", "Se", "Se", 0.4008, 0.2118),
          "Nakajima, J. Phys. Chem. Solids 24, 479 (1963)", "TI", "STI (1;000)",
          f"{_ZHANG09}; Xia et al., Nat. Phys. 5, 398 (2009). Some compilations of Nakajima "
          "list z(Se2)=0.2117."),
    _spec("Bi2Te3-R-3m", "Bi2Te3", "R-3m", 166, _hexagonal(4.386, 30.497),
          _tetradymite("Bi", "Te", "Te", 0.4001, 0.2095),
          "Nakajima, J. Phys. Chem. Solids 24, 479 (1963)", "TI", "STI (1;000)",
          f"{_ZHANG09}; Chen et al., Science 325, 178 (2009)."),
    _spec("Sb2Te3-R-3m", "Sb2Te3", "R-3m", 166, _hexagonal(4.264, 30.458),
          _tetradymite("Sb", "Te", "Te", 0.3988, 0.2128),
          "Anderson & Krause, Acta Cryst. B 30, 1307 (1974)", "TI", "STI (1;000)",
          f"{_ZHANG09}. {_SB_NOTE}"),
    _spec("TlBiSe2-R-3m", "TlBiSe2", "R-3m", 166, _hexagonal(4.24, 22.33),
          (("Tl", (0.0, 0.0, 0.0)), ("Bi", (0.0, 0.0, 0.5)), ("Se", (0.0, 0.0, 0.2410))),
          "a, c: experimental values quoted in the TlBiSe2 TI literature (Yan et al., EPL 90, "
          f"37002 (2010); Lin et al., PRL 105, 036404 (2010)); z(Se) 0.2410 {_RELAXED}",
          "TI", "STI (1;000)",
          "alpha-NaFeO2 type (Tl 3a, Bi 3b, Se 6c); z(Se) was a rounded 0.24 before. Sato et "
          "al., PRL 105, 136802 (2010); Kuroda et al., PRL 105, 146801 (2010)."),
    _spec("TlBiTe2-R-3m", "TlBiTe2", "R-3m", 166, _hexagonal(4.53, 23.1),
          (("Tl", (0.0, 0.0, 0.0)), ("Bi", (0.0, 0.0, 0.5)), ("Te", (0.0, 0.0, 0.2431))),
          "alpha-NaFeO2-type TlBiTe2 (Hockings & White, Acta Cryst. 14, 328 (1961)); a, c "
          f"rounded; z(Te) 0.2431 {_RELAXED}", "TI", "STI (1;000)",
          "Yan et al., EPL 90, 37002 (2010). ARPES finds a negative indirect bulk gap (Chen et "
          "al., PRL 105, 266401 (2010)): the label refers to the bands below the direct gap; "
          "the pipeline classifies it as a semimetal. z(Te) was a rounded 0.24 before."),
    # --- topological crystalline insulators ---------------------------------------------------
    _spec("SnTe-Fm-3m", "SnTe", "Fm-3m", 225, _cubic(6.327), _binary(_ROCKSALT, "Sn", "Te"),
          _MADELUNG, "TCI", "trivial (0;000)",
          "Mirror-Chern TCI with band inversion at the four L points (Hsieh et al., Nat. "
          "Commun. 3, 982 (2012)); Z2 trivial. Sn (Z=50) is a partner-set member."),
    _spec("KHgSb-P6_3mmc", "KHgSb", "P6_3/mmc", 194, _hexagonal(4.78, 10.22),
          (("K", (0.0, 0.0, 0.0)), ("Hg", (1 / 3, 2 / 3, 0.25)), ("Sb", (1 / 3, 2 / 3, 0.75))),
          "Vogel & Schuster, Z. Naturforsch. B 35, 114 (1980), ZrBeSi type",
          "TCI", "trivial (0;000)",
          "Nonsymmorphic hourglass TCI built from two inverted HgSb honeycomb layers per cell "
          "(Wang et al., Nature 532, 189 (2016)); the double inversion makes strong and weak "
          "Z2 indices vanish in this cell; no (001) surface state (Ma et al., Sci. Adv. 3, "
          "e1602415 (2017))."),
    # --- semimetals -----------------------------------------------------------------------------
    _spec("HgTe-F-43m", "HgTe", "F-43m", 216, _cubic(6.461), _binary(_ZINCBLENDE, "Hg", "Te"),
          _MADELUNG, "semimetal", None,
          f"Inverted zero-gap semimetal; STI (1;000) under uniaxial strain ({_FU_KANE}; Brune "
          "et al., PRL 106, 126803 (2011))."),
    _spec("HgSe-F-43m", "HgSe", "F-43m", 216, _cubic(6.084), _binary(_ZINCBLENDE, "Hg", "Se"),
          _MADELUNG, "semimetal", None, "Inverted zero-gap semimetal like HgTe."),
    _spec("Bi-R-3m", "Bi", "R-3m", 166, _hexagonal(4.5330, 11.797),
          (("Bi", (0.0, 0.0, 0.23407)),),
          "Schiferl & Barrett, J. Appl. Cryst. 2, 30 (1969); 4.2 K", "semimetal",
          "trivial (0;000)",
          f"A7 structure. Z2 of the bands below the direct gap ({_FU_KANE}); semimetal, so the "
          "pipeline reports no Z2."),
    _spec("Sb-R-3m", "Sb", "R-3m", 166, _hexagonal(4.3084, 11.274),
          (("Sb", (0.0, 0.0, 0.2336)),),
          "Barrett, Cucka & Haefner, Acta Cryst. 16, 451 (1963); room temperature", "semimetal",
          "STI (1;111)",
          f"A7 structure. Z2 of the bands below the direct gap ({_FU_KANE}); semimetal. "
          f"{_SB_NOTE}"),
    _spec("YPtBi-F-43m", "YPtBi", "F-43m", 216, _cubic(6.652),
          (("Bi", (0.0, 0.0, 0.0)), ("Y", (0.5, 0.5, 0.5)), ("Pt", (0.25, 0.25, 0.25))),
          "experimental lattice constant as tabulated by Chadov et al., Nat. Mater. 9, 541 "
          "(2010)", "semimetal", None,
          "Half-Heusler with HgTe-like inverted zero-gap band structure (Chadov et al.; Lin et "
          "al., Nat. Mater. 9, 546 (2010))."),
    _spec("Na3Bi-P6_3mmc", "Na3Bi", "P6_3/mmc", 194, _hexagonal(5.448, 9.655),
          (("Na", (0.0, 0.0, 0.25)), ("Na", (1 / 3, 2 / 3, 0.583)),
           ("Bi", (1 / 3, 2 / 3, 0.25))),
          "Wang et al., Phys. Rev. B 85, 195320 (2012), experimental structure", "semimetal",
          None, "Dirac semimetal (Liu et al., Science 343, 864 (2014))."),
    _spec("TaAs-I4_1md", "TaAs", "I4_1md", 109, _tetragonal(3.4348, 11.641),
          (("Ta", (0.0, 0.0, 0.0)), ("As", (0.0, 0.0, 0.417))),
          "Furuseth, Selte & Kjekshus, Acta Chem. Scand. 19, 95 (1965), as used by Weng et "
          "al., Phys. Rev. X 5, 011029 (2015)", "semimetal", None,
          "Non-centrosymmetric Weyl semimetal."),
    _spec("PtSe2-P-3m1", "PtSe2", "P-3m1", 164, _hexagonal(3.728, 5.081),
          (("Pt", (0.0, 0.0, 0.0)), ("Se", (1 / 3, 2 / 3, 0.2589))),
          "a, c: Furuseth, Selte & Kjekshus, Acta Chem. Scand. 19, 257 (1965); z(Se) 0.2589 "
          f"{_RELAXED}",
          "semimetal", None, "CdI2 type; bulk type-II Dirac semimetal. z(Se) was a rounded "
          "0.25 before."),
    # --- trivial insulators ---------------------------------------------------------------------
    _spec("BiTeI-P3m1", "BiTeI", "P3m1", 156, _hexagonal(4.339, 6.854),
          (("Bi", (0.0, 0.0, 0.0)), ("Te", (2 / 3, 1 / 3, 0.2510)),
           ("I", (1 / 3, 2 / 3, 0.6928))),
          "Shevelkov et al., J. Solid State Chem. 114, 379 (1995)", "trivial",
          "trivial (0;000)",
          "Polar giant-Rashba semiconductor (Ishizaka et al., Nat. Mater. 10, 521 (2011)); TI "
          "only under pressure (Bahramy et al., Nat. Commun. 3, 679 (2012)). Te/I heights "
          "assigned so that Bi-Te (3.04 A) < Bi-I (3.27 A) as reported; a PBE relaxation at "
          "this lattice (hts_z2.reference.planewave.relax) moves them by less than 0.001 c, "
          "and started from the swapped Te/I assignment it ends in the same structure "
          "(Bi-Te 3.04, Bi-I 3.28 A; energies within 0.02 meV)."),
    _spec("PbTe-Fm-3m", "PbTe", "Fm-3m", 225, _cubic(6.462), _binary(_ROCKSALT, "Pb", "Te"),
          _MADELUNG, "trivial", "trivial (0;000)", f"{_FU_KANE}; Hsieh et al. (2012)."),
    _spec("PbSe-Fm-3m", "PbSe", "Fm-3m", 225, _cubic(6.124), _binary(_ROCKSALT, "Pb", "Se"),
          _MADELUNG, "trivial", "trivial (0;000)", "Narrow-gap rocksalt semiconductor."),
    _spec("PbS-Fm-3m", "PbS", "Fm-3m", 225, _cubic(5.936), _binary(_ROCKSALT, "Pb", "S"),
          _MADELUNG, "trivial", "trivial (0;000)", "Narrow-gap rocksalt semiconductor."),
    _spec("CdTe-F-43m", "CdTe", "F-43m", 216, _cubic(6.481), _binary(_ZINCBLENDE, "Cd", "Te"),
          _MADELUNG, "trivial", "trivial (0;000)",
          "Light (no Z>70 element) trivial control; HgTe's normal-order partner."),
    _spec("TlCl-Pm-3m", "TlCl", "Pm-3m", 221, _cubic(3.834), _binary(_CSCL, "Tl", "Cl"),
          _WYCKOFF, "trivial", "trivial (0;000)", "CsCl type, wide-gap ionic insulator."),
    _spec("TlBr-Pm-3m", "TlBr", "Pm-3m", 221, _cubic(3.985), _binary(_CSCL, "Tl", "Br"),
          _WYCKOFF, "trivial", "trivial (0;000)", "CsCl type, wide-gap ionic insulator."),
    _spec("PbI2-P-3m1", "PbI2", "P-3m1", 164, _hexagonal(4.557, 6.979),
          (("Pb", (0.0, 0.0, 0.0)), ("I", (1 / 3, 2 / 3, 0.265))),
          _WYCKOFF, "trivial", "trivial (0;000)", "2H polytype, CdI2 type."),
    _spec("HgS-P3_121", "HgS", "P3_121", 152, _hexagonal(4.145, 9.496),
          (("Hg", (0.7198, 0.0, 1 / 3)), ("S", (0.4889, 0.0, 5 / 6))),
          "Auvray & Genet, Bull. Soc. fr. Mineral. Cristallogr. 96, 218 (1973): a 4.145, "
          "c 9.496 A, x(Hg) 0.7198, x(S) 0.4889 (as compiled in the American Mineralogist "
          "Crystal Structure Database)",
          "trivial", "trivial (0;000)",
          "Cinnabar (alpha-HgS), helical Hg-S chains, 6 atoms per cell; cinnabar occurs in "
          "both enantiomorphs (P3_121, P3_221), the P3_121 one is stored."),
    _spec("CsPbBr3-Pm-3m", "CsPbBr3", "Pm-3m", 221, _cubic(5.874),
          _perovskite("Cs", "Pb", "Br"),
          "Moller, Nature 182, 1436 (1958); cubic phase above ~403 K", "trivial",
          "trivial (0;000)", "Ideal cubic perovskite; low-temperature phases are distorted.",
          conditions="high temperature: cubic above ~400 K; tetragonal and orthorhombic "
          "(octahedra tilted) at room temperature"),
    _spec("CsPbI3-Pm-3m", "CsPbI3", "Pm-3m", 221, _cubic(6.2894),
          _perovskite("Cs", "Pb", "I"),
          "Trots & Myagkota, J. Phys. Chem. Solids 69, 2520 (2008); 634 K", "trivial",
          "trivial (0;000)", "Cubic alpha phase (high temperature).",
          conditions="high temperature: cubic alpha phase measured at 634 K; at ambient "
          "conditions CsPbI3 is the non-perovskite yellow delta phase"),
    _spec("CsAu-Pm-3m", "CsAu", "Pm-3m", 221, _cubic(4.262), _binary(_CSCL, "Cs", "Au"),
          _WYCKOFF, "trivial", "trivial (0;000)",
          "Ionic auride Cs+Au-, CsCl type, gap ~2.6 eV."),
    _spec("PbO-P4nmm", "PbO", "P4/nmm:2", 129, _tetragonal(3.9759, 5.0229),
          (("O", (0.75, 0.25, 0.0)), ("Pb", (0.25, 0.25, 0.2385))),
          "Boher et al., J. Solid State Chem. 57, 343 (1985)", "trivial", "trivial (0;000)",
          "Litharge (alpha-PbO), origin choice 2."),
    _spec("WSe2-P6_3mmc", "WSe2", "P6_3/mmc", 194, _hexagonal(3.282, 12.96),
          (("W", (1 / 3, 2 / 3, 0.25)), ("Se", (1 / 3, 2 / 3, 0.621))),
          "Schutte, de Boer & Jellinek, J. Solid State Chem. 70, 207 (1987)", "trivial",
          "trivial (0;000)", "2H polytype (MoS2 type)."),
    _spec("WS2-P6_3mmc", "WS2", "P6_3/mmc", 194, _hexagonal(3.153, 12.323),
          (("W", (1 / 3, 2 / 3, 0.25)), ("S", (1 / 3, 2 / 3, 0.623))),
          "Schutte, de Boer & Jellinek, J. Solid State Chem. 70, 207 (1987)", "trivial",
          "trivial (0;000)", "2H polytype (MoS2 type)."),
    _spec("HfS2-P-3m1", "HfS2", "P-3m1", 164, _hexagonal(3.631, 5.837),
          (("Hf", (0.0, 0.0, 0.0)), ("S", (1 / 3, 2 / 3, 0.2482))),
          "a, c: Greenaway & Nitsche, J. Phys. Chem. Solids 26, 1445 (1965); z(S) 0.2482 "
          f"{_RELAXED}", "trivial",
          "trivial (0;000)", "1T (CdI2 type) semiconductor; z(S) was the ideal 0.25 before."),
    # --- metals -----------------------------------------------------------------------------------
    _spec("Au-Fm-3m", "Au", "Fm-3m", 225, _cubic(4.0782), (("Au", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "fcc."),
    _spec("Pt-Fm-3m", "Pt", "Fm-3m", 225, _cubic(3.9242), (("Pt", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "fcc."),
    _spec("Ir-Fm-3m", "Ir", "Fm-3m", 225, _cubic(3.8390), (("Ir", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "fcc."),
    _spec("Pb-Fm-3m", "Pb", "Fm-3m", 225, _cubic(4.9508), (("Pb", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "fcc."),
    _spec("W-Im-3m", "W", "Im-3m", 229, _cubic(3.1652), (("W", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "bcc."),
    _spec("Ta-Im-3m", "Ta", "Im-3m", 229, _cubic(3.3013), (("Ta", (0.0, 0.0, 0.0)),),
          _CRC, "metal", None, "bcc."),
    _spec("Hf-P6_3mmc", "Hf", "P6_3/mmc", 194, _hexagonal(3.1964, 5.0511), _hcp("Hf"),
          _CRC, "metal", None, "hcp."),
    _spec("Os-P6_3mmc", "Os", "P6_3/mmc", 194, _hexagonal(2.7344, 4.3173), _hcp("Os"),
          _CRC, "metal", None, "hcp."),
    _spec("Re-P6_3mmc", "Re", "P6_3/mmc", 194, _hexagonal(2.7610, 4.4560), _hcp("Re"),
          _CRC, "metal", None, "hcp."),
    _spec("Tl-P6_3mmc", "Tl", "P6_3/mmc", 194, _hexagonal(3.4566, 5.5248), _hcp("Tl"),
          _CRC, "metal", None, "hcp (alpha-Tl)."),
    _spec("ReO3-Pm-3m", "ReO3", "Pm-3m", 221, _cubic(3.7477),
          (("Re", (0.0, 0.0, 0.0)), ("O", (0.5, 0.0, 0.0))),
          "Chang & Trucano, J. Appl. Cryst. 11, 286 (1978); room temperature", "metal", None,
          "Metallic conducting oxide."),
    _spec("IrO2-P4_2mnm", "IrO2", "P4_2/mnm", 136, _tetragonal(4.5051, 3.1586),
          (("Ir", (0.0, 0.0, 0.0)), ("O", (0.3077, 0.3077, 0.0))),
          "Bolzan et al., Acta Cryst. B 53, 373 (1997)", "metal", None,
          "Rutile-type metallic oxide with strong SOC."),
    _spec("WC-P-6m2", "WC", "P-6m2", 187, _hexagonal(2.906, 2.837),
          (("W", (0.0, 0.0, 0.0)), ("C", (1 / 3, 2 / 3, 0.5))),
          "experimental, room temperature (standard powder-diffraction value for hexagonal WC)",
          "metal", None, "Semimetallic carbide with triple-point fermions."),
)
# fmt: on


@cache
def _space_group(symbol: str) -> SpaceGroup:
    """Space group by symbol; cached because pymatgen builds its operations slowly."""
    return SpaceGroup(symbol)


def conventional_structure(spec: CompoundSpec) -> Structure:
    """Conventional cell of a catalogue compound (what ``Structure.from_spacegroup`` builds).

    Parameters
    ----------
    spec : CompoundSpec
        Catalogue entry.

    Returns
    -------
    Structure
        All symmetry images of the Wyckoff representatives in the conventional cell.
    """
    group = _space_group(spec.spacegroup)
    lattice = Lattice.from_parameters(*spec.lattice)
    if not group.is_compatible(lattice):
        raise ValueError(f"{spec.id}: lattice {spec.lattice} incompatible with {spec.spacegroup}")
    species: list[str] = []
    coords: list[np.ndarray] = []
    for element, xyz in spec.sites:
        orbit = group.get_orbit(np.asarray(xyz, dtype=float), tol=1e-4)
        species.extend([element] * len(orbit))
        coords.extend(orbit)
    return Structure(lattice, species, coords)


def build_structure(spec: CompoundSpec) -> Structure:
    """Build and verify the primitive cell of one catalogue compound.

    Parameters
    ----------
    spec : CompoundSpec
        Catalogue entry.

    Returns
    -------
    Structure
        Standard primitive cell with rounded, wrapped fractional coordinates.

    Raises
    ------
    ValueError
        If the built cell fails a check: stoichiometry, space group, site count,
        ordering, excluded elements, category, or minimum interatomic distance.
    """
    conventional = conventional_structure(spec)
    analyzer = SpacegroupAnalyzer(conventional, symprec=_SYMPREC)
    primitive = analyzer.get_primitive_standard_structure()
    matrix = np.round(primitive.lattice.matrix, _DECIMALS) + 0.0
    frac = np.round(np.round(primitive.frac_coords, _DECIMALS) % 1.0, _DECIMALS) + 0.0
    structure = Structure(Lattice(matrix), primitive.species, frac)
    _verify(spec, structure)
    return structure


def _verify(spec: CompoundSpec, structure: Structure) -> None:
    problems = []
    if structure.composition.reduced_formula != Composition(spec.formula).reduced_formula:
        problems.append(f"composition {structure.composition.reduced_formula} != {spec.formula}")
    if not structure.is_ordered:
        problems.append("partial occupancies")
    if not 1 <= len(structure) <= MAX_PRIMITIVE_SITES:
        problems.append(f"{len(structure)} sites in the primitive cell")
    number = SpacegroupAnalyzer(structure, symprec=_SYMPREC).get_space_group_number()
    if number != spec.number:
        problems.append(f"space group {number} != {spec.number}")
    excluded = {el.symbol for el in structure.composition} & EXCLUDED_ELEMENTS
    if excluded:
        problems.append(f"excluded elements {sorted(excluded)}")
    if spec.category not in CATEGORIES:
        problems.append(f"unknown category {spec.category!r}")
    d_min = min_distance(structure)
    if d_min <= MIN_DISTANCE:
        problems.append(f"minimum distance {d_min:.3f} A <= {MIN_DISTANCE} A")
    if problems:
        raise ValueError(f"{spec.id}: " + "; ".join(problems))


def _rounded(value: Any) -> Any:
    """Round floats in a JSON-like tree so that serialisation is stable across platforms."""
    if isinstance(value, float):
        return round(value, _DECIMALS) + 0.0
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def build_embedded(catalog: Sequence[CompoundSpec] = CATALOG) -> list[dict[str, Any]]:
    """Build every catalogue compound into a JSON-ready record.

    Parameters
    ----------
    catalog : sequence of CompoundSpec
        Compounds to build; defaults to ``CATALOG``.

    Returns
    -------
    list of dict
        One record per compound with keys ``id, formula, spacegroup, lattice_parameters,
        structure`` (pymatgen ``as_dict()`` of the primitive cell), ``nsites, source,
        category, expected_label, notes``.
    """
    ids = [spec.id for spec in catalog]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate ids in the catalogue")
    records = []
    for spec in catalog:
        structure = build_structure(spec)
        a, b, c, alpha, beta, gamma = spec.lattice
        records.append(
            {
                "id": spec.id,
                "formula": spec.formula,
                "spacegroup": spec.number,
                "lattice_parameters": dict(a=a, b=b, c=c, alpha=alpha, beta=beta, gamma=gamma),
                "nsites": len(structure),
                "structure": _rounded(structure.as_dict()),
                "source": spec.source,
                "category": spec.category,
                "expected_label": spec.expected_label,
                "notes": spec.notes,
                "conditions": spec.conditions,
            }
        )
    return records


def default_path() -> Path:
    """Location of the committed ``embedded.json`` inside the source tree."""
    return Path(__file__).resolve().parents[1] / "data" / "structures" / "embedded.json"


def to_json(records: list[dict[str, Any]]) -> str:
    """Serialise records the way the committed file is written."""
    payload = {
        "description": "hts-z2 embedded structure set (primitive cells, literature lattices)",
        "generator": "python -m hts_z2.structures.catalog",
        "entries": records,
    }
    return json.dumps(payload, indent=1) + "\n"


def _table(records: list[dict[str, Any]]) -> str:
    lines = [f"{'id':<16} {'sites':>5} {'d_min/A':>8}  {'category':<9} expected"]
    for record in records:
        structure = Structure.from_dict(record["structure"])
        lines.append(
            f"{record['id']:<16} {record['nsites']:>5} {min_distance(structure):>8.3f}  "
            f"{record['category']:<9} {record['expected_label'] or '-'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``embedded.json`` (or the path given as the only argument) and print a table."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else default_path()
    records = build_embedded()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(records))
    print(_table(records))
    print(f"wrote {len(records)} structures to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
