"""Bad reference input: reported per entry, never a crash, never counted as agreement."""

import shutil

from validate_paths import DATA, REFS

from hts_z2.validate import compare, load_references


def copy(name, tmp_path):
    return shutil.copytree(REFS / name, tmp_path / name)


def only(refs, docs):
    entries, summary = compare(refs, docs)
    assert summary.n_agree_full == 0 and summary.n_agree_nu0 == 0
    assert sum(map(sum, (r.values() for r in summary.confusion.values()))) == 0
    return entries


def test_truncated_wcc_file(tmp_path, docs):
    d = copy("mp-2001", tmp_path)
    lines = (d / "wanniercenter3D_Z2_3.dat").read_text().splitlines(keepends=True)
    (d / "wanniercenter3D_Z2_3.dat").write_text("".join(lines[:-4]))
    (e,) = only(load_references([d]), docs)
    assert any("different numbers of k rows" in m for m in e.errors), e.errors


def test_wt_out_with_missing_planes_and_no_wcc_files(tmp_path, docs):
    d = tmp_path / "mp-2001"
    d.mkdir()
    text = (REFS / "mp-2001" / "WT.out").read_text().splitlines(keepends=True)
    (d / "WT.out").write_text("".join(text[:-4]))
    (e,) = only(load_references([d]), docs)
    assert any("missing plane(s): k2_half, k3_0, k3_half" in m for m in e.errors), e.errors


def test_missing_z2pack_plane_and_unnamed_file(tmp_path, docs):
    d = copy("mp-1001", tmp_path)
    (d / "plane_k2_half.json").rename(d / "surface_4.json")
    (e,) = only(load_references([d]), docs)
    assert any("cannot tell the plane" in m for m in e.errors)
    (d / "surface_4.json").unlink()
    (e,) = only(load_references([d]), docs)
    assert e.errors == ["missing plane(s): k2_half"]


def test_mixed_formats_in_one_material_directory(tmp_path, docs):
    d = copy("mp-1001", tmp_path)
    shutil.copy(REFS / "mp-2001" / "WT.out", d / "WT.out")
    (e,) = only(load_references([d]), docs)
    assert "mixed formats" in e.errors[0]


def test_file_of_another_format_among_z2pack_files(tmp_path, docs):
    d = copy("mp-1004", tmp_path)
    (d / "k1_0.msgpack").write_bytes(b"\x81\xb2__surface_result__\xc3garbage")
    (e,) = only(load_references([d]), docs)
    assert any("k1_0.msgpack" in m for m in e.errors), e.errors


def test_duplicate_materials(tmp_path, docs):
    (tmp_path / "t.csv").write_text("material_id,z2\nmp-1001,1;000\n")
    entries = only(load_references([REFS / "mp-1001", tmp_path / "t.csv"]), docs)
    assert all("duplicate: 2 references for mp-1001" in e.errors[-1] for e in entries)


def test_unknown_ids_missing_paths_and_unreadable_tables(tmp_path, docs):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    (tmp_path / "t.csv").write_text("material_id,z2\nmp-0000,1;000\n")
    paths = [
        tmp_path / "bad.json",
        tmp_path / "notes.txt",
        tmp_path / "nope",
        tmp_path / "t.csv",
        REFS / "mp-1002" / "kx_0_z2run.json",
    ]
    entries = only(load_references(paths), docs)
    assert [len(e.errors) for e in entries] == [1] * 5
    assert "unknown material id 'mp-0000'" in entries[3].errors[0]
    assert "six planes" in entries[4].errors[0]
    (e,) = only(load_references([tmp_path / "empty"]), docs)
    assert "no Z2Pack, WannierTools or pyatb output" in e.errors[0]


def test_reference_structure_of_another_material(tmp_path, docs):
    d = copy("mp-3001", tmp_path)
    shutil.copy(REFS / "trivial-run" / "POSCAR", d / "POSCAR")
    (e,) = only(load_references([d]), docs)
    assert "not the stored structure of mp-3001" in e.errors[0]


def test_table_inside_directory_with_mapping(tmp_path, docs):
    d = tmp_path / "runs"
    shutil.copytree(REFS / "mp-1002", d / "SnTe-wannier")
    (d / "mapping.json").write_text('{"SnTe-wannier": "mp-1002"}')
    shutil.copy(DATA / "table.csv", d / "table.csv")
    entries, summary = compare(load_references([d]), docs)
    assert entries[0].reference.key == "mp-1002" and entries[0].agree_full
    assert summary.n_reference == 4
