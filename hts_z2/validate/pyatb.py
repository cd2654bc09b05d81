"""pyatb ``WILSON_LOOP`` runs: ``Out/Wilson_Loop/wilson_loop.dat``, one run per plane.

``Wilson_Loop.print_data`` writes one row per k-string along ``k_vect2``: ``"%8d"`` (the
string index ``0 .. nk2-1``) then ``"%15.8f"`` per occupied band (the Wilson-loop phases
/ 2 pi). The plane is not in that file; it comes from the run's ``Input`` file
(``WILSON_LOOP { k_start ...  k_vect1 ...  k_vect2 ... }``), else from the parameter
lines of ``Out/running.log`` (`` >> k_start  : 0.0000 0.0000 0.5000``), else from the
run directory's name (``k3_half`` ...). ``k_vect1`` is the integration direction; the
strings run from ``k_start`` along ``k_vect2``, which should span half a reciprocal vector
(a full one is cut to its first half). Z2 is the largest-gap count of the WCCs.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from hts_z2.validate.reference import (
    PlaneWCC,
    ReaderError,
    Reference,
    finish_from_wcc,
    plane_from_wcc,
)
from hts_z2.validate.z2pack import plane_from_name

WILSON_FILE = Path("Out") / "Wilson_Loop" / "wilson_loop.dat"
_VECTORS = ("k_start", "k_vect1", "k_vect2")


def find_runs(directory: Path) -> list[Path]:
    """Run directories holding ``Out/Wilson_Loop/wilson_loop.dat``: ``directory`` itself
    or its immediate subdirectories."""
    runs = [directory] if (directory / WILSON_FILE).is_file() else []
    subs = sorted(p for p in directory.iterdir() if p.is_dir())
    return runs + [p for p in subs if (p / WILSON_FILE).is_file()]


def _vectors(pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    out = {}
    for key, value in pairs:
        if key in _VECTORS:
            try:
                out[key] = np.array([float(v) for v in value.split()[:3]])
            except ValueError:
                continue
    return out


def read_input(path: Path) -> dict[str, np.ndarray]:
    """``k_start, k_vect1, k_vect2`` of the ``WILSON_LOOP`` block of a pyatb ``Input``."""
    text = re.sub(r"#.*", "", path.read_text(errors="replace"))
    m = re.search(r"WILSON_LOOP\s*\{([^}]*)\}", text)
    if m is None:
        return {}
    pairs = [tuple(line.split(None, 1)) for line in m.group(1).splitlines() if line.strip()]
    return _vectors([p for p in pairs if len(p) == 2])  # type: ignore[misc]


def read_log(path: Path) -> dict[str, np.ndarray]:
    """The same vectors from the last parameter block of ``Out/running.log``."""
    pairs = re.findall(r">>\s*(k_\w+)\s*:\s*([-\d.eE+ ]+)", path.read_text(errors="replace"))
    return _vectors(pairs)


def plane_of(vectors: dict[str, np.ndarray], where: Path) -> tuple[int, float, float]:
    """(plane index, halved axis, extent of ``k_vect2`` on it) from the run's vectors."""
    start, v1, v2 = (vectors[k] for k in _VECTORS)
    fixed = [i for i in range(3) if abs(v1[i]) < 1e-9 and abs(v2[i]) < 1e-9]
    moving = [i for i in range(3) if abs(v2[i]) > 1e-9]
    value = float(np.mod(start[fixed[0]], 1.0)) if len(fixed) == 1 else -1.0
    on_trim = min(value, abs(1 - value)) < 1e-6 or abs(value - 0.5) < 1e-6
    if len(fixed) != 1 or len(moving) != 1 or not on_trim:
        raise ReaderError(
            f"{where}: k_start {start.tolist()}, k_vect1 {v1.tolist()}, k_vect2 {v2.tolist()} "
            "is not one of the six TRIM planes"
        )
    half = abs(value - 0.5) < 1e-6
    return 2 * fixed[0] + int(half), moving[0], abs(float(v2[moving[0]]))


def read_wilson_loop(path: str | Path, extent: float = 0.5) -> PlaneWCC:
    """WCCs of one plane from ``wilson_loop.dat``; ``extent`` is the length of ``k_vect2``
    in reciprocal-vector units (0.5 for a Z2 run; 1.0 is cut to its first half)."""
    path = Path(path)
    rows = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(v) for v in line.split()])
        except ValueError as err:
            raise ReaderError(f"{path}:{n}: not a number row: {line.strip()[:60]!r}") from err
    widths = {len(r) for r in rows}
    if not rows or len(widths) != 1 or widths.pop() < 2:
        raise ReaderError(f"{path}: empty, or rows of different lengths (truncated?)")
    data = np.array(rows)
    index = data[:, 0]
    if not np.array_equal(index, np.arange(len(data))):
        raise ReaderError(f"{path}: string indices are not 0, 1, 2, ... (truncated or mixed?)")
    kb = index / (len(data) - 1) * extent if len(data) > 1 else index
    keep = kb <= 0.5 + 1e-9
    return plane_from_wcc(data[keep, 1:], kb[keep], path)


def read_material(directory: str | Path, key: str) -> Reference:
    """Reference of one material directory holding one pyatb run per plane."""
    directory = Path(directory)
    ref = Reference(key=key, tool="pyatb", source=str(directory))
    for run in find_runs(directory):
        vectors: dict[str, np.ndarray] = {}
        for path, reader in ((run / "Input", read_input), (run / "Out/running.log", read_log)):
            if len(vectors) < 3 and path.is_file():
                vectors = reader(path)
        try:
            if len(vectors) == 3:
                p, _, extent = plane_of(vectors, run)
            else:
                p, extent = plane_from_name(run.name), 0.5
                if p is None:
                    raise ReaderError(
                        f"{run}: plane unknown (no Input/running.log, name not like k1_0)"
                    )
            if p in ref.wcc:
                raise ReaderError(f"{run}: a second run for plane {p + 1} of 6")
            ref.wcc[p] = read_wilson_loop(run / WILSON_FILE, extent)
        except ReaderError as err:
            ref.errors.append(str(err))
    if not ref.wcc and not ref.errors:
        ref.errors.append(f"{directory}: no Out/Wilson_Loop/wilson_loop.dat")
    if not ref.errors:
        finish_from_wcc(ref)
    return ref
