"""DeepH data directories (the layout of DeepH-pack's preprocessed data).

Files (``n_a`` spatial orbitals on atom ``a``; 1-based atoms in keys)::

    hamiltonians.h5     "[Rx, Ry, Rz, i, j]" -> H block [n_i, n_j] (real) or, spinful,
                        [2 n_i, 2 n_j] (complex; per atom spin-up orbitals then spin-down)
    overlaps.h5         same keys -> S block, spinless [n_i, n_j] (also for spinful data)
                        or spinful like H
    lat.dat             3 x 3, columns are the lattice vectors (Angstrom)
    site_positions.dat  3 x n_atoms, columns are Cartesian positions (Angstrom)
    element.dat         atomic numbers, one per line
    orbital_types.dat   one line per atom: the l of every shell ("0 0 1 1 2")
    info.json           {"isspinful": bool, "fermi_level": eV, ...}

A block ``[R, i, j]`` is ``<phi_i, 0|H|phi_j, R>``, so ``H(k) = sum_R H(R) exp(2 pi i k.R)``
is the project's convention. Energies are eV (DeepH-pack converts OpenMX's Hartree; older
data may not, see ``energy_unit``). Real orbitals follow OpenMX's order within a shell
unless info.json says otherwise (see :mod:`.orbital_order`). :func:`write_deeph` also writes
``rlat.dat`` and ``R_list.dat`` and adds ``"n_occ"``, ``"orbital_convention"`` and
``"energy_unit"`` to info.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable, orbital_table
from hts_z2.hamiltonian.formats.common import (
    HamiltonianFileError,
    build_model,
    hermitized,
    minus_index,
    require_n_occ,
)
from hts_z2.hamiltonian.formats.deeph_layout import (
    Blocks,
    DeepHStructure,
    all_lattice_vectors,
    format_key,
    layout,
    read_blocks,
    read_info,
    read_structure,
    stack_blocks,
    to_file,
    to_project,
)
from hts_z2.hamiltonian.formats.orbital_order import ORBITAL_CONVENTIONS
from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.hamiltonian.tightbinding import TightBinding

REQUIRED_FILES = (
    "hamiltonians.h5",
    "lat.dat",
    "site_positions.dat",
    "element.dat",
    "orbital_types.dat",
    "info.json",
)
HARTREE_EV = 27.211386245988
"""Hartree energy in eV (CODATA 2018)."""
ENERGY_UNITS = {"eV": 1.0, "Hartree": HARTREE_EV}
DEFAULT_CONVENTION = "openmx"
"""Orbital order assumed when info.json has no "orbital_convention" (DeepH's own)."""
PRUNE_TOL = 1e-12
_SYMBOLS = (
    "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge "
    "As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm "
    "Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U "
    "Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()


def _choice(value: str | None, info: dict, key: str, default: str, allowed, where: Path) -> str:
    """An explicit ``value``, else ``info[key]``, else ``default``; checked against ``allowed``."""
    if value is None and info.get(key, default) not in allowed:
        raise HamiltonianFileError(
            where, f"unknown {key} {info[key]!r}; expected one of {', '.join(allowed)}"
        )
    chosen = value if value is not None else info.get(key, default)
    if chosen not in allowed:
        raise ValueError(f"unknown {key} {chosen!r}; use one of {', '.join(allowed)}")
    return chosen


def _missing(directory: Path, names: Sequence[str]) -> None:
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise HamiltonianFileError(
            directory,
            f"missing DeepH file(s) {', '.join(missing)} (a DeepH directory holds "
            f"{', '.join(REQUIRED_FILES)} and overlaps.h5)",
        )


def read_deeph(
    directory: str | Path,
    n_occ: int | None = None,
    energy_unit: str | None = None,
    orbital_convention: str | None = None,
) -> TightBinding:
    """Read a DeepH directory as a :class:`TightBinding`.

    Parameters
    ----------
    directory : holds hamiltonians.h5, overlaps.h5 (unless info.json has
        ``"isorthogonal": true``), lat.dat, site_positions.dat, element.dat,
        orbital_types.dat and info.json.
    n_occ : occupied bands; default ``info.json["n_occ"]`` (written by :func:`write_deeph`).
    energy_unit : "eV" or "Hartree"; default ``info.json["energy_unit"]``, else "eV".
    orbital_convention : "hts_z2" or "openmx"; default ``info.json["orbital_convention"]``,
        else "openmx" (DeepH's own order).

    Returns
    -------
    TightBinding with H, S [n_R, n, n] in the project's order (spinless overlaps of spinful
    data expanded as ``S (x) I2``), ``orbitals``, fractional ``positions`` and ``numbers``.

    Raises
    ------
    HamiltonianFileError (a ValueError) for missing or malformed files; ValueError when
    ``n_occ`` is given nowhere.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise HamiltonianFileError(directory, "a DeepH data set is a directory")
    _missing(directory, REQUIRED_FILES)
    info = read_info(directory)
    orthogonal = bool(info.get("isorthogonal", False))
    if not orthogonal:
        _missing(directory, ("overlaps.h5",))
    spinful = info["isspinful"]
    info_path = directory / "info.json"
    convention = _choice(
        orbital_convention,
        info,
        "orbital_convention",
        DEFAULT_CONVENTION,
        ORBITAL_CONVENTIONS,
        info_path,
    )
    unit = _choice(energy_unit, info, "energy_unit", "eV", ENERGY_UNITS, info_path)
    scale = ENERGY_UNITS[unit]
    st = read_structure(directory)
    n_spatial = int(st.sizes.sum())
    n_bands = 2 * n_spatial if spinful else n_spatial
    n_occ = require_n_occ(n_occ if n_occ is not None else info.get("n_occ"), directory, n_bands)

    h_path = directory / "hamiltonians.h5"
    h_blocks, _ = read_blocks(h_path, st.sizes, (2,) if spinful else (1,))
    s_blocks: Blocks = {}
    s_factor = 1
    if not orthogonal:
        s_path = directory / "overlaps.h5"
        s_blocks, s_factor = read_blocks(s_path, st.sizes, (1, 2) if spinful else (1,))
    R = all_lattice_vectors(h_blocks, s_blocks)
    minus = minus_index(np.array(R), directory)
    index, sign = layout(st.shells, convention, spinful)
    H = to_project(stack_blocks(R, h_blocks, n_bands), index, sign) * scale
    H = hermitized("H", H, minus, h_path)
    S = None
    if not orthogonal:
        s_index, s_sign = layout(st.shells, convention, s_factor == 2)
        S = to_project(stack_blocks(R, s_blocks, s_factor * n_spatial), s_index, s_sign)
        S = hermitized("S", S, minus, s_path)
        if spinful and s_factor == 1:
            S = spinful_blocks(S)
    return build_model(
        directory,
        lambda: TightBinding(
            st.lattice,
            np.array(R),
            H,
            S,
            n_occ=n_occ,
            spinful=spinful,
            orbitals=orbital_table(st.shells),
            positions=st.positions,
            numbers=st.numbers,
        ),
    )


# --- writing -----------------------------------------------------------------------------
def _shells_from_table(orbitals: OrbitalTable) -> tuple[tuple[int, ...], ...]:
    n_atoms = int(orbitals.atom.max()) + 1
    shell_l, shell_atom = orbitals.shell_l, orbitals.shell_atom
    used = np.unique(orbitals.shell)
    shells = tuple(
        tuple(int(shell_l[s]) for s in used if shell_atom[s] == a) for a in range(n_atoms)
    )
    canonical = orbital_table(shells)
    same = all(
        np.array_equal(getattr(canonical, f), getattr(orbitals, f)) for f in ("atom", "l", "m")
    )
    if not same or any(not s for s in shells):
        raise ValueError(
            "the orbital table is not in the canonical order (atoms, then shells, then "
            "m = -l..l, every atom with orbitals) that the DeepH layout needs"
        )
    return shells


def structure_of(tb: TightBinding, species: Sequence[int | str] | None = None) -> DeepHStructure:
    """The DeepH structure/basis of a model.

    Without an orbital table every spatial orbital is an s shell, spread evenly over the
    atoms of ``tb.positions`` (one atom when there are none). Missing positions are put at
    the origin. Atomic numbers come from ``species`` (numbers or symbols), else
    ``tb.numbers``, else 0.
    """
    n_spatial = tb.n_bands // 2 if tb.spinful else tb.n_bands
    if tb.orbitals is not None:
        shells = _shells_from_table(tb.orbitals)
    else:
        n_atoms = 1 if tb.positions is None else len(tb.positions)
        if n_spatial % n_atoms:
            raise ValueError(
                f"{n_spatial} orbitals cannot be spread over {n_atoms} atoms: give the "
                "model an orbital table"
            )
        shells = ((0,) * (n_spatial // n_atoms),) * n_atoms
    n_atoms = len(shells)
    positions = np.zeros((n_atoms, 3)) if tb.positions is None else np.asarray(tb.positions)
    if len(positions) != n_atoms:
        raise ValueError(f"the model has {len(positions)} positions but {n_atoms} atoms")
    if species is not None:
        numbers = np.array([_atomic_number(s) for s in species], dtype=int)
    elif tb.numbers is not None:
        numbers = np.asarray(tb.numbers, dtype=int)
    else:
        numbers = np.zeros(n_atoms, dtype=int)
    if len(numbers) != n_atoms:
        raise ValueError(f"{len(numbers)} species given for {n_atoms} atoms")
    return DeepHStructure(tb.lattice, positions, numbers, shells)


def _atomic_number(species: int | str) -> int:
    if isinstance(species, str):
        if species not in _SYMBOLS:
            raise ValueError(f"unknown element symbol {species!r}")
        return _SYMBOLS.index(species)
    return int(species)


def _precision(dtype) -> tuple[type, type]:
    kind = np.dtype(dtype)
    if kind in (np.dtype(np.float64), np.dtype(np.complex128)):
        return np.float64, np.complex128
    if kind in (np.dtype(np.float32), np.dtype(np.complex64)):
        return np.float32, np.complex64
    raise ValueError(f"dtype must be float64/complex128 or float32/complex64, got {kind}")


def _is_real(M: np.ndarray) -> bool:
    return float(np.max(np.abs(M.imag), initial=0.0)) <= PRUNE_TOL * max(
        1.0, float(np.max(np.abs(M), initial=0.0))
    )


def _block_max(M: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """[n_R, n_atoms, n_atoms] largest |element| of every atom-pair block."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    A = np.maximum.reduceat(np.abs(M), starts, axis=1)
    return np.maximum.reduceat(A, starts, axis=2)


def _spatial_overlap(tb: TightBinding) -> np.ndarray | None:
    """Spin-independent overlap ``S0`` [n_R, n, n] of a spinful model, or None."""
    n = tb.n_bands // 2
    S = tb.S.reshape(len(tb.R), n, 2, n, 2)
    S0 = S[:, :, 0, :, 0]
    err = max(
        float(np.max(np.abs(S[:, :, 1, :, 1] - S0))),
        float(np.max(np.abs(S[:, :, 0, :, 1]))),
        float(np.max(np.abs(S[:, :, 1, :, 0]))),
    )
    return S0 if err <= PRUNE_TOL * max(1.0, float(np.max(np.abs(S)))) else None


def midgap_energy(tb: TightBinding, n_k: int = 4) -> float:
    """Middle of the gap above band ``n_occ`` on a Gamma-centred ``n_k^3`` grid (eV)."""
    axes = np.arange(n_k) / n_k
    k = np.array(np.meshgrid(axes, axes, axes, indexing="ij")).reshape(3, -1).T
    E = tb.eigh(k)[0]
    return 0.5 * float(E[:, tb.n_occ - 1].max() + E[:, tb.n_occ].min())


def _write_text_files(directory: Path, tb: TightBinding, st: DeepHStructure, info: dict) -> None:
    np.savetxt(directory / "lat.dat", st.lattice.T)
    np.savetxt(directory / "rlat.dat", tb.reciprocal_lattice.T)
    np.savetxt(directory / "site_positions.dat", (st.positions @ st.lattice).T)
    np.savetxt(directory / "element.dat", st.numbers, fmt="%d")
    np.savetxt(directory / "R_list.dat", tb.R, fmt="%d")
    lines = [" ".join(str(l) for l in s) for s in st.shells]
    (directory / "orbital_types.dat").write_text("\n".join(lines) + "\n")
    (directory / "info.json").write_text(json.dumps(info, indent=4) + "\n")


def write_deeph(
    tb: TightBinding,
    directory: str | Path,
    species: Sequence[int | str] | None = None,
    dtype=np.float64,
    orbital_convention: str = "hts_z2",
    fermi_level: float | None = None,
) -> Path:
    """Write ``tb`` as a DeepH directory (created if needed; its files are overwritten).

    Atom-pair blocks whose H and S elements are all below 1e-12 in magnitude are not
    written; both HDF5 files hold the same keys. Spin-independent overlaps are stored
    spinless, as DeepH does; an orthogonal model gets identity on-site overlaps and
    ``"isorthogonal": true``.

    Parameters
    ----------
    species : atomic numbers or element symbols per atom (default ``tb.numbers``).
    dtype : float64 (default) or float32 for compact files (complex blocks use the
        matching complex type).
    orbital_convention : real-orbital order written ("hts_z2" default, or "openmx");
        recorded in info.json.
    fermi_level : eV for info.json; default the mid-gap energy (:func:`midgap_energy`).
    """
    real_t, complex_t = _precision(dtype)
    if orbital_convention not in ORBITAL_CONVENTIONS:
        raise ValueError(
            f"unknown orbital convention {orbital_convention!r}; use one of "
            f"{', '.join(ORBITAL_CONVENTIONS)}"
        )
    st = structure_of(tb, species)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    H = to_file(tb.H, *layout(st.shells, orbital_convention, tb.spinful))
    S0 = None
    if tb.S is None:
        S0 = np.zeros((len(tb.R), st.sizes.sum(), st.sizes.sum()), dtype=np.complex128)
        S0[tb.onsite_index()] = np.eye(st.sizes.sum())
    elif tb.spinful:
        S0 = _spatial_overlap(tb)
    if S0 is not None:
        S = to_file(S0, *layout(st.shells, orbital_convention, False))
        s_sizes = st.sizes
    else:
        S = to_file(tb.S, *layout(st.shells, orbital_convention, tb.spinful))
        s_sizes = st.sizes * (2 if tb.spinful else 1)
    h_sizes = st.sizes * (2 if tb.spinful else 1)
    keep = (_block_max(H, h_sizes) >= PRUNE_TOL) | (_block_max(S, s_sizes) >= PRUNE_TOL)
    h_type = complex_t if tb.spinful or not _is_real(H) else real_t
    s_type = real_t if _is_real(S) else complex_t
    h_off = np.concatenate([[0], np.cumsum(h_sizes)])
    s_off = np.concatenate([[0], np.cumsum(s_sizes)])
    with (
        h5py.File(directory / "hamiltonians.h5", "w") as fh,
        h5py.File(directory / "overlaps.h5", "w") as fs,
    ):
        for r, i, j in np.argwhere(keep).tolist():
            key = format_key(tb.R[r], i, j)
            h = H[r, h_off[i] : h_off[i + 1], h_off[j] : h_off[j + 1]]
            s = S[r, s_off[i] : s_off[i + 1], s_off[j] : s_off[j + 1]]
            fh.create_dataset(key, data=(h if h_type is complex_t else h.real).astype(h_type))
            fs.create_dataset(key, data=(s if s_type is complex_t else s.real).astype(s_type))
    info = {
        "nsites": len(st.shells),
        "isorthogonal": tb.S is None,
        "isspinful": bool(tb.spinful),
        "norbits": int(st.sizes.sum()),
        "fermi_level": float(midgap_energy(tb) if fermi_level is None else fermi_level),
        "n_occ": int(tb.n_occ),
        "orbital_convention": orbital_convention,
        "energy_unit": "eV",
    }
    _write_text_files(directory, tb, st, info)
    return directory
