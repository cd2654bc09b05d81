"""The public GNoME release read from a local directory, streamed.

Layout (as downloaded from the GNoME release)::

    <dir>/stable_materials_summary.csv   MaterialId, Reduced Formula, Elements, NSites, ...
    <dir>/by_id.zip                      by_id/<MaterialId>.CIF

The summary is the CSV pandas writes (a leading unnamed index column, whole numbers such
as NSites possibly as "4.0", "inf" or empty for missing numbers). It is read row by row,
and CIFs are read from the zip one at a time, only for the records that pass the metadata
filter; nothing loads the whole release into memory.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pymatgen.core import Structure

from hts_z2.structures.sources.records import StructureRecord

SUMMARY = "stable_materials_summary.csv"
ARCHIVE = "by_id.zip"
NUMERIC_COLUMNS = {
    "Decomposition Energy Per Atom": "decomposition_energy_per_atom",
    "Bandgap": "bandgap",
}


class GnomeError(ValueError):
    """The directory is not a GNoME release."""


def check_layout(root: str | Path) -> tuple[Path, Path]:
    """Paths of the summary CSV and the CIF archive; raises :class:`GnomeError` if absent."""
    root = Path(root)
    summary, archive = root / SUMMARY, root / ARCHIVE
    missing = [p.name for p in (summary, archive) if not p.is_file()]
    if missing:
        raise GnomeError(f"{root} is not a GNoME release directory: missing {', '.join(missing)}")
    return summary, archive


def member_name(material_id: str) -> str:
    """Name of a material's CIF inside ``by_id.zip``."""
    return f"by_id/{material_id}.CIF"


def _elements(text: str) -> list[str]:
    value = ast.literal_eval(text)
    if not isinstance(value, list | tuple):
        raise ValueError(f"Elements is not a list: {text!r}")
    return [str(x) for x in value]


def _number(text: str | None) -> float | None:
    """A finite float, else None (pandas writes missing values as "" and "inf"/"nan")."""
    try:
        value = None if text in (None, "") else float(text)
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _count(text: str, column: str) -> int:
    """A positive integer column that pandas may have written as a float ("4.0")."""
    value = float(text)
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise ValueError(f"{column} is not a positive whole number: {text!r}")
    return int(value)


def row_record(row: dict[str, str], archive: Path) -> StructureRecord:
    """A record (structure not loaded) from one summary row."""
    material_id = row["MaterialId"].strip()
    meta: dict = {key: _number(row.get(col)) for col, key in NUMERIC_COLUMNS.items()}
    if row.get("Dimensionality Cheon"):
        meta["dimensionality_cheon"] = row["Dimensionality Cheon"]
    record = StructureRecord(
        material_id=material_id,
        source="gnome",
        formula=row.get("Reduced Formula") or None,
        locator=f"{archive}::{member_name(material_id)}",
        meta=meta,
    )
    try:
        record.elements = sorted(_elements(row["Elements"]))
        record.nsites = _count(row["NSites"], "NSites")
        sg = row.get("Space Group Number")
        record.spacegroup = _count(sg, "Space Group Number") if sg else None
    except (KeyError, ValueError, SyntaxError) as err:
        record.error = f"bad GNoME summary row: {err}"
    return record


def iter_gnome(root: str | Path, ids: Iterable[str] | None = None) -> Iterator[StructureRecord]:
    """Records of the GNoME summary (structures not loaded; see :func:`load_gnome`).

    Parameters
    ----------
    root : path
        Release directory.
    ids : iterable of str, optional
        Restrict to these material ids.
    """
    summary, archive = check_layout(root)
    wanted = None if ids is None else set(ids)
    with summary.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if wanted is not None and row.get("MaterialId", "").strip() not in wanted:
                continue
            yield row_record(row, archive)


def read_cif(zf: zipfile.ZipFile, member: str) -> Structure:
    """Parse one CIF of the archive."""
    from pymatgen.io.cif import CifParser

    text = zf.read(member).decode("utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(io.StringIO(text)).parse_structures(primitive=False)[0]


def load_gnome(records: Iterable[StructureRecord]) -> None:
    """Fill the structures of GNoME records, opening each archive once.

    A CIF that is missing or does not parse sets the record's ``error`` instead of raising.
    """
    by_archive: dict[str, list[tuple[StructureRecord, str]]] = {}
    for record in records:
        archive, _, member = (record.locator or "").partition("::")
        by_archive.setdefault(archive, []).append((record, member))
    for archive, items in by_archive.items():
        try:
            zf = zipfile.ZipFile(archive)
        except (OSError, zipfile.BadZipFile) as err:
            for record, _ in items:
                record.error = f"cannot open {Path(archive).name}: {err}"
            continue
        with zf:
            for record, member in items:
                try:
                    record.fill_from_structure(read_cif(zf, member))
                except KeyError:
                    record.error = f"{member} not in {Path(archive).name}"
                except Exception as err:
                    record.error = f"unreadable CIF {member}: {str(err)[:300]}"
