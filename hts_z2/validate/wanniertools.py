"""WannierTools ``Z2_3D_calc`` outputs: the Z2 lines in ``WT.out`` and the WCC files.

``Z2_3D_adaptive`` (``src/wanniercenter_adaptive.f90``) prints, list-directed, ::

     # z2 number for 6 planes
     k1=0.0, k2-k3 plane:            1
     ...
     k3=0.5, k1-k2 plane:            0

(a ``# Chern number for 6 planes`` block has the same line format and is skipped) and
writes ``wanniercenter3D_Z2_1.dat`` ... ``_6.dat`` in the same plane order: per occupied
band a block of ``'(10000f16.8)'`` rows ``k, wcc`` with ``k`` in [0, 1] along half a
reciprocal vector, each block closed by a blank line. The older ``Z2_3D`` writes one
``wanniercenter3D_Z2.dat`` whose rows are ``k`` in [0, 1/2] and the six planes' WCCs.
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

_Z2_HEADER = "# z2 number for 6 planes"
_PLANE_LINE = re.compile(r"^\s*k([123])=(0\.0|0\.5),\s*k\d-k\d plane:\s*(\S+)\s*$")
WCC_FILES = tuple(f"wanniercenter3D_Z2_{p}.dat" for p in range(1, 7))
COMBINED = "wanniercenter3D_Z2.dat"


def is_wanniertools_dir(directory: Path) -> bool:
    """The directory holds a ``WT.out`` or WannierTools Z2 WCC files."""
    names = {p.name for p in directory.iterdir()}
    return "WT.out" in names or COMBINED in names or bool(names & set(WCC_FILES))


def read_wt_out(path: str | Path) -> list[int | None]:
    """Six plane values from the last Z2 block of ``WT.out`` (None where missing).

    Raises
    ------
    ReaderError when the file has no Z2 block or a value is not 0 or 1.
    """
    path = Path(path)
    lines = path.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == _Z2_HEADER]
    if not starts:
        raise ReaderError(f"{path}: no '{_Z2_HEADER}' block (was Z2_3D_calc run?)")
    planes: list[int | None] = [None] * 6
    for line in lines[starts[-1] + 1 : starts[-1] + 7]:
        m = _PLANE_LINE.match(line)
        if m is None:
            break
        p = 2 * (int(m.group(1)) - 1) + (m.group(2) == "0.5")
        if m.group(3) not in ("0", "1"):
            raise ReaderError(f"{path}: Z2 of plane {line.split(',')[0].strip()} is {m.group(3)}")
        planes[p] = int(m.group(3))
    return planes


def _blocks(path: Path) -> list[np.ndarray]:
    """Numeric row blocks separated by blank lines."""
    blocks: list[list[list[float]]] = [[]]
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            if blocks[-1]:
                blocks.append([])
            continue
        try:
            blocks[-1].append([float(v) for v in line.split()])
        except ValueError as err:
            raise ReaderError(f"{path}:{n}: not a number row: {line.strip()[:60]!r}") from err
    blocks = [b for b in blocks if b]
    widths = {len(row) for b in blocks for row in b}
    if not blocks or len(widths) != 1:
        raise ReaderError(f"{path}: empty, or rows of different lengths {sorted(widths)}")
    sizes = {len(b) for b in blocks}
    if len(sizes) != 1:
        raise ReaderError(
            f"{path}: band blocks have different numbers of k rows {sorted(sizes)} (truncated?)"
        )
    return [np.array(b) for b in blocks]


def _plane(k: np.ndarray, wcc: np.ndarray, path: Path) -> PlaneWCC:
    """``k`` [n] and ``wcc`` [n_bands, n] -> a plane; ``k`` in [0, 1] is halved."""
    kb = k / 2 if k.max() > 0.75 else k
    return plane_from_wcc(wcc.T, kb, path)


def read_wcc_file(path: str | Path) -> PlaneWCC:
    """WCCs of one plane from ``wanniercenter3D_Z2_<n>.dat``."""
    path = Path(path)
    blocks = _blocks(path)
    if blocks[0].shape[1] != 2:
        raise ReaderError(f"{path}: expected rows 'k wcc', got {blocks[0].shape[1]} columns")
    k = blocks[0][:, 0]
    if any(not np.allclose(b[:, 0], k) for b in blocks):
        raise ReaderError(f"{path}: band blocks use different k values")
    return _plane(k, np.array([b[:, 1] for b in blocks]), path)


def read_combined(path: str | Path) -> list[PlaneWCC]:
    """Six planes from the older ``wanniercenter3D_Z2.dat`` (columns k + six planes)."""
    path = Path(path)
    blocks = _blocks(path)
    if blocks[0].shape[1] != 7:
        raise ReaderError(f"{path}: expected 7 columns (k, six planes)")
    k = blocks[0][:, 0]
    return [_plane(k, np.array([b[:, 1 + p] for b in blocks]), path) for p in range(6)]


def read_material(directory: str | Path, key: str) -> Reference:
    """Reference of one material directory (``WT.out`` and/or the WCC files)."""
    directory = Path(directory)
    ref = Reference(key=key, tool="wanniertools", source=str(directory))
    stated = None
    if (directory / "WT.out").is_file():
        try:
            stated = read_wt_out(directory / "WT.out")
        except ReaderError as err:
            ref.errors.append(str(err))
    for p, name in enumerate(WCC_FILES):
        if (directory / name).is_file():
            try:
                ref.wcc[p] = read_wcc_file(directory / name)
            except ReaderError as err:
                ref.errors.append(str(err))
    if not ref.wcc and (directory / COMBINED).is_file():
        try:
            ref.wcc = dict(enumerate(read_combined(directory / COMBINED)))
        except ReaderError as err:
            ref.errors.append(str(err))
    if stated is None and not ref.wcc and not ref.errors:
        ref.errors.append(f"{directory}: neither WT.out nor WCC files")
    if not ref.errors:
        finish_from_wcc(ref, stated)
    return ref
