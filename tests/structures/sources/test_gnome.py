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
