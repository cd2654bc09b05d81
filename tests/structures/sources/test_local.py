"""Local files: CIF, POSCAR, extxyz, pymatgen JSON, and malformed files as records."""

import json

from pymatgen.io.cif import CifWriter

from hts_z2.structures.embedded import get_embedded
from hts_z2.structures.sources import SourceSpec, iter_source


def test_formats_and_malformed(tmp_path):
    s = get_embedded("Bi2Se3-R-3m").structure
    (tmp_path / "a.cif").write_text(str(CifWriter(s)))
    s.to(filename=str(tmp_path / "POSCAR"))
    (tmp_path / "c.json").write_text(json.dumps(s.as_dict()))
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(s)
    write(tmp_path / "d.extxyz", [atoms, atoms], format="extxyz")
    (tmp_path / "bad.cif").write_text("data_x\n_cell_length_a oops\n")
    (tmp_path / "notes.txt").write_text("ignored")
    records = list(iter_source(SourceSpec(kind="files", paths=[str(tmp_path)])))
    by_id = {r.material_id: r for r in records}
    poscar = f"{tmp_path.name}/POSCAR"  # a name that only says the format takes its folder
    assert set(by_id) == {"a", poscar, "c", "d-0", "d-1", "bad"}
    for key in ("a", poscar, "c", "d-0", "d-1"):
        assert by_id[key].error is None
        assert by_id[key].structure.composition.reduced_formula == "Bi2Se3"
    assert by_id["bad"].structure is None and "unreadable cif bad.cif" in by_id["bad"].error


def test_files_of_the_same_name_in_different_folders_get_different_ids(tmp_path):
    s = get_embedded("Bi2Se3-R-3m").structure
    for folder in ("A", "B", "x/A"):
        (tmp_path / folder).mkdir(parents=True)
        s.to(filename=str(tmp_path / folder / "POSCAR"))
        (tmp_path / folder / "Bi2Se3.cif").write_text(str(CifWriter(s)))
    records = list(iter_source(SourceSpec(kind="files", paths=[str(tmp_path)])))
    ids = sorted(r.material_id for r in records)
    root = tmp_path.name
    assert ids == sorted([f"{root}/A/POSCAR", "B/POSCAR", "x/A/POSCAR",
                          f"{root}/A/Bi2Se3", "B/Bi2Se3", "x/A/Bi2Se3"])
    again = sorted(r.material_id for r in iter_source(
        SourceSpec(kind="files", paths=[str(tmp_path)])))
    assert again == ids  # deterministic: a re-run finds its results


def test_bad_files_get_reasons_a_person_understands(tmp_path):
    s = get_embedded("Bi2Se3-R-3m").structure
    cif = str(CifWriter(s))
    (tmp_path / "truncated.cif").write_text(cif[: len(cif) // 3])
    lines = s.to(fmt="poscar").splitlines()
    lines[6] = "2 3 4"  # counts that do not match the coordinates
    (tmp_path / "counts.vasp").write_text("\n".join(lines[:9]) + "\n")
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "dict.json").write_text('{"formula": "Bi2Se3"}')
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "nocell.xyz").write_text("2\nProperties=species:S:1:pos:R:3\nBi 0 0 0\nSe 0 0 3\n")
    (tmp_path / "empty.cif").write_text("")
    by_id = {r.material_id: r.error for r in
             iter_source(SourceSpec(kind="files", paths=[str(tmp_path)]))}
    assert "no complete cell and atom-site loop" in by_id["truncated"]
    assert "element counts, coordinates and lattice lines do not match" in by_id["counts"]
    assert "not a pymatgen Structure" in by_id["list"]
    assert "not a pymatgen Structure" in by_id["dict"]
    assert "not valid JSON" in by_id["garbage"]
    assert "no periodic cell in frame 0" in by_id["nocell"]
    assert "empty file" in by_id["empty"]


def test_a_conventional_cell_is_screened_as_its_primitive_cell(tmp_path):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    s = get_embedded("Bi2Se3-R-3m").structure
    conventional = SpacegroupAnalyzer(s).get_conventional_standard_structure()
    assert len(conventional) == 15
    (tmp_path / "Bi2Se3_conv.cif").write_text(str(CifWriter(conventional)))
    [record] = iter_source(SourceSpec(kind="files", paths=[str(tmp_path)]))
    assert len(record.structure) == record.nsites == 5 and record.spacegroup == 166
    assert record.meta["cell"] == "primitive cell of the given 15-site cell"
    from hts_z2.structures.sources import StructureRecord, load_structures

    again = StructureRecord.from_ref(record.to_ref())  # a remote job re-reads the file
    load_structures([again])
    assert len(again.structure) == 5


def test_missing_file_is_a_record(tmp_path):
    records = list(iter_source(SourceSpec(kind="files", paths=[str(tmp_path / "nope.cif")])))
    assert records[0].error and "no such file" in records[0].error


def test_demo_ids():
    records = list(iter_source(SourceSpec(kind="demo", paths=["PbTe-Fm-3m"])))
    assert records[0].material_id == "PbTe-Fm-3m" and records[0].meta["category"] == "trivial"
