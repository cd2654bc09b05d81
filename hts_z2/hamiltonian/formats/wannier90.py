"""Wannier90 ``seedname_hr.dat`` files (real-space Hamiltonian in a Wannier basis).

Layout (Wannier90 ``hamiltonian_write_hr`` in ``src/hamiltonian.F90``; user guide,
"seedname_hr.dat")::

    line 1      header (creation date), free text
    line 2      num_wann
    line 3      nrpts
    next        nrpts Wigner-Seitz degeneracies ndegen(R), 15 per line
    then        nrpts * num_wann**2 lines  "R1 R2 R3  m  n  Re  Im"

The data loop is ``do irpt; do n = 1, num_wann; do m = 1, num_wann`` (R outermost, the
column ``n`` in the middle, the row ``m`` fastest), each line holding the stored
``H_mn(R) = <m, 0|H|n, R>`` with 1-based ``m, n``. Wannier90 itself evaluates
``H(k) = sum_R H_mn(R) exp(i k.R) / ndegen(R)``, i.e. the physical hopping is the stored
value divided by the degeneracy, which is what :func:`read_hr` returns; :func:`write_hr`
writes physical hoppings with ``ndegen = 1`` for every R. With no orbital positions in the
phase this is exactly the project's Bloch convention.

Spinor Wannier functions: Wannier90 >= 2.0 builds spinor projections per projection with
spin up then spin down (``spinors = .true.``), so its native order is interleaved, which is
also the project's ``2*mu + sigma`` order. The default ``spin_order="w90"`` means exactly
that. Files made through the VASP2WANNIER90 v1.2 interface (and tools that expect it) hold
all spin-up functions first: read those with ``spin_order="blocks"``.

The lattice is not part of ``_hr.dat``: give it, or keep ``seedname.win`` (block
``unit_cell_cart``, Angstrom or Bohr) next to the file.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hts_z2 import __version__
from hts_z2.hamiltonian.formats.common import (
    HamiltonianFileError,
    build_model,
    hermitized,
    minus_index,
    require_n_occ,
    spin_permutation,
)
from hts_z2.hamiltonian.tightbinding import TightBinding

BOHR_ANGSTROM = 0.529177210903
"""Bohr radius in Angstrom (CODATA 2018)."""

SPIN_ORDER_ALIASES = {"w90": "interleaved", "interleaved": "interleaved", "blocks": "blocks"}
HR_SUFFIX = "_hr.dat"


def _spin_order(spin_order: str) -> str:
    try:
        return SPIN_ORDER_ALIASES[spin_order]
    except KeyError:
        raise ValueError(
            f"unknown spin_order {spin_order!r}; use one of {', '.join(SPIN_ORDER_ALIASES)}"
        ) from None


# --- reading -----------------------------------------------------------------------------
def _header(path: Path) -> tuple[int, int, np.ndarray, int]:
    """num_wann, nrpts, ndegen [nrpts] and the number of lines before the data block."""
    with path.open() as fh:
        lines: Iterator[str] = iter(fh)
        try:
            next(lines)
            num_wann = int(next(lines).split()[0])
            nrpts = int(next(lines).split()[0])
        except (StopIteration, ValueError, IndexError):
            raise HamiltonianFileError(
                path, "not a Wannier90 _hr.dat file (expected header, num_wann, nrpts lines)"
            ) from None
        if num_wann < 1 or nrpts < 1:
            raise HamiltonianFileError(path, f"num_wann = {num_wann}, nrpts = {nrpts} invalid")
        ndegen: list[int] = []
        n_lines = 3
        try:
            while len(ndegen) < nrpts:
                ndegen += [int(x) for x in next(lines).split()]
                n_lines += 1
        except (StopIteration, ValueError):
            raise HamiltonianFileError(
                path, f"could not read {nrpts} integer degeneracies after line 3"
            ) from None
    if len(ndegen) != nrpts or min(ndegen) < 1:
        raise HamiltonianFileError(
            path, f"expected {nrpts} positive degeneracies, got {len(ndegen)}: check nrpts"
        )
    return num_wann, nrpts, np.array(ndegen, dtype=int), n_lines


def _data(path: Path, skip: int, num_wann: int, nrpts: int) -> np.ndarray:
    """The data lines as [nrpts, num_wann**2, 7] floats, shape-checked."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(path, skiprows=skip, ndmin=2, dtype=float)
    except ValueError as err:
        raise HamiltonianFileError(path, f"malformed data line (truncated file?): {err}") from None
    expected = nrpts * num_wann**2
    if table.shape[1] != 7 or table.shape[0] != expected:
        raise HamiltonianFileError(
            path,
            f"expected nrpts * num_wann^2 = {nrpts} * {num_wann}^2 = {expected} lines of 7 "
            f"columns, found {table.shape[0]} of {table.shape[1]} (truncated file or wrong "
            "num_wann / nrpts?)",
        )
    if not np.all(np.isfinite(table)):
        raise HamiltonianFileError(path, "data contain NaN or infinite values")
    return table.reshape(nrpts, num_wann**2, 7)


