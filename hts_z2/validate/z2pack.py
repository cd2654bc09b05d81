"""Z2Pack surface results saved with ``z2pack.io.save`` (JSON or msgpack), read without
importing Z2Pack.

The file is the encoding of a ``SurfaceResult``: ``{"__surface_result__": true, "data":
{"__surface_data__": true, "lines": [...]}, "ctrl_convergence": {...}}``; every line is a
``{"__line_position__": true, "t": ..., "result": {"__line_result__": true, "data": ...,
"ctrl_convergence": {...}}}`` whose data is one of

- ``__wcc_line_data__`` with ``wcc``;
- ``__overlap_line_data__`` with ``overlaps`` (first-principles runs: the ``M_mn`` matrices
  along the line); the Wilson loop is their product and the WCCs its eigenphases / 2 pi;
- ``__eigenstate_line_data__`` with ``eigenstates`` (Hamiltonian models: per k-point the
  occupied states as rows; overlaps ``<u_k|u_k+1>`` between consecutive points).

Complex numbers are ``{"__complex__": true, "real": x, "imag": y}``. The file does not
record the surface function, so the plane comes from the file name (see
:func:`plane_from_name`): the line position ``t`` in [0, 1] covers the halved direction
``k_b = t / 2``.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np

from hts_z2.validate.reference import (
    PLANE_KEYS,
    PlaneWCC,
    ReaderError,
    Reference,
    finish_from_wcc,
    plane_from_wcc,
)

SUFFIXES = (".json", ".msgpack")

_MP_NAME = re.compile(r"(?<![a-z0-9])k([xyz])[_-]?([01])(?![0-9]|\.[0-9])")
"""The Materials-Project workflow's ``kx_0``, ``kx_1`` (``1`` means ``k_x = 1/2``)."""
_NAME = re.compile(
    r"(?<![a-z0-9])k([123xyz])\s*[_=-]?\s*(0\.5|0p5|05|half|1/2|½|pi|0\.0|0)(?![0-9]|\.[0-9])"
)
"""``k1_0``, ``k1_half``, ``k1=0.5``, ``k1_05``, ``k1_0p5``, ``kz_half`` ..."""


def plane_from_name(name: str) -> int | None:
    """Plane index 0..5 encoded in a file or directory name, or None.

    Accepted: ``kx_0`` / ``kx_1`` (``1`` means ``k_x = 1/2``, the Materials-Project Z2Pack
    workflow's ``{kx,ky,kz}_{0,1}_z2run.json``) and ``k1_0``, ``k1_half``, ``k1=0.5``,
    ``k1_05``, ``k1_0p5``, ``kz_half`` ... (axes ``1,2,3`` or ``x,y,z``).
    """
    low = name.lower()
    hits = set()
    for pattern in (_MP_NAME, _NAME):
        for m in pattern.finditer(low):
            axis = "123xyz".index(m.group(1)) % 3
            hits.add(2 * axis + int(m.group(2) not in ("0", "0.0")))
    return hits.pop() if len(hits) == 1 else None


def _complex_hook(obj: dict) -> Any:
    keys = {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if keys.get("__complex__"):
        return complex(keys["real"], keys["imag"])
    return keys


def load_raw(path: Path) -> dict:
    """The decoded file as plain dicts/lists (complex numbers decoded).

    Raises
    ------
    ReaderError for unreadable or truncated files.
    """
    try:
        if path.suffix.lower() == ".msgpack":
            import msgpack

            obj = msgpack.unpackb(
                path.read_bytes(), object_hook=_complex_hook, raw=False, strict_map_key=False
            )
        else:
            obj = json.loads(path.read_text(), object_hook=_complex_hook)
    except ImportError as err:
        raise ReaderError(f"{path}: reading msgpack needs the 'msgpack' package") from err
    except Exception as err:  # truncated / not this format: json, msgpack, unicode errors
        raise ReaderError(f"{path}: not a readable Z2Pack result ({err})") from err
    if not isinstance(obj, dict) or not obj.get("__surface_result__"):
        raise ReaderError(f"{path}: not a Z2Pack surface result (no __surface_result__)")
    return obj


def is_z2pack_file(path: Path) -> bool:
    """Cheap check: a JSON/msgpack file that mentions Z2Pack's surface-result marker."""
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        return False
    return b"__surface_result__" in path.read_bytes()[:256]


def _line_wcc(data: dict, where: str) -> np.ndarray:
    """Sorted WCCs of one line from its encoded line data."""
    if data.get("__wcc_line_data__"):
        return np.sort(np.mod(np.asarray(data["wcc"], dtype=float), 1.0))
    if data.get("__overlap_line_data__"):
        overlaps = [np.asarray(o, dtype=complex) for o in data["overlaps"]]
    elif data.get("__eigenstate_line_data__"):
        states = [np.asarray(e, dtype=complex) for e in data["eigenstates"]]
        overlaps = [a.conj() @ b.T for a, b in itertools.pairwise(states)]
    else:
        raise ReaderError(f"{where}: unknown line data {sorted(data)}")
    if not overlaps or any(o.ndim != 2 or o.shape != overlaps[0].shape for o in overlaps):
        raise ReaderError(f"{where}: overlap matrices missing or of mixed shapes")
    wilson = reduce(np.dot, overlaps)
    return np.sort(np.mod(np.angle(np.linalg.eigvals(wilson)) / (2 * np.pi), 1.0))


def _converged(flags: dict) -> bool | None:
    values: list[bool] = []
    for v in flags.values():
        if v is None:
            continue
        values += [bool(x) for x in v] if isinstance(v, list) else [bool(v)]
    return all(values) if values else None


def read_surface(path: str | Path) -> PlaneWCC:
    """WCCs, largest-gap Z2 and convergence of one saved Z2Pack surface result.

    Raises
    ------
    ReaderError for unreadable, truncated or inconsistent files.
    """
    path = Path(path)
    obj = load_raw(path)
    try:
        lines = obj["data"]["lines"]
        t = np.array([float(line["t"]) for line in lines])
        wcc = [_line_wcc(line["result"]["data"], f"{path} line t={line['t']}") for line in lines]
        flags = [_converged(line["result"].get("ctrl_convergence") or {}) for line in lines]
        flags.append(_converged(obj.get("ctrl_convergence") or {}))
    except (KeyError, TypeError, ValueError, np.linalg.LinAlgError) as err:
        if isinstance(err, ReaderError):
            raise
        raise ReaderError(f"{path}: malformed Z2Pack surface result ({err!r})") from err
    sizes = {len(w) for w in wcc}
    if len(sizes) > 1:
        raise ReaderError(f"{path}: lines have different numbers of WCCs {sorted(sizes)}")
    plane = plane_from_wcc(np.array(wcc), t / 2, path)
    known = [f for f in flags if f is not None]
    plane.converged = all(known) if known else None
    return plane


def read_material(files: list[Path], key: str, source: str) -> Reference:
    """Reference from one material's Z2Pack files (one surface per plane, any names)."""
    ref = Reference(key=key, tool="z2pack", source=source)
    for path in sorted(files):
        p = plane_from_name(path.name)
        if p is None:
            ref.errors.append(
                f"{path}: cannot tell the plane from the name (use e.g. k1_0, k1_half or "
                "kx_0, kx_1); Z2Pack files do not record the surface"
            )
            continue
        if p in ref.wcc:
            ref.errors.append(f"{path}: a second file for plane {PLANE_KEYS[p]}")
            continue
        try:
            ref.wcc[p] = read_surface(path)
        except ReaderError as err:
            ref.errors.append(str(err))
    if not ref.errors:
        finish_from_wcc(ref)
    return ref
