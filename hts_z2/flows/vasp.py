"""VASP + Z2Pack inputs for a campaign's shortlist (clusters with VASP).

No VASP runs here (none is installed on the development machines). For each selected
structure :func:`write_vasp_z2pack_inputs` writes a directory that a VASP user runs as is:

- ``POSCAR``, ``KPOINTS`` (Γ-centred, the same density as the plane-wave settings),
  ``INCAR.scf`` (PBE, ``LSORBIT``, no symmetry, ``ENCUT`` from the settings) and
  ``POTCAR.spec`` (the PAW datasets to concatenate: POTCARs are licensed, not shipped);
- ``z2pack_vasp.py``: a Z2Pack script running VASP + Wannier90 on the six TRIM planes of
  *this* cell and saving one result file per plane (``z2pack_<plane>.json``), which
  ``hts-z2 validate DIR`` reads back (its Z2Pack reader) with the material id taken from
  the directory name.

:func:`vasp_inputs_job` wraps it as a jobflow job; the campaign's confirmation policy with
``engine: vasp-inputs`` writes these directories instead of running GPAW.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from jobflow import job

from hts_z2.reference.gpaw_scf import kpoint_grid
from hts_z2.reference.planewave.settings import PlaneWaveSettings

PLANE_FILES = ("k1_0", "k1_half", "k2_0", "k2_half", "k3_0", "k3_half")

INCAR_SCF = """SYSTEM = {name}
PREC = Accurate
ENCUT = {encut:.0f}
EDIFF = 1E-7
ISMEAR = 0 ; SIGMA = 0.01
GGA = PE
LSORBIT = .TRUE.
ISYM = -1
LWAVE = .FALSE. ; LCHARG = .TRUE.
"""

INCAR_NSCF = """SYSTEM = {name} (Z2Pack: Wannier90 overlaps, charge density of the SCF)
PREC = Accurate
ENCUT = {encut:.0f}
ISMEAR = 0 ; SIGMA = 0.01
GGA = PE
LSORBIT = .TRUE.
ISYM = -1
ICHARG = 11
LWANNIER90 = .TRUE.
LWRITE_MMN_AMN = .TRUE.
NBANDS = NBANDS_EDIT_ME   # at least the occupied spinor bands; see wannier90.win
"""

WANNIER90 = """! Z2Pack needs only the overlaps of the occupied bands: num_wann = occupied spinor
! bands (valence electrons of your POTCARs), num_bands = NBANDS of INCAR, the rest excluded.
num_wann = NOCC_EDIT_ME
num_bands = NBANDS_EDIT_ME
exclude_bands = EXCLUDE_EDIT_ME
spinors = true
use_bloch_phases = true
num_iter = 0
shell_list 1
"""

Z2PACK_SCRIPT = '''"""Z2 of the six TRIM planes of this cell with VASP + Wannier90 (Z2Pack).

Written by hts-z2 for {name}. Needs VASP (vasp_ncl) with Wannier90 and z2pack==2.2.1.
1. cat the POTCARs named in POTCAR.spec into POTCAR; run VASP once with INCAR.scf as
   INCAR (SCF, spin-orbit) and keep its CHGCAR here;
2. fill in the *_EDIT_ME values of INCAR (the Wannier90 step) and wannier90.win;
3. python z2pack_vasp.py
Each plane is saved to z2pack_<plane>.json; read them back with `hts-z2 validate <dir>`.
"""
import os

import z2pack

VASP_COMMAND = os.environ.get("VASP_COMMAND", "mpirun vasp_ncl")
PLANES = {planes!r}

system = z2pack.fp.System(
    input_files=["INCAR", "POSCAR", "POTCAR", "wannier90.win", "CHGCAR"],
    kpt_fct=z2pack.fp.kpoint.vasp,
    kpt_path="KPOINTS",
    command=VASP_COMMAND,
    mmn_path="wannier90.mmn",
)
for name, surface in PLANES.items():
    result = z2pack.surface.run(
        system=system,
        surface=eval(surface),
        save_file=f"z2pack_{{name}}.json",
        load=True,
    )
    print(name, z2pack.invariant.z2(result))
'''

SURFACES = {
    "k1_0": "lambda s, t: [0, t, s / 2]",
    "k1_half": "lambda s, t: [0.5, t, s / 2]",
    "k2_0": "lambda s, t: [s / 2, 0, t]",
    "k2_half": "lambda s, t: [s / 2, 0.5, t]",
    "k3_0": "lambda s, t: [t, s / 2, 0]",
    "k3_half": "lambda s, t: [t, s / 2, 0.5]",
}
"""Z2Pack surfaces of the project's planes: ``t`` runs the loop along ``k_a`` (a = f+1),
``s`` the lines along ``k_b`` (b = f+2) over [0, 1/2], as hts-z2's own Wilson loops."""


def write_vasp_z2pack_inputs(structure, material_id: str, root: str | Path,
                             settings: PlaneWaveSettings | None = None) -> Path:
    """Write the VASP + Z2Pack directory of one structure; returns it."""
    from pymatgen.io.vasp import Poscar

    settings = settings or PlaneWaveSettings()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in material_id)
    target = Path(root) / safe
    target.mkdir(parents=True, exist_ok=True)
    poscar = Poscar(structure)
    poscar.write_file(target / "POSCAR")
    mesh = kpoint_grid(np.asarray(structure.lattice.matrix), settings.kpt_density)
    (target / "KPOINTS").write_text(
        f"Gamma-centred, {settings.kpt_density} points per 1/A\n0\nGamma\n"
        f"{mesh[0]} {mesh[1]} {mesh[2]}\n0 0 0\n"
    )
    (target / "INCAR.scf").write_text(INCAR_SCF.format(name=safe, encut=settings.ecut))
    (target / "INCAR").write_text(INCAR_NSCF.format(name=safe, encut=settings.ecut))
    (target / "wannier90.win").write_text(WANNIER90)
    (target / "POTCAR.spec").write_text("\n".join(poscar.site_symbols) + "\n")
    (target / "z2pack_vasp.py").write_text(Z2PACK_SCRIPT.format(name=material_id,
                                                                 planes=SURFACES))
    (target / "hts_z2.json").write_text(json.dumps(
        {"material_id": material_id, "settings": settings.to_dict(),
         "planes": list(PLANE_FILES)}, indent=1) + "\n")
    return target


@job
def vasp_inputs_job(material_id: str, structure: dict, root: str, settings: dict) -> str:
    """Write the VASP + Z2Pack inputs of one structure (a jobflow job); returns the path."""
    from pymatgen.core import Structure

    path = write_vasp_z2pack_inputs(Structure.from_dict(structure), material_id, root,
                                    PlaneWaveSettings(**settings))
    return str(path)
