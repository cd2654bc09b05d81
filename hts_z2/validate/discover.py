"""Turn the command's REFERENCE paths into :class:`Reference` entries.

A path may be

- a table (``.csv`` / ``.json``, see :mod:`hts_z2.validate.table`);
- a material directory: the outputs of ONE tool (Z2Pack files, WannierTools ``WT.out`` /
  WCC files, or pyatb run directories) plus optionally the structure the tool used
  (``POSCAR``, ``CONTCAR``, ``*.vasp`` or ``*.cif``). Its name is the material id unless
  a mapping file says otherwise;
- a directory of material directories (and tables), with an optional mapping file
  ``mapping.json`` (``{"directory name": "material id"}``) or ``mapping.csv`` (columns
  ``directory,material_id``).

Nothing here raises on bad input: unreadable paths become references with errors.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hts_z2.validate import pyatb, wanniertools, z2pack
from hts_z2.validate.reference import ReaderError, Reference
from hts_z2.validate.table import read_table

MAPPING_FILES = ("mapping.json", "mapping.csv")
STRUCTURE_NAMES = ("POSCAR", "CONTCAR")
STRUCTURE_SUFFIXES = (".vasp", ".cif")
TABLE_SUFFIXES = (".csv", ".json")


def read_mapping(path: Path) -> dict[str, str]:
    """Directory name -> material id from ``mapping.json`` or ``mapping.csv``.

    Raises
    ------
    ReaderError when the file is not such a mapping.
    """
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ReaderError(f"{path}: a JSON mapping is an object {{directory: id}}")
            return {str(k): str(v) for k, v in data.items()}
        with path.open(newline="") as fh:
            return {
                row["directory"].strip(): row["material_id"].strip() for row in csv.DictReader(fh)
            }
    except (OSError, KeyError, AttributeError, ValueError, csv.Error) as err:
        if isinstance(err, ReaderError):
            raise
        raise ReaderError(f"{path}: not a mapping file ({err!r})") from err


def _tools(directory: Path) -> dict[str, object]:
    """The tools whose outputs are in a material directory -> what to read."""
    found: dict[str, object] = {}
    files = [p for p in directory.iterdir() if p.is_file()]
    z2 = [p for p in files if z2pack.is_z2pack_file(p)]
    if z2:
        found["z2pack"] = z2
    if wanniertools.is_wanniertools_dir(directory):
        found["wanniertools"] = directory
    if pyatb.find_runs(directory):
        found["pyatb"] = directory
    return found


def _structure(directory: Path, ref: Reference) -> None:
    candidates = [directory / n for n in STRUCTURE_NAMES if (directory / n).is_file()]
    candidates += sorted(p for p in directory.iterdir() if p.suffix.lower() in STRUCTURE_SUFFIXES)
    if not candidates:
        return
    from pymatgen.core import Structure

    try:
        ref.structure = Structure.from_file(candidates[0])
    except Exception as err:  # pymatgen raises many kinds on malformed files
        ref.errors.append(f"{candidates[0]}: not a readable structure ({err})")


def read_material_dir(directory: Path, key: str) -> Reference:
    """One material directory -> one reference (errors recorded, never raised)."""
    tools = _tools(directory)
    if len(tools) != 1:
        what = ", ".join(tools) if tools else "no Z2Pack, WannierTools or pyatb output"
        msg = f"{directory}: {what}" + (
            " (mixed formats: keep one tool's output per material directory)" if tools else ""
        )
        return Reference(key=key, tool="unknown", source=str(directory), errors=[msg])
    tool, what = next(iter(tools.items()))
    if tool == "z2pack":
        ref = z2pack.read_material(what, key, str(directory))  # type: ignore[arg-type]
    elif tool == "wanniertools":
        ref = wanniertools.read_material(directory, key)
    else:
        ref = pyatb.read_material(directory, key)
    _structure(directory, ref)
    return ref


def _is_material_dir(directory: Path) -> bool:
    return bool(_tools(directory))


def _table(path: Path) -> list[Reference]:
    try:
        return read_table(path)
    except ReaderError as err:
        return [_bad(path, "table", str(err))]


def _bad(path: Path, tool: str, message: str) -> Reference:
    return Reference(key=path.name, tool=tool, source=str(path), errors=[message])


def _mapping(path: Path, names: dict[str, str], out: list[Reference]) -> None:
    try:
        names.update(read_mapping(path))
    except ReaderError as err:
        out.append(_bad(path, "mapping", str(err)))


def _file(path: Path) -> list[Reference]:
    if z2pack.is_z2pack_file(path):
        msg = f"{path}: one Z2Pack surface; give the material directory (six planes)"
        return [_bad(path, "z2pack", msg)]
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _table(path)
    return [_bad(path, "unknown", f"{path}: not a table (.csv/.json) or directory")]


def load_references(paths: list[Path], mapping: Path | None = None) -> list[Reference]:
    """All reference entries found under the given paths, in a stable order."""
    names: dict[str, str] = {}
    out: list[Reference] = []
    if mapping is not None:
        _mapping(mapping, names, out)
    for path in map(Path, paths):
        if not path.exists():
            out.append(_bad(path, "unknown", f"{path}: no such file or directory"))
        elif path.is_file():
            out += _file(path)
        elif _is_material_dir(path):
            out.append(read_material_dir(path, names.get(path.name, path.name)))
        else:
            before = len(out)
            local = dict(names)
            for name in MAPPING_FILES:
                if (path / name).is_file() and mapping is None:
                    _mapping(path / name, local, out)
            for child in sorted(path.iterdir()):
                if child.is_dir():
                    out.append(read_material_dir(child, local.get(child.name, child.name)))
                elif child.suffix.lower() in TABLE_SUFFIXES and child.name not in MAPPING_FILES:
                    out += _table(child)
            if len(out) == before:
                msg = f"{path}: no Z2Pack, WannierTools or pyatb output, and no table"
                out.append(_bad(path, "unknown", msg))
    return out
