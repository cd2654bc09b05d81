"""Structural variants: strain, rattle, substitution and the deterministic variant set."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from hts_z2.structures import (
    get_embedded,
    min_distance,
    rattled,
    strained,
    substituted,
    variant_set,
)
from hts_z2.structures.variants import covalent_radius

BI2SE3 = get_embedded("Bi2Se3-R-3m")
AU = get_embedded("Au-Fm-3m")
PBTE = get_embedded("PbTe-Fm-3m")


@pytest.mark.parametrize("e", [-0.03, 0.0, 0.02])
def test_isotropic_strain_scales_volume(e: float) -> None:
    s = BI2SE3.structure
    out = strained(s, e)
    assert out.volume == pytest.approx(s.volume * (1 + e) ** 3, rel=1e-12)
    assert np.allclose(out.frac_coords, s.frac_coords)
    assert np.allclose(out.lattice.abc, np.array(s.lattice.abc) * (1 + e))


def test_tensor_strain_and_input_untouched() -> None:
    s = PBTE.structure
    before = s.lattice.matrix.copy()
    eps = np.diag([0.01, -0.02, 0.0])
    eps[0, 1] = eps[1, 0] = 0.005
    out = strained(s, eps)
    assert out.volume == pytest.approx(s.volume * np.linalg.det(np.eye(3) + eps), rel=1e-12)
    assert np.array_equal(s.lattice.matrix, before)
    with pytest.raises(ValueError, match="symmetric"):
        strained(s, np.triu(np.full((3, 3), 0.01)))
    with pytest.raises(ValueError, match="3x3"):
        strained(s, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="det"):
        strained(s, -1.0)


def test_rattle_is_seeded_and_keeps_lattice() -> None:
    s = BI2SE3.structure
    a = rattled(s, 0.05, seed=7)
    b = rattled(s, 0.05, seed=7)
    c = rattled(s, 0.05, seed=8)
    assert np.array_equal(a.cart_coords, b.cart_coords)
    assert not np.allclose(a.cart_coords, c.cart_coords)
    assert np.array_equal(a.lattice.matrix, s.lattice.matrix)
    shift = np.linalg.norm(a.cart_coords - s.cart_coords, axis=1)
    assert 0 < shift.max() < 0.5
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(rattled(s, 0.05, g1).cart_coords, rattled(s, 0.05, g2).cart_coords)


def test_rattle_respects_distance_guard() -> None:
    s = PBTE.structure
    d0 = min_distance(s)
    for seed in range(20):
        assert min_distance(rattled(s, 0.25, seed)) >= 0.85 * d0
    with pytest.raises(RuntimeError, match="lower sigma"):
        rattled(s, 3.0, seed=0, max_tries=5)
    with pytest.raises(ValueError):
        rattled(s, -0.1, seed=0)
    assert np.allclose(rattled(s, 0.0, seed=0).cart_coords, s.cart_coords)


def test_min_distance_of_single_atom_cell_is_shortest_lattice_vector() -> None:
    s = Structure(Lattice.cubic(3.0), ["W"], [[0, 0, 0]])
    assert min_distance(s) == pytest.approx(3.0)
    assert min_distance(AU.structure) == pytest.approx(4.0782 / np.sqrt(2), rel=1e-9)


def test_substitution_changes_composition_and_volume() -> None:
    s = BI2SE3.structure
    out = substituted(s, {"Se": "Te"})
    assert out.composition.reduced_formula == "Bi2Te3"
    r_old = (2 * covalent_radius("Bi") + 3 * covalent_radius("Se")) / 5
    r_new = (2 * covalent_radius("Bi") + 3 * covalent_radius("Te")) / 5
    assert out.volume == pytest.approx(s.volume * (r_new / r_old) ** 3, rel=1e-12)
    assert np.allclose(out.frac_coords, s.frac_coords)
    assert out.lattice.angles == pytest.approx(s.lattice.angles)
    assert s.composition.reduced_formula == "Bi2Se3"


def test_elemental_substitution_is_radius_ratio_cubed() -> None:
    out = substituted(AU.structure, {"Au": "Pt"})
    ratio = covalent_radius("Pt") / covalent_radius("Au")
    assert out.volume == pytest.approx(AU.structure.volume * ratio**3, rel=1e-12)
    with pytest.raises(ValueError, match="not in"):
        substituted(AU.structure, {"Se": "Te"})
    with pytest.raises(ValueError, match="unknown element"):
        substituted(AU.structure, {"Au": "Xx"})
    with pytest.raises(ValueError, match="empty"):
        substituted(AU.structure, {})


def test_variant_set_ids_unique_and_deterministic() -> None:
    entries = [BI2SE3, AU, PBTE]
    subs = [{"Se": "Te"}, {"Pb": "Sn"}, {"Bi": "Sb", "Se": "Te"}]
    first = variant_set(entries, 3, seed=11, substitutions=subs)
    second = variant_set(entries, 3, seed=11, substitutions=subs)
    ids = [i for i, _ in first]
    assert len(ids) == len(set(ids))
    assert ids == [i for i, _ in second]
    for (_, a), (_, b) in zip(first, second, strict=True):
        assert np.array_equal(a.cart_coords, b.cart_coords)
        assert np.array_equal(a.lattice.matrix, b.lattice.matrix)
    assert ids[:5] == [
        "Bi2Se3-R-3m/strain-0.02",
        "Bi2Se3-R-3m/strain+0.02",
        "Bi2Se3-R-3m/rattle-s0.05-0",
        "Bi2Se3-R-3m/rattle-s0.05-1",
        "Bi2Se3-R-3m/rattle-s0.05-2",
    ]
    assert "Bi2Se3-R-3m/sub-Se>Te" in ids
    assert "Bi2Se3-R-3m/sub-Bi>Sb,Se>Te" in ids
    assert "PbTe-Fm-3m/sub-Pb>Sn" in ids
    assert not any(i.startswith("Au-Fm-3m/sub-") for i in ids)
    assert len(ids) == 3 * (2 + 3) + 2 + 1


def test_variant_set_rattles_do_not_depend_on_other_entries() -> None:
    alone = dict(variant_set([PBTE], 2, seed=5, strains=()))
    together = dict(variant_set([BI2SE3, PBTE], 2, seed=5, strains=()))
    for key, structure in alone.items():
        assert np.array_equal(structure.cart_coords, together[key].cart_coords)
    other_seed = dict(variant_set([PBTE], 2, seed=6, strains=()))
    assert not np.allclose(
        other_seed["PbTe-Fm-3m/rattle-s0.05-0"].cart_coords,
        alone["PbTe-Fm-3m/rattle-s0.05-0"].cart_coords,
    )


def test_variant_set_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="n_per_structure"):
        variant_set([AU], -1, seed=0)
    with pytest.raises(ValueError, match="duplicate"):
        variant_set([AU, AU], 1, seed=0)
