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


def test_missing_file_is_a_record(tmp_path):
    records = list(iter_source(SourceSpec(kind="files", paths=[str(tmp_path / "nope.cif")])))
    assert records[0].error and "no such file" in records[0].error


def test_demo_ids():
    records = list(iter_source(SourceSpec(kind="demo", paths=["PbTe-Fm-3m"])))
    assert records[0].material_id == "PbTe-Fm-3m" and records[0].meta["category"] == "trivial"
