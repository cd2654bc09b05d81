"""Structures from local files: CIF, POSCAR/CONTCAR, extended XYZ and pymatgen JSON.

An unreadable file becomes a record with ``error`` set (stored as ``failed`` with the
reason); reading never raises for a bad file.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from pymatgen.core import Structure

from hts_z2.structures.sources.records import StructureRecord

SUFFIXES = {
    ".cif": "cif",
    ".mcif": "cif",
    ".vasp": "poscar",
    ".poscar": "poscar",
    ".xyz": "extxyz",
    ".extxyz": "extxyz",
    ".json": "json",
}
"""Recognised file suffixes (case-insensitive) and their format."""
POSCAR_NAMES = ("POSCAR", "CONTCAR")


def file_format(path: Path) -> str | None:
    """``"cif"``, ``"poscar"``, ``"extxyz"``, ``"json"`` or None for other files."""
    if path.name.upper().startswith(POSCAR_NAMES):
        return "poscar"
    return SUFFIXES.get(path.suffix.lower())


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, plus the recognised files below named directories (sorted)."""
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from (p for p in sorted(path.rglob("*")) if p.is_file() and file_format(p))
        else:
            yield path


def read_structures(path: Path) -> list[Structure]:
    """All structures in one file (several for multi-frame extended XYZ).

    Raises
    ------
    ValueError
        For an unknown format, an empty file or content that does not parse.
    """
    fmt = file_format(path)
    if fmt is None:
        raise ValueError(f"unsupported file type {path.suffix or path.name!r}")
    try:
        structures = _parse(path, fmt)
    except Exception as err:
        raise ValueError(_explain(fmt, err)) from err
    if not structures:
        raise ValueError("no structure in file")
    return structures


class PlainReadError(ValueError):
    """A reading problem whose message already says what is wrong with the file."""


PROBLEMS = {
    "cif": "no complete cell and atom-site loop (truncated or not a crystal CIF?)",
    "poscar": "element counts, coordinates and lattice lines do not match (truncated or "
              "malformed POSCAR?)",
    "json": "not a pymatgen Structure (a dict, or a list of dicts, with 'lattice' and "
            "'sites')",
    "extxyz": "not a periodic extended XYZ frame (it needs Lattice=\"...\" and pbc)",
}


def _explain(fmt: str, err: Exception) -> str:
    """A reason a person understands, with the parser's own words after it."""
    detail = _short(err)
    if isinstance(err, PlainReadError):
        return detail
    if isinstance(err, UnicodeDecodeError):
        return "not a text file"
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({detail})"
    return f"{PROBLEMS[fmt]} [{type(err).__name__}: {detail}]"


def _parse(path: Path, fmt: str) -> list[Structure]:
    if path.stat().st_size == 0:
        raise PlainReadError("empty file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "cif":
            from pymatgen.io.cif import CifParser

            structures = CifParser(path).parse_structures(primitive=False)
        elif fmt == "poscar":
            structures = [Structure.from_file(path)]
        elif fmt == "json":
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data if isinstance(data, list) else [data]
            structures = [Structure.from_dict(d) for d in items]
        else:
            structures = _read_extxyz(path)
    return structures


def _read_extxyz(path: Path) -> list[Structure]:
    try:
        from ase.io import read
        from pymatgen.io.ase import AseAtomsAdaptor
    except ImportError as err:  # pragma: no cover - ase ships with the dft/workflows extras
        raise ValueError("reading extended XYZ needs ase (pip install ase)") from err
    frames = read(path, index=":", format="extxyz")
    for i, atoms in enumerate(frames):
        if atoms.cell.rank < 3 or not all(atoms.pbc):
            raise PlainReadError(f"no periodic cell in frame {i} (extended XYZ needs "
                             "Lattice=\"...\" with three vectors and pbc=\"T T T\")")
    return [AseAtomsAdaptor.get_structure(atoms) for atoms in frames]


def material_ids(files: list[Path]) -> list[str]:
    """Material ids of ``files`` that cannot collide.

    The id is the file stem (``Bi2Se3`` for ``Bi2Se3.cif``); files named only by their
    format (``POSCAR``, ``CONTCAR``) take their folder too (``Bi2Se3/POSCAR``); and files
    whose ids would still coincide (``A/x.cif``, ``B/x.cif``) take as many parent folders
    as tell them apart (``A/x``, ``B/x``).
    """
    resolved = [Path(os.path.abspath(f)) for f in files]

    def name(path: Path, parents: int) -> str:
        stem = path.stem if path.suffix else path.name
        parts = [*path.parent.parts[len(path.parent.parts) - parents:], stem]
        return "/".join(p for p in parts if p not in ("", "/"))

    depth = [1 if f.name.upper() in POSCAR_NAMES else 0 for f in resolved]
    while True:
        ids = [name(f, d) for f, d in zip(resolved, depth, strict=True)]
        seen: dict[str, list[int]] = {}
        for i, m in enumerate(ids):
            seen.setdefault(m, []).append(i)
        clashes = [i for group in seen.values() if len(group) > 1 for i in group
                   if depth[i] < len(resolved[i].parent.parts)]
        if not clashes:
            return ids
        for i in clashes:
            depth[i] += 1


def iter_files(paths: Iterable[str | Path]) -> Iterator[StructureRecord]:
    """One record per structure in the given files and directories.

    The id is given by :func:`material_ids` (``id-<i>`` for the frames of a multi-frame
    file); a file that cannot be read yields one record with ``error`` set.
    """
    files = list(expand_paths(paths))
    for path, stem in zip(files, material_ids(files), strict=True):
        try:
            if not path.is_file():
                raise ValueError("no such file")
            structures = read_structures(path)
        except Exception as err:
            reason = f"unreadable {file_format(path) or 'file'} {path.name}: {_short(err)}"
            yield StructureRecord(material_id=stem, source="files", locator=str(path), error=reason)
            continue
        for i, structure in enumerate(structures):
            material_id = stem if len(structures) == 1 else f"{stem}-{i}"
            record = StructureRecord(
                material_id=material_id,
                source="files",
                locator=f"{path}" if len(structures) == 1 else f"{path}#{i}",
            )
            _fill(record, structure)
            yield record


def primitive(structure: Structure) -> tuple[Structure, int | None, str | None]:
    """(primitive cell, space-group number, note) of a structure as given in a file.

    A conventional or supercell is screened as its primitive cell (a 15-site conventional
    Bi2Se3 cell is 5 sites: seconds instead of many minutes, and weak indices that refer to
    the primitive lattice); the note says so. Disordered structures are kept as given.
    """
    if not structure.is_ordered:
        return structure, None, None
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        prim = structure.get_primitive_structure(tolerance=0.01)
        number = SpacegroupAnalyzer(prim, symprec=0.01).get_space_group_number()
    except Exception:  # symmetry search failed: screen the cell as given
        return structure, None, None
    if len(prim) < len(structure):
        return prim, number, f"primitive cell of the given {len(structure)}-site cell"
    return structure, number, None


def _fill(record: StructureRecord, structure: Structure) -> None:
    cell, number, note = primitive(structure)
    record.fill_from_structure(cell)
    record.spacegroup = record.spacegroup or number
    if note:
        record.meta["cell"] = note


def load_file(record: StructureRecord) -> None:
    """Fill ``record.structure`` from ``record.locator`` (``path`` or ``path#frame``)."""
    path, _, frame = (record.locator or "").partition("#")
    _fill(record, read_structures(Path(path))[int(frame or 0)])


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]