def _blocks(path: Path, data: np.ndarray, num_wann: int) -> tuple[np.ndarray, np.ndarray]:
    """R [nrpts, 3] and stored H_mn(R) [nrpts, num_wann, num_wann] from the data lines."""
    ints = data[:, :, :5]
    if not np.array_equal(ints, np.round(ints)):
        raise HamiltonianFileError(path, "R components and orbital indices must be integers")
    ints = np.round(ints).astype(np.int64)
    R = ints[:, 0, :3]
    bad = np.flatnonzero(np.any(ints[:, :, :3] != R[:, None, :], axis=(1, 2)))
    if len(bad):
        raise HamiltonianFileError(
            path,
            f"R changes inside the block of R-point {bad[0] + 1}: each R must have exactly "
            f"num_wann^2 = {num_wann**2} consecutive lines (wrong num_wann?)",
        )
    m, n = ints[:, :, 3] - 1, ints[:, :, 4] - 1
    if m.min() < 0 or n.min() < 0 or m.max() >= num_wann or n.max() >= num_wann:
        raise HamiltonianFileError(path, f"orbital index outside 1..num_wann = {num_wann}")
    flat = m * num_wann + n
    if not np.all(np.sort(flat, axis=1) == np.arange(num_wann**2)):
        raise HamiltonianFileError(path, "some (m, n) pair is missing or repeated for an R")
    if len({tuple(r) for r in R.tolist()}) != len(R):
        raise HamiltonianFileError(path, "an R-vector appears in more than one block")
    H = np.zeros((len(R), num_wann * num_wann), dtype=np.complex128)
    values = data[:, :, 5] + 1j * data[:, :, 6]
    np.put_along_axis(H, flat, values, axis=1)
    return R, H.reshape(len(R), num_wann, num_wann)


