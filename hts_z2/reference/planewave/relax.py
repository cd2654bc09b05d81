"""Internal coordinates relaxed with PBE at a fixed (experimental) lattice.

Used where a published refinement of the free Wyckoff parameters could not be checked:
the cell stays as measured, the atoms move under the crystal's symmetry (ASE
``FixSymmetry``) until the largest force is below ``fmax``. Reproduce with::

    python -m hts_z2.reference.planewave.relax TlBiSe2-R-3m [more ids]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from hts_z2.reference.gpaw_scf import gpaw_atoms
from hts_z2.reference.planewave.settings import PlaneWaveSettings


def relax_internal(structure, settings: PlaneWaveSettings | None = None, fmax: float = 0.01,
                   steps: int = 60):
    """Relax fractional coordinates of ``structure`` at its lattice (PBE, GPAW PW).

    Returns
    -------
    (relaxed pymatgen Structure, {"energy_eV", "fmax_eV_per_A", "steps", "seconds"}).
    """
    from ase.constraints import FixSymmetry
    from ase.optimize import BFGS
    from gpaw import GPAW, PW, FermiDirac
    from pymatgen.core import Structure

    from hts_z2.reference.gpaw_scf import kpoint_grid

    settings = settings or PlaneWaveSettings()
    atoms = gpaw_atoms(structure.lattice.matrix, structure.frac_coords,
                       np.array(structure.atomic_numbers))
    atoms.set_constraint(FixSymmetry(atoms, symprec=1e-3))
    atoms.calc = GPAW(mode=PW(settings.ecut), xc=settings.xc,
                      kpts={"size": kpoint_grid(atoms.cell[:], settings.kpt_density),
                            "gamma": True},
                      occupations=FermiDirac(settings.width), txt=None, legacy_gpaw=True)
    t0 = time.perf_counter()
    opt = BFGS(atoms, logfile=None)
    opt.run(fmax=fmax, steps=steps)
    forces = atoms.get_forces()
    relaxed = Structure(structure.lattice, structure.species, atoms.get_scaled_positions())
    return relaxed, {
        "energy_eV": float(atoms.get_potential_energy()),
        "fmax_eV_per_A": float(np.linalg.norm(forces, axis=1).max()),
        "steps": int(opt.nsteps),
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str]) -> None:
    from hts_z2.structures.embedded import get_embedded

    for sid in argv:
        entry = get_embedded(sid)
        relaxed, info = relax_internal(entry.structure)
        print(sid, info)
        for site in relaxed:
            print(f"  {site.specie} {np.round(site.frac_coords, 5).tolist()}")
        print(f"  json: {relaxed.to_json()}")


if __name__ == "__main__":
    main(sys.argv[1:])
