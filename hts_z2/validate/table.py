"""Plain tables of reference results (CSV, or JSON: a list of objects or ``{"rows": [...]}``).

Columns: ``material_id`` (or ``formula``), then either the six plane values
``k1_0, k1_half, k2_0, k2_half, k3_0, k3_half`` or one ``z2`` column written
``nu0;nu1nu2nu3`` (e.g. ``1;000``), and an optional ``label`` (``STI``, ``WTI``,
``trivial``, ``metal``, ``undefined`` or a full ``"STI (1;000)"``). A row with label
``metal`` (or ``undefined``) needs no indices. Each row becomes one reference; a bad row
becomes a reference with errors.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hts_z2.validate.reference import (
    PLANE_KEYS,
    ReaderError,
    Reference,
    class_of,
    parse_indices,
    set_indices,
    set_planes,
)


def _rows(path: Path) -> list[dict]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ReaderError(f"{path}: not valid JSON ({err})") from err
        if isinstance(data, dict) and isinstance(data.get("rows"), list):
            data = data["rows"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ReaderError(f"{path}: a JSON table is a list of objects (one per material)")
        return data
    try:
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh))
    except (csv.Error, UnicodeDecodeError) as err:
        raise ReaderError(f"{path}: not a readable CSV table ({err})") from err


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _plane_value(value, column: str) -> int | None:
    text = _text(value)
    if text == "":
        return None
    if text not in ("0", "1"):
        raise ValueError(f"column {column} must be 0 or 1, got {text!r}")
    return int(text)


def row_reference(row: dict, source: str) -> Reference:
    """One table row as a reference (errors recorded, never raised)."""
    ident, formula = _text(row.get("material_id")), _text(row.get("formula"))
    ref = Reference(
        key=ident or formula,
        key_kind="material_id" if ident else "formula",
        tool="table",
        source=source,
    )
    if not ref.key:
        ref.errors.append("row has neither material_id nor formula")
        return ref
    label = _text(row.get("label"))
    has_planes = any(_text(row.get(k)) for k in PLANE_KEYS)
    z2 = _text(row.get("z2"))
    try:
        planes = [_plane_value(row.get(k), k) for k in PLANE_KEYS]
        given = parse_indices(z2) if z2 else None
    except ValueError as err:
        ref.errors.append(str(err))
        return ref
    if has_planes:
        set_planes(ref, planes)
        if given is not None and not ref.errors and (ref.nu0, ref.nu) != given:
            ref.errors.append(f"z2 column {z2} disagrees with the plane columns {planes}")
    elif given is not None:
        set_indices(ref, *given)
    elif label and label.split()[0] in ("metal", "undefined"):
        ref.label = class_of(label)
    else:
        ref.errors.append("row has neither plane columns nor a z2 column (nor label metal)")
        return ref
    if label and not ref.errors and class_of(label) != class_of(ref.label):
        ref.errors.append(f"label {label!r} disagrees with the indices ({ref.label})")
    if label and "(" in label and not ref.errors and label != ref.label:
        ref.errors.append(f"label {label!r} disagrees with the indices ({ref.label})")
    return ref


def read_table(path: str | Path) -> list[Reference]:
    """All rows of a CSV/JSON reference table.

    Raises
    ------
    ReaderError when the file is not a table at all (rows themselves never raise).
    """
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise ReaderError(f"{path}: the table has no rows")
    return [row_reference(row, f"{path}:row {i + 1}") for i, row in enumerate(rows)]
