"""Projected plane-wave models stored compactly (``hts_z2/data/projected/<id>.npz``).

A file holds one compound's projected orthonormal model
(:mod:`hts_z2.reference.planewave.projected`) as the folded half of its atom-pair blocks
(:func:`~hts_z2.hamiltonian.sparse.fold_pairs`: ``M, B_x, B_y, B_z`` of
``H(R) = M (x) I2 + i B.sigma``), as integer multiples of :data:`QUANTUM`, with the
blocks whose largest element is below a threshold left out. The threshold is the largest
of :data:`THRESHOLDS` that moves no band within the frozen window by more than
:data:`MAX_STORAGE_ERROR` at the check k-points. The file also keeps, for checking the
representation, the plane-wave bands at those k-points (off the grid) and the provenance
(settings, grid, construction).

    python -m hts_z2.reference.planewave.projected_data DIR ID   # DIR: localized_floor.py --save
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from hts_z2.hamiltonian.sparse import PairBlocks, SparseTightBinding, unfold_pairs
from hts_z2.reference.planewave.projected import orbitals_of, window_errors

DATA = Path(str(files("hts_z2") / "data" / "projected"))
FORMAT = 1
THRESHOLDS = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 0.0)
"""Pruning thresholds (eV) tried, largest first."""
QUANTUM = 1e-6
"""Blocks are stored as integer multiples of this (eV): gzip then stores the many small
elements of distant pairs in a few bits each."""
PAIR_RADIUS = 10.0
"""Pair radius (Å) of the shipped network; files record the floor of the model cut there."""
MAX_STORAGE_ERROR = 1e-4
"""Largest band change (eV) storage may cause inside the frozen window."""


@dataclass
class StoredProjected:
    """A stored projected model with its check data.

    Attributes
    ----------
    model : the orthonormal spinful model (block form).
    meta : provenance and figures (JSON).
    test_k : [n_t, 3] check k-points; test_E : [n_t, M] plane-wave bands there (eV).
    """

    model: SparseTightBinding
    meta: dict
    test_k: np.ndarray
    test_E: np.ndarray


def _pair_arrays(pairs, threshold: float) -> dict[str, np.ndarray]:
    """Flat arrays of the blocks above ``threshold`` (on-site blocks always kept)."""
    ij, counts, R, values = [], [], [], []
    for p in pairs:
        big = np.abs(p.blocks).reshape(len(p.R), -1).max(1) >= threshold
        if p.i == p.j:
            big |= ~np.any(p.R, axis=1)
        if not big.any():
            continue
        ij.append((p.i, p.j))
        counts.append(int(big.sum()))
        R.append(p.R[big])
        values.append(p.blocks[big].ravel())
    q = np.rint(np.concatenate(values) / QUANTUM)
    if np.abs(q).max() >= 2**31:
        raise ValueError("a block element does not fit the quantized storage")
    return {
        "pair_ij": np.array(ij, dtype=np.int16),
        "pair_count": np.array(counts, dtype=np.int32),
        "R": np.concatenate(R).astype(np.int16),
        "values": q.astype(np.int32),
    }


def _model(arrays: dict, meta: dict) -> SparseTightBinding:
    atom_of = np.asarray(arrays["atom_of"])
    n_atoms = len(arrays["positions"])
    orbitals = orbitals_of(atom_of, arrays["orbital_l"], n_atoms)
    starts = np.concatenate([[0], np.cumsum(np.bincount(atom_of, minlength=n_atoms))])
    pairs, r0, v0 = [], 0, 0
    for (a, b), count in zip(arrays["pair_ij"], arrays["pair_count"], strict=True):
        shape = (int(count), 4, int(starts[a + 1] - starts[a]), int(starts[b + 1] - starts[b]))
        size = int(np.prod(shape))
        blocks = arrays["values"][v0 : v0 + size].reshape(shape) * QUANTUM
        pairs.append(PairBlocks(int(a), int(b), arrays["R"][r0 : r0 + count].astype(np.int64),
                                blocks))
        r0, v0 = r0 + int(count), v0 + size
    n_el = int(meta["n_electrons"])
    return SparseTightBinding(
        np.asarray(arrays["lattice"], dtype=float), starts, unfold_pairs(tuple(pairs)),
        n_occ=n_el + n_el % 2, orbitals=orbitals, positions=arrays["positions"],
        numbers=arrays["numbers"],
    )


def encode(states, basis, test_k: np.ndarray, test_E: np.ndarray, meta: dict) -> dict:
    """Arrays of a file: the pruned blocks of ``basis.model`` (the loosest threshold whose
    band change within the frozen window stays below :data:`MAX_STORAGE_ERROR`); ``meta``
    gains the floor of the model cut at :data:`PAIR_RADIUS`."""
    full = SparseTightBinding.from_dense(basis.model)
    E_full, _ = full.eigh(test_k)
    window = E_full <= basis.frozen_top
    near = full.within_radius(PAIR_RADIUS).eigh(test_k)[0]
    meta = {**meta, "pair_radius_A": PAIR_RADIUS,
            "floor_within_radius_meV": 1e3 * window_errors(near, test_E, meta["n_electrons"])[0]}
    common = {
        "lattice": states.lattice,
        "positions": states.positions,
        "numbers": states.numbers.astype(np.int16),
        "atom_of": states.atom_of.astype(np.int16),
        "orbital_l": states.orbital_l.astype(np.int8),
        "test_k": test_k,
        "test_E": test_E[:, : basis.model.n_bands].astype(np.float32),
    }
    for threshold in THRESHOLDS:
        arrays = {**common, **_pair_arrays(full.hoppings, threshold)}
        E, _ = _model(arrays, meta).eigh(test_k)
        error = float(np.abs(E - E_full)[window].max())
        if error <= MAX_STORAGE_ERROR:
            stored = {**meta, "format": FORMAT, "threshold_eV": threshold,
                      "storage_error_eV": error}
            arrays["meta"] = np.frombuffer(json.dumps(stored).encode(), dtype=np.uint8)
            return arrays
    raise ValueError(f"storage moves the bands by {error:.2e} eV even unpruned")


def save(path: Path, arrays: dict) -> None:
    np.savez_compressed(path, **arrays)


def load(path: Path) -> StoredProjected:
    """A stored model; raises ``ValueError`` for an unknown format."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: projected-model format {meta.get('format')}, need {FORMAT}")
    return StoredProjected(_model(arrays, meta), meta, arrays["test_k"],
                           arrays["test_E"].astype(np.float64))


