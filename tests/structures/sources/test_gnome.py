"""GNoME release reader on a tiny directory in the release layout built from the demo set."""

import csv
import zipfile

import pytest
from pymatgen.io.cif import CifWriter

from hts_z2.structures.embedded import load_embedded
from hts_z2.structures.sources import SourceSpec, iter_source, load_structures
from hts_z2.structures.sources.gnome import GnomeError, check_layout

COLUMNS = [
    "", "MaterialId", "Reduced Formula", "Elements", "NSites", "Space Group Number",
    "Decomposition Energy Per Atom", "Bandgap", "Dimensionality Cheon",
]


def make_release(root, entries, broken=()):
    """Write stable_materials_summary.csv and by_id.zip for ``entries``."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "stable_materials_summary.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i, e in enumerate(entries):
            els = sorted({el.symbol for el in e.structure.composition.elements})
            w.writerow([i, f"g{i:04x}", e.formula, repr(els), len(e.structure), e.spacegroup,
                        "-0.01", "0.5", "3D"])
    with zipfile.ZipFile(root / "by_id.zip", "w") as zf:
        for i, e in enumerate(entries):
            text = "garbage" if e.id in broken else str(CifWriter(e.structure))
            zf.writestr(f"by_id/g{i:04x}.CIF", text)
    return root


@pytest.fixture
def release(tmp_path):
    entries = [e for e in load_embedded() if e.id in ("Bi2Se3-R-3m", "PbTe-Fm-3m", "Au-Fm-3m")]
    return make_release(tmp_path / "gnome", entries, broken=("Au-Fm-3m",))


def test_streams_metadata_then_loads_cifs(release):
    records = list(iter_source(SourceSpec(kind="gnome", paths=[str(release)])))
    assert [r.material_id for r in records] == ["g0000", "g0001", "g0002"]
    assert all(r.structure is None for r in records)
    bi2se3 = next(r for r in records if r.formula == "Bi2Se3")
    assert bi2se3.elements == ["Bi", "Se"] and bi2se3.nsites == 5 and bi2se3.spacegroup == 166
    assert bi2se3.meta["decomposition_energy_per_atom"] == -0.01
    load_structures(records)
    assert bi2se3.structure is not None and len(bi2se3.structure) == 5
    au = next(r for r in records if r.formula == "Au")
    assert au.structure is None and "unreadable CIF" in au.error


def test_ids_and_limit(release):
    spec = SourceSpec(kind="gnome", paths=[str(release)], ids=["g0001"])
    assert [r.material_id for r in iter_source(spec)] == ["g0001"]
    spec = SourceSpec(kind="gnome", paths=[str(release)], limit=2)
    assert len(list(iter_source(spec))) == 2


def test_ref_round_trip_rereads_from_zip(release):
    record = next(iter_source(SourceSpec(kind="gnome", paths=[str(release)])))
    from hts_z2.structures.sources import StructureRecord

    again = StructureRecord.from_ref(record.to_ref())
    assert again.structure is None
    load_structures([again])
    assert again.structure.composition.reduced_formula == "Bi2Se3"


def test_missing_layout(tmp_path):
    with pytest.raises(GnomeError, match="missing"):
        check_layout(tmp_path)


# Verbatim rows of data/mp_materials_summary.csv in the public GNoME repository
# (google-deepmind/materials_discovery): pandas' unnamed index column, NSites as "4.0".
PANDAS_ROWS = """\
,Composition,MaterialId,Reduced Formula,Elements,NSites,Corrected Energy,\
Decomposition Energy Per Atom All,Decomposition Energy Per Atom MP,Directory
27819,Ac1Au2Bi1,mp-866016,AcBiAu2,"['Ac', 'Bi', 'Au']",4.0,-17.19810928,\
0.044575813607051984,0.0,
11752,Ag8Bi4O12,mp-23558,Ag2BiO3,"['Ag', 'Bi', 'O']",24.0,-111.45064122,\
0.0019766885446701465,0.0,
"""


def test_release_rows_written_by_pandas(tmp_path):
    from pymatgen.core import Lattice, Structure

    root = tmp_path / "gnome"
    root.mkdir()
    text = PANDAS_ROWS.replace("\\\n", "")
    header, *rows = text.splitlines()
    header += ",Space Group Number,Bandgap"  # the release summary's columns, pandas-style
    rows = [rows[0] + ",225.0,inf", rows[1] + ",,nan"]
    (root / "stable_materials_summary.csv").write_text("\n".join([header, *rows]) + "\n")
    heusler = Structure(Lattice([[0, 3.4, 3.4], [3.4, 0, 3.4], [3.4, 3.4, 0]]),
                        ["Ac", "Bi", "Au", "Au"],
                        [[0, 0, 0], [0.5, 0.5, 0.5], [0.25] * 3, [0.75] * 3])
    with zipfile.ZipFile(root / "by_id.zip", "w") as zf:
        zf.writestr("by_id/mp-866016.CIF", str(CifWriter(heusler)))
    records = list(iter_source(SourceSpec(kind="gnome", paths=[str(root)])))
    assert [r.error for r in records] == [None, None]
    acbiau2, ag2bio3 = records
    assert acbiau2.material_id == "mp-866016" and acbiau2.nsites == 4
    assert acbiau2.elements == ["Ac", "Au", "Bi"] and acbiau2.spacegroup == 225
    assert acbiau2.meta["bandgap"] is None  # "inf": unknown, not infinite
    assert ag2bio3.nsites == 24 and ag2bio3.spacegroup is None
    load_structures([acbiau2])
    assert len(acbiau2.structure) == 4


def test_a_fractional_site_count_is_a_clear_reason(tmp_path):
    root = tmp_path / "gnome"
    root.mkdir()
    (root / "stable_materials_summary.csv").write_text(
        ",MaterialId,Elements,NSites\n0,x1,\"['Bi']\",2.5\n")
    with zipfile.ZipFile(root / "by_id.zip", "w"):
        pass
    [record] = iter_source(SourceSpec(kind="gnome", paths=[str(root)]))
    assert "NSites is not a positive whole number: '2.5'" in record.error
