"""Reading and writing tight-binding Hamiltonians in other codes' formats.

Supported formats:

- ``"deeph"``: a DeepH data directory (hamiltonians.h5, overlaps.h5, lat.dat, ...),
  :func:`read_deeph` / :func:`write_deeph`;
- ``"wannier90"``: a Wannier90 ``seedname_hr.dat`` file, :func:`read_hr` / :func:`write_hr`.

Every reader returns a :class:`~hts_z2.hamiltonian.TightBinding` in the project's
conventions; malformed input raises :class:`HamiltonianFileError` (a ValueError) naming
the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

from hts_z2.hamiltonian.formats.common import HamiltonianFileError
from hts_z2.hamiltonian.formats.deeph import read_deeph, write_deeph
from hts_z2.hamiltonian.formats.wannier90 import HR_SUFFIX, looks_like_hr, read_hr, write_hr
from hts_z2.hamiltonian.tightbinding import TightBinding

FORMATS = {"deeph": "DeepH directory", "wannier90": "Wannier90 seedname_hr.dat"}
_ALIASES = {"deeph": "deeph", "wannier90": "wannier90", "w90": "wannier90", "hr": "wannier90"}
_SUPPORTED = (
    "supported formats: a DeepH directory (hamiltonians.h5, overlaps.h5, lat.dat, "
    "site_positions.dat, element.dat, orbital_types.dat, info.json) or a Wannier90 "
    "seedname_hr.dat file"
)

__all__ = [
    "FORMATS",
    "HamiltonianFileError",
    "detect_format",
    "read_deeph",
    "read_hamiltonian",
    "read_hr",
    "write_deeph",
    "write_hamiltonian",
    "write_hr",
]


def detect_format(path: str | Path) -> str:
    """The format of an existing path ("deeph" or "wannier90"), from its layout."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "hamiltonians.h5").is_file():
            return "deeph"
        raise HamiltonianFileError(path, f"directory without hamiltonians.h5; {_SUPPORTED}")
    if path.name == "hamiltonians.h5":
        return "deeph"
    if path.name.endswith(HR_SUFFIX) or looks_like_hr(path):
        return "wannier90"
    raise HamiltonianFileError(path, f"unrecognized Hamiltonian file; {_SUPPORTED}")


def read_hamiltonian(path: str | Path, **kwargs) -> TightBinding:
    """Read any supported format (detected from the path); keywords go to the reader.

    A directory holding hamiltonians.h5 (or that file itself) is read with
    :func:`read_deeph`; a ``*_hr.dat`` file, or any file with its layout, with
    :func:`read_hr`.
    """
    path = Path(path)
    if detect_format(path) == "deeph":
        return read_deeph(path.parent if path.is_file() else path, **kwargs)
    return read_hr(path, **kwargs)


def write_hamiltonian(tb: TightBinding, path: str | Path, fmt: str | None = None, **kwargs) -> Path:
    """Write ``tb`` as ``fmt`` ("deeph", or "wannier90" / "w90" / "hr").

    Without ``fmt``, a path ending in ``_hr.dat`` is written as Wannier90 and anything
    else as a DeepH directory. Keywords go to the writer.
    """
    path = Path(path)
    if fmt is None:
        fmt = "wannier90" if path.name.endswith(HR_SUFFIX) else "deeph"
    kind = _ALIASES.get(fmt.lower())
    if kind is None:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(_ALIASES)}")
    if kind == "deeph":
        return write_deeph(tb, path, **kwargs)
    return write_hr(tb, path, **kwargs)