def stored_ids(folder: Path = DATA) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.npz"))


def main(argv: list[str]) -> None:
    """Write the stored localized model of states saved by
    ``benchmarks/localized_floor.py --save DIR``: ``DIR ID [OUT_DIR]``."""
    import gpaw

    from hts_z2.reference.planewave.localize_gpaw import GridLinks, build_localized
    from hts_z2.reference.planewave.projected import DISENTANGLE_SIGMA
    from hts_z2.reference.planewave.projected_gpaw import FROZEN_MARGIN, GridStates
    from hts_z2.reference.planewave.settings import PlaneWaveSettings

    folder, sid = argv[:2]
    out = Path(argv[2]) if len(argv) > 2 else DATA
    states = GridStates.load(f"{folder}/{sid}_states.npz")
    links = GridLinks.load(f"{folder}/{sid}_links.npz")
    with np.load(f"{folder}/{sid}_test.npz") as t:
        test_k, test_E = t["k"], t["E"]
    basis = build_localized(states, links)
    E, _ = basis.model.eigh(test_k)
    mae, worst = window_errors(E, test_E, states.n_electrons)
    meta = {
        "material_id": sid,
        "method": "gpaw-pw-pbe-soc; projected bound valence channels, maximally localized",
        "settings": PlaneWaveSettings().to_dict(),
        "settings_key": PlaneWaveSettings().key(),
        "grid": list(states.grid),
        "frozen_margin_eV": FROZEN_MARGIN,
        "sigma_eV": DISENTANGLE_SIGMA,
        "frozen_top_eV": basis.frozen_top,
        "n_electrons": states.n_electrons,
        "floor_meV": 1e3 * mae,
        "max_error_meV": 1e3 * worst,
        "spread_projected_A2": basis.spread_before.total,
        "spread_localized_A2": basis.spread_after.total,
        "time_reversal_error_eV": basis.time_reversal_error,
        "gpaw": gpaw.__version__,
    }
    out.mkdir(parents=True, exist_ok=True)
    arrays = encode(states, basis, test_k, test_E, meta)
    save(out / f"{sid}.npz", arrays)
    stored = json.loads(arrays["meta"].tobytes().decode())
    print(f"{sid}: floor {1e3 * mae:.1f} meV, threshold {stored['threshold_eV']:g} eV, "
          f"storage error {stored['storage_error_eV']:.1e} eV, "
          f"{(out / f'{sid}.npz').stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
