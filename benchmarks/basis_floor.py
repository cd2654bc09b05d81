"""Representation floor of LCAO bases run self-consistently, against plane waves (issue 25).

For each compound it runs GPAW PBE self-consistently in plane waves (the label of record's
settings) and in every LCAO basis asked for, then spin–orbit states at Gamma + 9 seeded
random k-points, and prints per basis:

- ``min eig S(k)`` of the basis over those k-points;
- the band MAE against plane waves over the plane-wave states from 1 eV below the
  valence-band maximum to 1 eV above the conduction-band minimum, both band structures
  aligned at their valence-band maximum (bands matched by index from the bottom);
- the direct gap at those k-points in both.

Bases: GPAW names (``dzp``: the training data's; ``szp(dzp)``: its single-zeta +
polarization functions alone, a self-consistent calculation of its own; generated sets,
e.g. ``gpaw-basis -t dzp -E 0.3 -n tight Bi Se`` in DIR gives ``tight.dzp`` and
``szp(tight.dzp)`` with ``--basis-dir DIR``: a 0.3 eV confinement energy shift instead of
0.1, i.e. shorter orbitals). Needs the ``dft`` extra; 10 s to 11 min per compound and
basis set on one core (metals are the slow ones).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/basis_floor.py [IDS ...] [--bases dzp "szp(dzp)"]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from representation_floor import window_mae  # benchmarks/ is on the path of a script

DEFAULT_IDS = ("PbTe-Fm-3m", "Bi2Se3-R-3m", "HgTe-F-43m", "CsPbI3-Pm-3m")


def aligned(E: np.ndarray, n_occ: int) -> np.ndarray:
    """Energies shifted so that the valence-band maximum over the k-points is 0."""
    return E - E[:, n_occ - 1].max()


def direct_gap(E: np.ndarray, n_occ: int) -> float:
    return float((E[:, n_occ] - E[:, n_occ - 1]).min())


def planewave_bands(atoms, k: np.ndarray):
    from hts_z2.reference.planewave.gpaw_pw import n_valence, run_pw_scf, soc_states
    from hts_z2.reference.planewave.settings import PlaneWaveSettings

    settings = PlaneWaveSettings()
    calc = run_pw_scf(atoms, settings)
    n_el = n_valence(calc)
    return soc_states(calc, k, settings, n_el).energies, n_el


def lcao_bands(atoms, k: np.ndarray, basis: str):
    from gpaw.spinorbit import soc_eigenstates

    from hts_z2.reference.gpaw_scf import GpawSettings, run_scf

    calc = run_scf(atoms, GpawSettings(basis=basis, point_group=True, kpt_density=3.5))
    nscf = calc.fixed_density(kpts=k, symmetry="off", txt=None)
    min_s = min(float(np.linalg.eigvalsh(S).min()) for S in nscf.wfs.S_qMM)
    E = np.asarray(soc_eigenstates(nscf).eigenvalues(), dtype=float)
    return E, min_s, int(nscf.wfs.setups.nao)


def main() -> None:
    from pymatgen.io.ase import AseAtomsAdaptor

    from hts_z2.reference.convert import band_kpoints
    from hts_z2.structures.embedded import get_embedded

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", default=list(DEFAULT_IDS))
    parser.add_argument("--bases", nargs="+", default=["dzp", "szp(dzp)"])
    parser.add_argument(
        "--basis-dir",
        help="folder of generated basis files (gpaw-basis -n NAME ...), searched first",
    )
    args = parser.parse_args()
    if args.basis_dir:
        from gpaw import setup_paths

        setup_paths.insert(0, args.basis_dir)
    print(
        f"{'compound':16s} {'basis':10s} {'n':>4s} {'minS':>9s} {'floor meV':>9s} "
        f"{'gap PW':>7s} {'gap':>7s} {'s':>5s}"
    )
    for sid in args.ids:
        atoms = AseAtomsAdaptor.get_atoms(get_embedded(sid).structure)
        k = band_kpoints(sid)
        t0 = time.perf_counter()
        E_pw, n_el = planewave_bands(atoms, k)
        E_pw = aligned(E_pw, n_el)
        print(
            f"{sid:16s} {'PW 350 eV':10s} {'':>4s} {'':>9s} {'':>9s} "
            f"{direct_gap(E_pw, n_el):7.3f} {'':>7s} {time.perf_counter() - t0:5.0f}",
            flush=True,
        )
        for basis in args.bases:
            t0 = time.perf_counter()
            E, min_s, nao = lcao_bands(atoms, k, basis)
            E = aligned(E, n_el)
            print(
                f"{sid:16s} {basis:10s} {2 * nao:4d} {min_s:9.2e} "
                f"{1e3 * window_mae(E, E_pw, n_el):9.1f} {direct_gap(E_pw, n_el):7.3f} "
                f"{direct_gap(E, n_el):7.3f} {time.perf_counter() - t0:5.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
