"""DeepH directory layout: keys, structure files, block reading and orbital reordering.

Shared by the reader and the writer in :mod:`.deeph` (see there for the file layout).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from hts_z2.hamiltonian.formats.common import HamiltonianFileError
from hts_z2.hamiltonian.formats.orbital_order import basis_permutation

_KEY = re.compile(r"^\[\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]$")

Blocks = dict[tuple[int, int, int], np.ndarray]


@dataclass(frozen=True)
class DeepHStructure:
    """Structure and basis of a DeepH directory.

    Attributes
    ----------
    lattice : [3, 3] rows are lattice vectors (Angstrom).
    positions : [n_atoms, 3] fractional.
    numbers : [n_atoms] atomic numbers.
    shells : per atom, the l of each shell.
    """

    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    shells: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> np.ndarray:
        """[n_atoms] spatial orbitals per atom."""
        return np.array([sum(2 * l + 1 for l in s) for s in self.shells], dtype=int)


# --- keys and small files ----------------------------------------------------------------
def format_key(R: Sequence[int], i: int, j: int) -> str:
    """Key of the block between atoms ``i`` and ``j`` (0-based) at ``R``."""
    return f"[{int(R[0])}, {int(R[1])}, {int(R[2])}, {i + 1}, {j + 1}]"


def parse_key(key: str, where: str | Path) -> tuple[tuple[int, int, int], int, int]:
    """``(R, i, j)`` with 0-based atoms from a key ``"[Rx, Ry, Rz, i, j]"``."""
    match = _KEY.match(key)
    if match is None:
        raise HamiltonianFileError(
            where, f"bad block key {key!r}: expected '[Rx, Ry, Rz, i, j]' with 1-based atoms"
        )
    rx, ry, rz, i, j = (int(x) for x in match.groups())
    if i < 1 or j < 1:
        raise HamiltonianFileError(where, f"bad block key {key!r}: atom indices start at 1")
    return (rx, ry, rz), i - 1, j - 1


def loadtxt(path: Path, **kwargs) -> np.ndarray:
    try:
        return np.loadtxt(path, **kwargs)
    except ValueError as err:
        raise HamiltonianFileError(path, f"malformed numeric table: {err}") from None


def read_info(directory: str | Path) -> dict:
    """info.json as a dict; it must say whether the data are spinful."""
    path = Path(directory) / "info.json"
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise HamiltonianFileError(path, f"invalid JSON: {err}") from None
    if not isinstance(info, dict) or not isinstance(info.get("isspinful"), bool):
        raise HamiltonianFileError(path, 'must be a JSON object with a boolean "isspinful"')
    return info


def read_structure(directory: str | Path) -> DeepHStructure:
    """Lattice, fractional positions, atomic numbers and shells of a DeepH directory."""
    directory = Path(directory)
    lat = loadtxt(directory / "lat.dat", ndmin=2)
    if lat.shape != (3, 3):
        raise HamiltonianFileError(directory / "lat.dat", f"expected 3 x 3, got {lat.shape}")
    lattice = lat.T
    if abs(np.linalg.det(lattice)) < 1e-8:
        raise HamiltonianFileError(directory / "lat.dat", "lattice vectors are dependent")
    cart = loadtxt(directory / "site_positions.dat", ndmin=2)
    if cart.shape[0] != 3:
        raise HamiltonianFileError(
            directory / "site_positions.dat",
            f"expected 3 rows (x, y, z) and one column per atom, got {cart.shape}",
        )
    numbers = loadtxt(directory / "element.dat", ndmin=1).ravel()
    if not np.array_equal(numbers, np.round(numbers)):
        raise HamiltonianFileError(directory / "element.dat", "atomic numbers must be integers")
    path = directory / "orbital_types.dat"
    try:
        shells = tuple(
            tuple(int(x) for x in line.split()) for line in path.read_text().splitlines()
        )
    except ValueError:
        raise HamiltonianFileError(path, "every line must list integer l values") from None
    shells = tuple(s for s in shells if s)
    n_atoms = cart.shape[1]
    if len(numbers) != n_atoms or len(shells) != n_atoms:
        raise HamiltonianFileError(
            directory,
            f"inconsistent atom counts: site_positions.dat {n_atoms}, element.dat "
            f"{len(numbers)}, orbital_types.dat {len(shells)} lines",
        )
    if any(l < 0 for s in shells for l in s):
        raise HamiltonianFileError(path, "negative angular momentum")
    positions = cart.T @ np.linalg.inv(lattice)
    return DeepHStructure(lattice, positions, np.round(numbers).astype(int), shells)


# --- HDF5 blocks -------------------------------------------------------------------------
def read_entries(
    path: Path, n_atoms: int
) -> list[tuple[tuple[int, int, int], int, int, np.ndarray]]:
    entries = []
    seen: set[tuple[tuple[int, int, int], int, int]] = set()
    try:
        with h5py.File(path, "r") as fh:
            for key in fh:
                R, i, j = parse_key(key, path)
                if i >= n_atoms or j >= n_atoms:
                    raise HamiltonianFileError(
                        path, f"key {key!r} names an atom beyond the {n_atoms} atoms"
                    )
                if (R, i, j) in seen:
                    raise HamiltonianFileError(path, f"block {key!r} is stored twice")
                seen.add((R, i, j))
                data = fh[key]
                if not isinstance(data, h5py.Dataset):
                    raise HamiltonianFileError(path, f"{key!r} is not a dataset")
                entries.append((R, i, j, np.asarray(data[()])))
    except OSError as err:
        raise HamiltonianFileError(path, f"cannot read HDF5 file: {err}") from None
    if not entries:
        raise HamiltonianFileError(path, "holds no blocks")
    return entries


def read_blocks(path: str | Path, sizes: np.ndarray, factors: Sequence[int]) -> tuple[Blocks, int]:
    """Assemble the atom-pair blocks of one HDF5 file into full matrices per R.

    Parameters
    ----------
    sizes : [n_atoms] spatial orbitals per atom.
    factors : accepted spin multiplicities of the stored blocks (1 spinless, 2 spinful).

    Returns
    -------
    blocks : R -> [f N, f N] complex in the file's layout (atoms consecutive, each atom's
        block as stored), ``N = sum(sizes)``.
    f : the multiplicity found.
    """
    path = Path(path)
    sizes = [int(x) for x in sizes]
    entries = read_entries(path, len(sizes))
    R0, i0, j0, b0 = entries[0]
    found = [f for f in factors if b0.shape == (f * sizes[i0], f * sizes[j0])]
    if not found:
        raise HamiltonianFileError(
            path,
            f"block {format_key(R0, i0, j0)!r} has shape {b0.shape}; orbital_types.dat "
            f"implies {' or '.join(str((f * sizes[i0], f * sizes[j0])) for f in factors)}",
        )
    f = found[0]
    offsets = f * np.concatenate([[0], np.cumsum(sizes)])
    blocks: Blocks = {}
    for R, i, j, b in entries:
        if b.shape != (f * sizes[i], f * sizes[j]):
            raise HamiltonianFileError(
                path,
                f"block {format_key(R, i, j)!r} has shape {b.shape}, expected "
                f"{(f * sizes[i], f * sizes[j])}",
            )
        M = blocks.setdefault(R, np.zeros((offsets[-1], offsets[-1]), dtype=np.complex128))
        M[offsets[i] : offsets[i + 1], offsets[j] : offsets[j + 1]] = b
    return blocks, f


def stack_blocks(R: list[tuple[int, int, int]], blocks: Blocks, n: int) -> np.ndarray:
    out = np.zeros((len(R), n, n), dtype=np.complex128)
    for r, key in enumerate(R):
        if key in blocks:
            out[r] = blocks[key]
    return out


def all_lattice_vectors(*block_sets: Blocks) -> list[tuple[int, int, int]]:
    keys = {(0, 0, 0)}
    for blocks in block_sets:
        for R in blocks:
            keys.add(R)
            keys.add((-R[0], -R[1], -R[2]))
    return sorted(keys)


# --- layouts -----------------------------------------------------------------------------
def layout(
    shells: Sequence[Sequence[int]], convention: str, spin_blocks: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Signed permutation from the DeepH file layout into the project's order.

    Parameters
    ----------
    shells : per atom, the l of each shell.
    convention : real-orbital order inside a shell in the file (see :mod:`.orbital_order`).
    spin_blocks : spinful file layout (per atom, spin-up orbitals then spin-down); the
        project index is then ``2*mu + sigma``.

    Returns
    -------
    index, sign : [n] (``[2n]`` spinful), ``M_ours = (sign sign^T) * M_file[index][:, index]``.
    """
    perm, sign = basis_permutation(shells, convention)
    if not spin_blocks:
        return perm, sign
    sizes = np.array([sum(2 * l + 1 for l in s) for s in shells], dtype=int)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    atom = np.repeat(np.arange(len(sizes)), sizes)
    local = perm - offsets[atom]
    index = 2 * offsets[atom][:, None] + np.arange(2)[None, :] * sizes[atom][:, None]
    index = index + local[:, None]
    return index.ravel(), np.repeat(sign, 2)


def to_project(M: np.ndarray, index: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """[n_R, n, n] file layout -> project order."""
    return M[:, index][:, :, index] * np.outer(sign, sign)


def to_file(M: np.ndarray, index: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """[n_R, n, n] project order -> file layout (inverse of :func:`to_project`)."""
    inv = np.argsort(index)
    return (M * np.outer(sign, sign))[:, inv][:, :, inv]


# --- reading -----------------------------------------------------------------------------
