"""Embedded structure set: loading, per-entry sanity, exact Bi2Se3 geometry, JSON freshness."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hts_z2.structures import EmbeddedEntry, get_embedded, load_embedded, min_distance
from hts_z2.structures.catalog import (
    CATALOG,
    CATEGORIES,
    EXCLUDED_ELEMENTS,
    build_embedded,
    conventional_structure,
    default_path,
)
from hts_z2.structures.embedded import read_records

ENTRIES = load_embedded()
IDS = [entry.id for entry in ENTRIES]
LABEL = re.compile(r"^(STI \(1;[01]{3}\)|WTI \(0;[01]{3}\)|trivial \(0;000\))$")


def test_set_size_ids_and_categories() -> None:
    assert 40 <= len(ENTRIES) <= 50
    assert len(set(IDS)) == len(IDS)
    assert IDS == [spec.id for spec in CATALOG]
    assert all(re.fullmatch(r"[A-Za-z0-9_\-]+", i) for i in IDS)
    categories = {entry.category for entry in ENTRIES}
    assert categories <= CATEGORIES
    assert {"TI", "trivial", "metal", "semimetal", "TCI"} <= categories


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_sane(entry: EmbeddedEntry) -> None:
    s = entry.structure
    assert s.composition.reduced_formula == Composition(entry.formula).reduced_formula
    assert 1 <= len(s) <= 10
    assert s.is_ordered
    assert SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_number() == entry.spacegroup
    d_min = min_distance(s)
    assert 1.8 < d_min < 4.0, f"{entry.id}: implausible nearest-neighbour distance {d_min:.3f}"
    assert not {el.symbol for el in s.composition} & EXCLUDED_ELEMENTS
    assert entry.source
    assert entry.expected_label is None or LABEL.match(entry.expected_label)
    a, b, c, alpha, beta, gamma = entry.lattice_parameters
    assert min(a, b, c) > 1.0 and all(0 < x < 180 for x in (alpha, beta, gamma))


def test_heavy_chemistry_is_covered() -> None:
    elements = {el.symbol for entry in ENTRIES for el in entry.structure.composition}
    assert {"Bi", "Pb", "Tl", "Hg", "Au", "Pt", "Ir", "W", "Ta", "Hf"} <= elements
    heavy = [e for e in ENTRIES if any(el.Z > 70 for el in e.structure.composition)]
    assert len(heavy) >= 35


def test_elements_have_gpaw_pbe_setups_and_dzp_basis() -> None:
    import gpaw_data

    setups = Path(gpaw_data.__file__).parent / "setups"
    assert setups.is_dir(), f"gpaw_data has no setups directory: {setups}"
    elements = {el.symbol for entry in ENTRIES for el in entry.structure.composition}
    for symbol in sorted(elements):
        assert (setups / f"{symbol}.PBE.gz").exists(), symbol
        assert (setups / f"{symbol}.dzp.basis.gz").exists(), symbol


def test_bi2se3_exact() -> None:
    entry = get_embedded("Bi2Se3-R-3m")
    assert entry.spacegroup == 166
    assert entry.expected_label == "STI (1;000)"
    assert entry.lattice_parameters == (4.143, 4.143, 28.636, 90.0, 90.0, 120.0)
    s = entry.structure
    assert len(s) == 5
    conv = SpacegroupAnalyzer(s, symprec=1e-3).get_conventional_standard_structure()
    assert conv.lattice.a == pytest.approx(4.143, abs=1e-6)
    assert conv.lattice.c == pytest.approx(28.636, abs=1e-6)
    # Rhombohedral cell: each atom sits at (u, u, u); Bi at +-0.4008, Se1 at 0, Se2 at +-0.2118.
    u = {site.specie.symbol: set() for site in s}
    for site in s:
        x = site.frac_coords
        assert np.allclose(x, x[0], atol=1e-8)
        u[site.specie.symbol].add(round(min(x[0], 1 - x[0]) if x[0] > 1e-9 else 0.0, 6))
    assert u == {"Bi": {0.4008}, "Se": {0.0, 0.2118}}
    assert s.volume == pytest.approx(math.sqrt(3) / 2 * 4.143**2 * 28.636 / 3, rel=1e-9)


@pytest.mark.parametrize("id", ["Bi2Se3-R-3m", "PbO-P4nmm", "HgS-P3_121", "TaAs-I4_1md"])
def test_conventional_cell_equals_from_spacegroup(id: str) -> None:
    spec = next(spec for spec in CATALOG if spec.id == id)
    ours = conventional_structure(spec)
    reference = Structure.from_spacegroup(
        spec.spacegroup,
        Lattice.from_parameters(*spec.lattice),
        [element for element, _ in spec.sites],
        [xyz for _, xyz in spec.sites],
    )
    assert len(ours) == len(reference)
    assert StructureMatcher(primitive_cell=False, scale=False).fit(ours, reference)
    assert StructureMatcher().fit(ours, get_embedded(id).structure)


def test_get_embedded_unknown_id_lists_available() -> None:
    with pytest.raises(KeyError) as info:
        get_embedded("Bi2Se3")
    message = str(info.value)
    assert "Bi2Se3" in message and "Bi2Se3-R-3m" in message and "Au-Fm-3m" in message


def test_loads_are_independent() -> None:
    first = get_embedded("Au-Fm-3m").structure
    first.scale_lattice(2 * first.volume)
    assert get_embedded("Au-Fm-3m").structure.volume == pytest.approx(first.volume / 2)


def _assert_close(fresh: Any, stored: Any, path: str = "") -> None:
    if isinstance(fresh, dict):
        assert isinstance(stored, dict) and fresh.keys() == stored.keys(), path
        for key in fresh:
            _assert_close(fresh[key], stored[key], f"{path}/{key}")
    elif isinstance(fresh, list | tuple):
        assert isinstance(stored, list) and len(fresh) == len(stored), path
        for k, (a, b) in enumerate(zip(fresh, stored, strict=True)):
            _assert_close(a, b, f"{path}/{k}")
    elif isinstance(fresh, float) and not isinstance(fresh, bool):
        assert stored == pytest.approx(fresh, abs=1e-7), path
    else:
        assert fresh == stored, path


def test_committed_json_matches_fresh_build() -> None:
    fresh = json.loads(json.dumps(build_embedded()))
    stored = read_records()
    assert [r["id"] for r in fresh] == [r["id"] for r in stored]
    _assert_close(fresh, stored)


def test_package_exports_resolve() -> None:
    import hts_z2.structures as package

    assert all(callable(getattr(package, name)) for name in package.__all__)
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def test_packaged_resource_is_the_source_tree_file() -> None:
    assert json.loads(default_path().read_text())["entries"] == read_records()
