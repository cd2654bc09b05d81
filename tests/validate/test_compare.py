"""Matching, cell transformations, agreement and the confusion matrix."""

import numpy as np
from pymatgen.core import Lattice, Structure
from validate_paths import DATA, REFS

from hts_z2.schemas.caution import Caution
from hts_z2.validate import compare, load_references
from hts_z2.validate.matching import Match, cell_transform, check_cell
from hts_z2.validate.reference import Reference


def run(docs, *paths):
    return compare(load_references(list(paths)), docs)


def test_all_fixtures(docs):
    entries, s = run(docs, REFS, DATA / "table.csv", DATA / "table.json")
    got = {e.reference.key: (e.agree_nu0, e.agree_full) for e in entries}
    assert got == {
        "mp-1001": (True, True),
        "mp-1002": (True, True),
        "mp-1004": (True, True),
        "mp-2001": (True, True),
        "mp-3001": (True, True),
        "trivial-run": (True, True),
        "mp-4002": (False, False),
        "mp-4003": (True, False),
        "mp-4001": (True, True),
        "mp-4004": (False, False),
        "SbTe": (False, False),
        "mp-9999": (False, False),
    }
    assert (s.n_reference, s.n_matched, s.n_compared) == (12, 11, 11)
    assert (s.n_agree_full, s.n_agree_nu0) == (7, 8)
    assert s.confusion["STI"] == {"STI": 4, "WTI": 0, "trivial": 1, "metal": 0, "undefined": 1}
    assert s.confusion["trivial"]["undefined"] == 1  # our run failed
    assert s.confusion["metal"]["metal"] == 1


def test_structure_matching_and_unimodular_cell(docs):
    entries, _ = run(docs, REFS / "trivial-run", REFS / "mp-3001")
    trivial, pyatb = entries
    assert (trivial.match.how, trivial.match.doc["material_id"]) == ("structure", "mp-1003")
    assert trivial.match.cell == "same"
    assert pyatb.match.cell == "transformed"
    assert pyatb.match.transform.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert pyatb.reference.label == "WTI (0;011)"
    assert pyatb.ours.label == "WTI (0;111)"
    assert pyatb.ours_label_in_reference_cell == "WTI (0;011)"


def rocksalt(a=5.6):
    conv = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Pb", "Te"], [[0] * 3, [0.5] * 3])
    return conv, conv.get_primitive_structure()


def test_conventional_cell_compares_only_nu0():
    conv, prim = rocksalt()
    doc = {"material_id": "x", "structure": prim.as_dict()}
    ref = Reference(key="x", tool="table", source="-", structure=conv)
    match = Match(doc=doc, how="material_id")
    check_cell(ref, match)
    assert match.cell == "differs"
    assert match.warnings == ["cell differs (|det M| = 4), only nu0 compared"]
    ref_wti = Reference(
        key="x", tool="table", source="-", structure=conv, nu0=0, nu=(1, 0, 0), label="WTI (0;100)"
    )
    doc_wti = {
        **doc,
        "status": "done",
        "z2": {"label": "WTI (0;111)", "nu0": 0, "nu": [1, 1, 1], "planes": [1, 1, 1, 1, 1, 1]},
    }
    (entry,), summary = compare([ref_wti], [doc_wti])
    assert entry.agree_nu0 is True and entry.agree_full is None
    assert summary.n_agree_full == 0 and summary.n_agree_nu0 == 1


def test_rotated_and_reoriented_unimodular_cell():
    _, prim = rocksalt()
    M = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    st = prim.copy()
    st.make_supercell(M)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    rotated = Structure(Lattice(st.lattice.matrix @ rot.T), st.species, st.frac_coords)
    T = cell_transform(rotated, prim)
    assert T is not None and round(abs(np.linalg.det(T))) == 1
    assert np.allclose(np.linalg.norm(T @ prim.lattice.matrix, axis=1), rotated.lattice.abc)


def test_ambiguous_stored_results_need_a_model(docs):
    twin = {**docs[0], "model": {"name": "other", "sha256": "1" * 64}}
    (entry,), summary = compare(load_references([REFS / "mp-1001"]), [*docs, twin])
    assert "2 stored results" in entry.errors[0] and "--model" in entry.errors[0]
    assert summary.n_agree_full == 0


def test_cautioned_results_are_counted_apart(docs):
    """Results whose gap is below the model's band error carry a caution: the summary
    gives their agreement apart from the rest, and the entry notes say so."""
    paths = (REFS, DATA / "table.csv", DATA / "table.json")
    entries, _ = run(docs, *paths)
    by_key = {e.reference.key: e for e in entries}
    for key in ("mp-1001", "mp-4003"):  # one that agrees fully, one that does not
        by_key[key].match.doc["cautions"] = [Caution.gap_below_error(0.1, 0.5).model_dump()]
    entries, s = run(docs, *paths)
    assert (s.n_cautioned, s.n_agree_full_cautioned) == (2, 1)
    assert (s.n_agree_full, s.n_agree_nu0) == (7, 8)  # agreement itself is unchanged
    notes = {e.reference.key: " ".join(e.warnings) for e in entries}
    assert "caution: gap 0.100 eV < the model's validation band error 0.500" in notes["mp-1001"]
    assert "caution" not in notes["mp-1002"]
    from hts_z2.validate.report import to_json, to_markdown

    assert to_json(entries, s)["n_cautioned"] == 2
    assert "outside its training domain): 2 compared, 1 agree" in to_markdown(entries, s)
    assert "without: 9 compared, 6 agree" in to_markdown(entries, s)