def parse_win_lattice(path: str | Path) -> np.ndarray:
    """Lattice [3, 3] (rows are vectors, Angstrom) from the ``unit_cell_cart`` block of a
    Wannier90 ``.win`` file; the optional first block line ``bohr``/``ang`` sets the unit."""
    path = Path(path)
    rows: list[list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.split("!")[0].split("#")[0].strip()
        words = line.lower().split()
        if words[:2] == ["begin", "unit_cell_cart"]:
            rows = []
        elif words[:2] == ["end", "unit_cell_cart"]:
            break
        elif rows is not None and words:
            rows.append(words)
    else:
        raise HamiltonianFileError(path, "no complete 'begin/end unit_cell_cart' block")
    scale = 1.0
    if rows and len(rows[0]) == 1:
        unit = rows.pop(0)[0]
        if unit not in ("bohr", "ang", "angstrom"):
            raise HamiltonianFileError(path, f"unknown unit_cell_cart unit {unit!r}")
        scale = BOHR_ANGSTROM if unit == "bohr" else 1.0
    try:
        lattice = np.array(rows, dtype=float)
    except ValueError:
        raise HamiltonianFileError(path, "unit_cell_cart must hold 3 rows of 3 numbers") from None
    if lattice.shape != (3, 3):
        raise HamiltonianFileError(path, f"unit_cell_cart has shape {lattice.shape}, not (3, 3)")
    return lattice * scale


def _seed_win(path: Path) -> Path:
    name = path.name
    seed = name[: -len(HR_SUFFIX)] if name.endswith(HR_SUFFIX) else path.stem
    return path.with_name(f"{seed}.win")


def _lattice(path: Path, lattice: np.ndarray | str | Path | None) -> np.ndarray:
    if isinstance(lattice, str | Path):
        return parse_win_lattice(lattice)
    if lattice is not None:
        return np.asarray(lattice, dtype=float)
    win = _seed_win(path)
    if not win.is_file():
        raise HamiltonianFileError(
            path,
            f"_hr.dat holds no lattice: pass lattice=[3x3 rows in Angstrom] (or a .win path), "
            f"or provide {win.name} with a unit_cell_cart block",
        )
    return parse_win_lattice(win)


def read_hr(
    path: str | Path,
    lattice: np.ndarray | str | Path | None = None,
    n_occ: int | None = None,
    spinful: bool = True,
    spin_order: str = "w90",
) -> TightBinding:
    """Read a Wannier90 ``_hr.dat`` file as a :class:`TightBinding` (orthogonal basis).

    Parameters
    ----------
    path : the ``seedname_hr.dat`` file.
    lattice : [3, 3] rows are lattice vectors (Angstrom), or a ``.win`` path; default:
        ``seedname.win`` next to ``path``.
    n_occ : number of occupied bands (required: the file does not store it).
    spinful : the Wannier functions are spinors (``num_wann`` even).
    spin_order : "w90" (default, = "interleaved": Wannier90's own spinor order, which is
        the project's) or "blocks" (all spin-up functions first, e.g. VASP2WANNIER90 v1).

    Returns
    -------
    TightBinding with physical ``H(R) = stored H_mn(R) / ndegen(R)`` [nrpts, n, n].

    Raises
    ------
    HamiltonianFileError (a ValueError) for malformed or non-Hermitian files, R-sets not
    closed under ``-R``; ValueError when ``n_occ`` is missing.
    """
    path = Path(path)
    order = _spin_order(spin_order)
    num_wann, nrpts, ndegen, skip = _header(path)
    R, H = _blocks(path, _data(path, skip, num_wann, nrpts), num_wann)
    H = hermitized("H", H / ndegen[:, None, None], minus_index(R, path), path)
    if spinful:
        if num_wann % 2:
            raise HamiltonianFileError(path, f"spinful=True needs an even num_wann, got {num_wann}")
        p = spin_permutation(num_wann // 2, order)
        H = H[:, p][:, :, p]
    lat = _lattice(path, lattice)
    n_occ = require_n_occ(n_occ, path, num_wann)
    return build_model(path, lambda: TightBinding(lat, R, H, n_occ=n_occ, spinful=spinful))


def looks_like_hr(path: str | Path) -> bool:
    """True when the first lines of ``path`` have the ``_hr.dat`` layout."""
    try:
        with Path(path).open() as fh:
            head = [fh.readline() for _ in range(4)]
        num_wann, nrpts = int(head[1]), int(head[2])
        [int(x) for x in head[3].split()]
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return num_wann > 0 and nrpts > 0 and bool(head[3].split())


# --- writing -----------------------------------------------------------------------------
def _int_width(values: np.ndarray) -> int:
    return max(5, len(str(int(np.max(np.abs(values), initial=0)))) + 2)


def write_hr(
    tb: TightBinding,
    path: str | Path,
    header: str | None = None,
    spin_order: str = "w90",
) -> Path:
    """Write ``tb`` as a Wannier90 ``_hr.dat`` file (``ndegen = 1``, Wannier90 loop order).

    Values are written with 12 decimals (Wannier90 itself writes 6), whitespace separated,
    so Fortran list-directed readers (WannierTools, Z2Pack via tbmodels) accept them.

    Parameters
    ----------
    tb : an orthogonal model (``tb.S is None``): ``_hr.dat`` has no overlap.
    header : first line (default: creator and date); newlines are replaced by spaces.
    spin_order : file spin order for spinful models, as in :func:`read_hr`.
    """
    if tb.S is not None:
        raise ValueError(
            "a Wannier90 _hr.dat file has no overlap matrix: orthogonalize the model "
            "(tb.S is not None) or write the DeepH format instead"
        )
    order = _spin_order(spin_order)
    H = tb.H
    if tb.spinful:
        inv = np.argsort(spin_permutation(tb.n_bands // 2, order))
        H = H[:, inv][:, :, inv]
    n = tb.n_bands
    if header is None:
        stamp = datetime.datetime.now().strftime("%d%b%Y at %H:%M:%S")
        header = f"written by hts-z2 {__version__} on {stamp}"
    path = Path(path)
    wr, wi = _int_width(tb.R), _int_width(np.array([n]))
    row = f"{{:{wr}d}}{{:{wr}d}}{{:{wr}d}}{{:{wi}d}}{{:{wi}d}}{{:20.12f}}{{:20.12f}}\n"
    ndegen = np.ones(len(tb.R), dtype=int)
    with path.open("w") as fh:
        fh.write(" ".join(header.splitlines()) + "\n")
        fh.write(f"{n:12d}\n{len(tb.R):12d}\n")
        for start in range(0, len(ndegen), 15):
            fh.write("".join(f"{d:5d}" for d in ndegen[start : start + 15]) + "\n")
        m, col = np.meshgrid(np.arange(n), np.arange(n), indexing="xy")
        m, col = m.ravel(), col.ravel()
        for R, block in zip(tb.R.tolist(), H, strict=True):
            values = block[m, col]
            fh.writelines(
                row.format(*R, i + 1, j + 1, v.real, v.imag)
                for i, j, v in zip(m.tolist(), col.tolist(), values.tolist(), strict=True)
            )
    return path
