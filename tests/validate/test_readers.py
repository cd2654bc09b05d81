"""Readers on files in the tools' real formats (see make_fixtures.py for their origin)."""

import numpy as np
import pytest
from validate_paths import DATA, REFS

from hts_z2.validate import pyatb, wanniertools, z2pack
from hts_z2.validate.discover import load_references
from hts_z2.validate.reference import ReaderError
from hts_z2.validate.table import read_table


def by_key(refs):
    return {r.key: r for r in refs}


def test_z2pack_eigenstate_json_own_names():
    ref = load_references([REFS / "mp-1001"])[0]
    assert (ref.tool, ref.errors, ref.label) == ("z2pack", [], "STI (1;000)")
    assert ref.planes == (1, 0, 1, 0, 1, 0)
    assert ref.converged is True
    assert all(w.wcc.shape[1] == 2 and w.kb[0] == 0 and w.kb[-1] == 0.5 for w in ref.wcc.values())


def test_z2pack_overlap_json_materials_project_names():
    ref = load_references([REFS / "mp-1002"])[0]
    assert ref.errors == []
    assert ref.planes == (0, 0, 0, 0, 1, 1)
    assert ref.label == "WTI (0;001)"


def test_z2pack_overlap_and_eigenstate_msgpack():
    refs = by_key(load_references([REFS / "mp-1004", REFS / "trivial-run"]))
    assert refs["mp-1004"].label == "STI (1;111)"
    assert refs["trivial-run"].label == "trivial (0;000)"
    assert refs["trivial-run"].structure.composition.reduced_formula == "CaO"


def test_z2pack_overlaps_give_the_eigenphases_of_their_product():
    raw = z2pack.load_raw(REFS / "mp-1004" / "k1_half.msgpack")
    line = raw["data"]["lines"][2]["result"]["data"]
    assert line["__overlap_line_data__"]
    W = np.linalg.multi_dot([np.asarray(o) for o in line["overlaps"]])
    expected = np.sort(np.mod(np.angle(np.linalg.eigvals(W)) / (2 * np.pi), 1))
    plane = z2pack.read_surface(REFS / "mp-1004" / "k1_half.msgpack")
    assert np.allclose(plane.wcc[2], expected)


@pytest.mark.parametrize(
    ("name", "plane"),
    [
        ("kx_0_z2run.json", 0),
        ("kz_1_z2run.json", 5),
        ("k1_half.json", 1),
        ("Bi2Se3_k2=0.5.msgpack", 3),
        ("k3_0p5", 5),
        ("k1=0.0", 0),
        ("run.json", None),
        ("k1_1.json", None),
    ],
)
def test_plane_from_name(name, plane):
    assert z2pack.plane_from_name(name) == plane


def test_wanniertools_wt_out_skips_chern_block_and_reads_wcc_files():
    assert wanniertools.read_wt_out(REFS / "mp-2001" / "WT.out") == [0, 1, 0, 1, 0, 1]
    plane = wanniertools.read_wcc_file(REFS / "mp-2001" / "wanniercenter3D_Z2_2.dat")
    assert plane.wcc.shape == (11, 2) and plane.z2 == 1 and plane.kb[-1] == 0.5
    ref = load_references([REFS / "mp-2001"])[0]
    assert (ref.tool, ref.label, ref.errors, ref.warnings) == (
        "wanniertools",
        "STI (1;111)",
        [],
        [],
    )


def test_pyatb_planes_from_input_or_running_log():
    ref = load_references([REFS / "mp-3001"])[0]
    assert ref.tool == "pyatb" and ref.errors == []
    assert ref.planes == (0, 0, 1, 1, 1, 1)
    assert ref.structure is not None and len(ref.wcc) == 6
    assert not (REFS / "mp-3001" / "k3_half" / "Input").exists()
    vectors = pyatb.read_log(REFS / "mp-3001" / "k3_half" / "Out" / "running.log")
    assert pyatb.plane_of(vectors, REFS)[0] == 5


def test_pyatb_full_reciprocal_vector_is_cut_to_half(tmp_path):
    wcc = np.linspace(0, 0.45, 21)
    rows = [f"{i:8d}{w:15.8f}{1 - w:15.8f}\n" for i, w in enumerate(wcc)]
    (tmp_path / "wilson_loop.dat").write_text("".join(rows))
    plane = pyatb.read_wilson_loop(tmp_path / "wilson_loop.dat", extent=1.0)
    assert len(plane.kb) == 11 and plane.kb[-1] == 0.5


def test_tables_csv_and_json():
    csv = by_key(read_table(DATA / "table.csv"))
    assert csv["mp-4002"].label == "STI (1;000)"
    assert csv["mp-4003"].label == "STI (1;001)"
    assert csv["mp-4001"].label == "metal" and csv["mp-4001"].errors == []
    js = by_key(read_table(DATA / "table.json"))
    assert js["SbTe"].key_kind == "formula" and js["SbTe"].planes == (1, 0, 1, 0, 1, 0)
    assert js["mp-4004"].label == "trivial (0;000)"


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"material_id": "a", "z2": "2;000"}, "nu0;nu1nu2nu3"),
        ({"material_id": "a", "k1_0": "1", "k1_half": "0"}, "missing plane"),
        (
            {
                "material_id": "a",
                "k1_0": 1,
                "k1_half": 0,
                "k2_0": 0,
                "k2_half": 0,
                "k3_0": 1,
                "k3_half": 0,
            },
            "inconsistent",
        ),
        ({"material_id": "a", "z2": "1;000", "label": "WTI"}, "disagrees"),
        ({"material_id": "a"}, "neither plane columns"),
        ({"z2": "1;000"}, "neither material_id nor formula"),
        ({"material_id": "a", "k1_0": "x", "z2": "1;000"}, "must be 0 or 1"),
    ],
)
def test_bad_table_rows_are_errors(tmp_path, row, error):
    import json

    (tmp_path / "t.json").write_text(json.dumps([row]))
    (ref,) = read_table(tmp_path / "t.json")
    assert any(error in e for e in ref.errors), ref.errors


def test_odd_wcc_count_and_truncated_files_raise_reader_errors(tmp_path):
    src = (REFS / "mp-1001" / "plane_k1_0.json").read_text()
    (tmp_path / "k1_0.json").write_text(src[: len(src) // 2])
    with pytest.raises(ReaderError, match="not a readable Z2Pack result"):
        z2pack.read_surface(tmp_path / "k1_0.json")
    (tmp_path / "k1_0.msgpack").write_bytes((REFS / "mp-1004" / "k1_0.msgpack").read_bytes()[:-50])
    with pytest.raises(ReaderError):
        z2pack.read_surface(tmp_path / "k1_0.msgpack")
    (tmp_path / "w.dat").write_text("       0     0.1\n       1     0.2\n       2     0.3\n")
    with pytest.raises(ReaderError, match="Kramers"):
        pyatb.read_wilson_loop(tmp_path / "w.dat")
