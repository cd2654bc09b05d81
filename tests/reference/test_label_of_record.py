"""The committed label of record of the embedded set: complete, current (same structures
and settings), consistent with its documentation, and meeting the known answers."""

import pytest

from hts_z2.reference.planewave.record import (
    DOCS_TABLE,
    TABLE_BEGIN,
    TABLE_END,
    load_literature,
    load_results,
    markdown_table,
)
from hts_z2.reference.planewave.settings import METHOD, PlaneWaveSettings
from hts_z2.structures.embedded import load_embedded
from hts_z2.structures.fingerprint import structure_fingerprint

SEMIMETALS = ("HgTe-F-43m", "HgSe-F-43m", "YPtBi-F-43m", "Na3Bi-P6_3mmc", "TaAs-I4_1md",
              "PtSe2-P-3m1")


@pytest.fixture(scope="module")
def results():
    return load_results()


def test_every_embedded_compound_has_a_current_result(results):
    entries = load_embedded()
    assert sorted(results) == sorted(e.id for e in entries), "results.json.gz is incomplete"
    key = PlaneWaveSettings().key()
    for e in entries:
        r = results[e.id]
        assert r.status == "done", f"{e.id}: {r.reason}"
        assert r.fingerprint == structure_fingerprint(e.structure), f"{e.id}: stale geometry"
        assert (r.method, r.settings_key) == (METHOD, key)
        assert r.timings["total_s"] > 0 and r.versions["gpaw"]
        assert r.calculation["scalar_bands"] == PlaneWaveSettings().scalar_bands(r.n_electrons)


def test_literature_table_covers_the_embedded_set():
    literature = load_literature()
    assert sorted(literature) == sorted(e.id for e in load_embedded())
    assert all(entry["sources"] for entry in literature.values())


def test_documented_table_is_generated_from_the_data():
    text = DOCS_TABLE.read_text()
    block = text[text.index(TABLE_BEGIN): text.index(TABLE_END) + len(TABLE_END)]
    assert block == markdown_table(), "run: python -m hts_z2.reference.planewave.record table"


def test_known_answers(results):
    bi2se3 = results["Bi2Se3-R-3m"]
    assert bi2se3.label == "STI (1;000)"
    gamma = bi2se3.parity[0]
    assert gamma.k == [0.0, 0.0, 0.0] and gamma.frontier == [1, -1]
    assert 0.4 < gamma.direct_gap < 0.65
    assert results["CsPbBr3-Pm-3m"].label == "trivial (0;000)"
    assert results["PbTe-Fm-3m"].label == "trivial (0;000)"
    for sid in SEMIMETALS:  # never a gapped insulator
        assert results[sid].kind in ("semimetal", "metal"), (sid, results[sid].label)
        assert results[sid].z2 is None


def test_methods_agree_wherever_both_ran(results):
    both = [r for r in results.values() if r.z2_parity is not None and r.z2_wilson is not None
            and r.z2_parity.planes is not None and r.z2_wilson.planes is not None]
    assert both, "no Wilson-loop cross-check in the committed results"
    for r in both:
        assert r.methods_agree == (r.z2_parity.planes == r.z2_wilson.planes)
        if r.z2_wilson.converged:
            assert r.methods_agree, f"{r.material_id}: {r.reason}"


def test_parities_are_clean_and_labels_follow_from_them(results):
    from hts_z2.reference.planewave.parity import planes_from_deltas

    for r in results.values():
        if r.parity is None or r.z2_parity is None or r.z2_parity.planes is None:
            continue
        assert all(p.deviation < 1e-3 and p.n_odd % 2 == 0 for p in r.parity), r.material_id
        assert list(planes_from_deltas([p.delta for p in r.parity])) == r.z2_parity.planes
