"""Regenerate the fixtures in ``tests/validate/data`` (run from the repository root).

``OMP_NUM_THREADS=1 .venv/bin/python tests/validate/make_fixtures.py``

- Z2Pack files are written by Z2Pack itself (``z2pack.surface.run`` + ``z2pack.io.save``)
  on textbook tight-binding models: eigenstate data from ``z2pack.hm.System`` and
  first-principles-style overlap data from an ``OverlapSystem`` whose ``M_mn`` matrices
  are built from the model's eigenvectors (what Wannier90's ``.mmn`` holds).
- WannierTools and pyatb files are written byte for byte in the layouts of their sources
  (WannierTools ``Z2_3D_adaptive``: ``'(10000f16.8)'`` rows per band, list-directed
  ``WT.out`` lines; pyatb ``Wilson_Loop.print_data``: ``"%8d"`` + ``"%15.8f"`` per band),
  with WCCs from our own Wilson-loop code on the same plane orientation.
- ``results.json``: stored result documents (the store's schema) for the materials.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import z2pack
from pymatgen.core import Lattice, Structure

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, kane_mele, wilson_dirac
from hts_z2.topology.planes import PLANES, occupied_states, plane_axes
from hts_z2.topology.wilson import wcc

logging.getLogger("z2pack").setLevel(logging.WARNING)

DATA = Path(__file__).parent / "data"
UNIMODULAR = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
"""Cell change of the pyatb reference (a'_1 = a_1 + a_2)."""
MP_SURFACES = {
    "kx_0": lambda s, t: [0, s / 2, t],
    "kx_1": lambda s, t: [0.5, s / 2, t],
    "ky_0": lambda s, t: [s / 2, 0, t],
    "ky_1": lambda s, t: [s / 2, 0.5, t],
    "kz_0": lambda s, t: [s / 2, t, 0],
    "kz_1": lambda s, t: [s / 2, t, 0.5],
}
WT_PLANES = [  # (kstart, kvec1 = integration, kvec2 = WCC evolution) as in Z2_3D_adaptive
    ((0, 0, 0), (0, 0, 1), (0, 0.5, 0)),
    ((0.5, 0, 0), (0, 0, 1), (0, 0.5, 0)),
    ((0, 0, 0), (0, 0, 1), (0.5, 0, 0)),
    ((0, 0.5, 0), (0, 0, 1), (0.5, 0, 0)),
    ((0, 0, 0), (1, 0, 0), (0, 0.5, 0)),
    ((0, 0, 0.5), (1, 0, 0), (0, 0.5, 0)),
]


class ModelOverlaps(z2pack.system.OverlapSystem):
    """Overlap matrices ``<u_k|u_k+1>`` of a model's occupied states (periodic gauge)."""

    def __init__(self, tb):
        self.tb = tb

    def get_mmn(self, kpt):
        _, Y = occupied_states(self.tb, np.array(kpt[:-1], dtype=float))
        Y = np.concatenate([Y, Y[:1]])
        return [a.conj().T @ b for a, b in itertools.pairwise(Y)]


def eigenstate_system(tb):
    return z2pack.hm.System(lambda k: tb.hk(np.array([k], dtype=float))[0], bands=tb.n_occ, dim=3)


def our_surface(p):
    fixed, value = PLANES[p]
    a, b = plane_axes(fixed)

    def surface(s, t):
        k = [0.0, 0.0, 0.0]
        k[fixed], k[a], k[b] = value, t, s / 2
        return k

    return surface


def run_z2pack(system, surface, path: Path) -> None:
    result = z2pack.surface.run(
        system=system,
        surface=surface,
        num_lines=5,
        iterator=(4, 6),
        pos_tol=0.1,
        min_neighbour_dist=0.05,
    )
    z2pack.io.save(result, str(path))


def plane_wcc(tb, kstart, kvec1, kvec2, nk1=24, nk2=11) -> np.ndarray:
    """[nk2, n_occ] WCCs of loops along kvec1 at kstart + kvec2 * j/(nk2-1)."""
    i = np.arange(nk1)[:, None, None] / nk1
    j = np.arange(nk2)[None, :, None] / (nk2 - 1)
    k = np.asarray(kstart) + i * np.asarray(kvec1) + j * np.asarray(kvec2)
    _, Y = occupied_states(tb, k.reshape(-1, 3))
    return wcc(Y.reshape(nk1, nk2, *Y.shape[1:]))


def write_wanniertools(tb, directory: Path) -> None:
    directory.mkdir(parents=True)
    z2 = []
    from hts_z2.topology.wilson import z2_from_wcc

    for p, (kstart, kvec1, kvec2) in enumerate(WT_PLANES, start=1):
        x = plane_wcc(tb, kstart, kvec1, kvec2)
        z2.append(z2_from_wcc(x)[0])
        kpath = np.arange(len(x)) / (len(x) - 1)
        rows = []
        for band in range(x.shape[1]):
            rows += [f"{kpath[ik]:16.8f}{np.mod(x[ik, band], 1.0):16.8f}\n" for ik in range(len(x))]
            rows.append("  \n")
        (directory / f"wanniercenter3D_Z2_{p}.dat").write_text("".join(rows))
    names = [
        "k1=0.0, k2-k3 plane: ",
        "k1=0.5, k2-k3 plane: ",
        "k2=0.0, k1-k3 plane: ",
        "k2=0.5, k1-k3 plane: ",
        "k3=0.0, k1-k2 plane: ",
        "k3=0.5, k1-k2 plane: ",
    ]
    text = [
        "  >>>> Start of WannierTools\n",
        " # Chern number for 6 planes\n",
        *[f" {n}{0:12d}\n" for n in names],
        " # Notes: Please check the Wilson loop plots gnuplot wanniercenter3D_Z2.gnu \n",
        " # z2 number for 6 planes\n",
        *[f" {n}{v:12d}\n" for n, v in zip(names, z2, strict=True)],
        " Time cost for Z2_3D_adaptive:    0.123 s\n",
    ]
    (directory / "WT.out").write_text("".join(text))


def write_pyatb(tb, directory: Path, drop_input: int | None = None) -> None:
    run_names = ["k1_0", "k1_half", "k2_0", "k2_half", "k3_0", "k3_half"]
    for p, (kstart, kvec1, kvec2) in enumerate(WT_PLANES):
        run = directory / run_names[p]
        out = run / "Out" / "Wilson_Loop"
        out.mkdir(parents=True)
        x = plane_wcc(tb, kstart, kvec1, kvec2, nk1=24, nk2=31)
        rows = [f"{ik:8d}" + "".join(f"{v:15.8f}" for v in x[ik]) + "\n" for ik in range(len(x))]
        (out / "wilson_loop.dat").write_text("".join(rows))
        log = [
            "\nParameter setting : \n",
            f" >> occ_band : {tb.n_occ:<d}\n",
            f" >> nk1      : {24:<d}\n",
            f" >> nk2      : {31:<d}\n",
            " >> k_start  : {:<8.4f} {:<8.4f} {:<8.4f}\n".format(*map(float, kstart)),
            " >> k_vect1  : {:<8.4f} {:<8.4f} {:<8.4f}\n".format(*map(float, kvec1)),
            " >> k_vect2  : {:<8.4f} {:<8.4f} {:<8.4f}\n".format(*map(float, kvec2)),
        ]
        (run / "Out" / "running.log").write_text("".join(log))
        if p == drop_input:
            continue
        vec = "{:.1f}  {:.1f}  {:.1f}".format
        (run / "Input").write_text(
            "INPUT_PARAMETERS\n{\n    nspin               4\n    package             ABACUS\n"
            "    fermi_energy        0.0\n    HR_route            data-HR-sparse_SPIN0.csr\n"
            "}\n\nWILSON_LOOP\n{\n"
            f"    occ_band           {tb.n_occ}\n"
            f"    k_start            {vec(*map(float, kstart))}\n"
            f"    k_vect1            {vec(*map(float, kvec1))}\n"
            f"    k_vect2            {vec(*map(float, kvec2))}\n"
            "    nk1                24\n    nk2                31\n}\n"
        )


def in_cell(tb, M: np.ndarray):
    """The same model described in the cell ``a' = M a`` (M unimodular)."""
    R = np.rint(tb.R @ np.linalg.inv(M)).astype(int)
    return tb.replace(R=R, lattice=M @ tb.lattice)


def structure(lattice, species, coords) -> Structure:
    return Structure(Lattice(lattice), species, coords)


STRUCTURES = {
    "mp-1001": structure(np.diag([4.1, 4.1, 9.6]), ["Bi", "Se"], [[0, 0, 0], [0.5, 0.5, 0.3]]),
    "mp-1002": structure(np.diag([4.3, 4.3, 6.0]), ["Sn", "Te"], [[0, 0, 0], [1 / 3, 2 / 3, 0.5]]),
    "mp-1003": structure(np.diag([3.9, 4.4, 5.1]), ["Ca", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "mp-1004": structure(np.diag([4.6, 4.6, 4.6]), ["Pb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "mp-2001": structure(
        [[0, 3.2, 3.2], [3.2, 0, 3.2], [3.2, 3.2, 0]], ["Hg", "Te"], [[0, 0, 0], [0.25] * 3]
    ),
    "mp-3001": structure(
        [[4.0, 0.0, 0.0], [1.3, 3.7, 0.0], [0.7, -0.9, 4.4]],
        ["Sb", "I"],
        [[0.02, 0.03, 0.05], [0.41, 0.27, 0.63]],
    ),
    "mp-4001": structure(np.diag([3.0, 3.0, 3.0]), ["Cu"], [[0, 0, 0]]),
    "mp-4002": structure(np.diag([5.0, 5.0, 5.0]), ["Bi", "I"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "mp-4003": structure(np.diag([4.2, 4.2, 8.0]), ["Bi", "Te"], [[0, 0, 0], [0.5, 0.5, 0.4]]),
    "mp-4004": structure(np.diag([5.5, 5.5, 5.5]), ["Tl", "Br"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "mp-4005": structure(np.diag([4.4, 4.4, 7.0]), ["Sb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.3]]),
}
OURS = {  # material -> (status, label, gap)
    "mp-1001": ("done", "STI (1;000)", 0.21),
    "mp-1002": ("done", "WTI (0;001)", 0.15),
    "mp-1003": ("done", "trivial (0;000)", 1.30),
    "mp-1004": ("done", "STI (1;111)", 0.33),
    "mp-2001": ("done", "STI (1;111)", 0.05),
    "mp-3001": ("done", "WTI (0;111)", 0.42),
    "mp-4001": ("done", "metal", -0.8),
    "mp-4002": ("done", "trivial (0;000)", 0.9),
    "mp-4003": ("done", "STI (1;000)", 0.12),
    "mp-4004": ("failed", None, None),
    "mp-4005": ("done", "undefined", 0.002),
}


def result_document(material_id: str) -> dict:
    status, label, gap = OURS[material_id]
    st = STRUCTURES[material_id]
    doc = {
        "material_id": material_id,
        "source": "mp",
        "formula": st.composition.reduced_formula,
        "elements": sorted({el.symbol for el in st.composition}),
        "nsites": len(st),
        "spacegroup": None,
        "structure": st.as_dict(),
        "campaign": "validate-fixture",
        "model": {"name": "uni-hamgnn-demo", "sha256": "0" * 64},
        "status": status,
        "reason": "inference failed: out of memory" if status == "failed" else None,
        "gap": None if gap is None else {"indirect": gap, "direct": max(gap, 0.01) + 0.05},
        "z2": None,
        "timings": {},
        "versions": {"hts_z2": "0.1.0"},
    }
    if status != "done":
        return doc
    planes, nu0, nu = None, None, None
    if "(" in label:
        idx = label[label.index("(") + 1 : label.index(")")]
        nu0, nu = int(idx[0]), [int(c) for c in idx[2:]]
        planes = []
        for v in nu:
            planes += [(nu0 + v) % 2, v]
    doc["z2"] = {
        "planes": planes,
        "nu0": nu0,
        "nu": nu,
        "label": label,
        "min_plane_gap": None if planes is None else round(gap + 0.03, 3),
        "converged": planes is not None,
        "method": "fhs",
        "grid": [16, 9],
    }
    return doc


def main() -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    refs = DATA / "reference"
    refs.mkdir(parents=True)

    # Z2Pack, eigenstate data, JSON, user's own file names (our plane orientation)
    tb = wilson_dirac(-2.0)
    names = ["plane_k1_0", "plane_k1_half", "plane_k2_0", "plane_k2_half", "k3=0", "k3=0.5"]
    (refs / "mp-1001").mkdir()
    for p, name in enumerate(names):
        run_z2pack(eigenstate_system(tb), our_surface(p), refs / "mp-1001" / f"{name}.json")

    # Z2Pack, overlap data, JSON, the Materials-Project workflow's names and surfaces
    (refs / "mp-1002").mkdir()
    for name, surface in MP_SURFACES.items():
        run_z2pack(ModelOverlaps(kane_mele()), surface, refs / "mp-1002" / f"{name}_z2run.json")

    # Z2Pack, eigenstate data, msgpack; directory not named by id: matched by its POSCAR
    (refs / "trivial-run").mkdir()
    for p, name in enumerate(["k1_0", "k1_half", "k2_0", "k2_half", "k3_0", "k3_half"]):
        path = refs / "trivial-run" / f"wd_{name}.msgpack"
        run_z2pack(eigenstate_system(wilson_dirac(4.0)), our_surface(p), path)
    STRUCTURES["mp-1003"].to(filename=str(refs / "trivial-run" / "POSCAR"), fmt="poscar")

    # Z2Pack, overlap data, msgpack
    (refs / "mp-1004").mkdir()
    for p, name in enumerate(["k1_0", "k1_half", "k2_0", "k2_half", "k3_0", "k3_half"]):
        path = refs / "mp-1004" / f"{name}.msgpack"
        run_z2pack(ModelOverlaps(wilson_dirac(2.0)), our_surface(p), path)

    write_wanniertools(fu_kane_mele(0.4), refs / "mp-2001")

    # pyatb in a different (unimodular) cell; one run without Input (plane from its log)
    write_pyatb(in_cell(fu_kane_mele(-0.4), UNIMODULAR), refs / "mp-3001", drop_input=5)
    cell = STRUCTURES["mp-3001"].copy()
    cell.make_supercell(UNIMODULAR)
    cell.to(filename=str(refs / "mp-3001" / "POSCAR"), fmt="poscar")

    (DATA / "table.csv").write_text(
        "material_id,formula,k1_0,k1_half,k2_0,k2_half,k3_0,k3_half,label\n"
        "mp-4002,,1,0,1,0,1,0,STI\n"
        "mp-4003,,1,0,1,0,0,1,\n"
        "mp-4001,,,,,,,,metal\n"
    )
    rows = [
        {"material_id": "mp-4004", "z2": "0;000", "label": "trivial"},
        {"formula": "SbTe", "z2": "1;000"},
        {"material_id": "mp-9999", "z2": "1;000"},
    ]
    (DATA / "table.json").write_text(json.dumps(rows, indent=1) + "\n")
    (DATA / "results.json").write_text(
        json.dumps([result_document(m) for m in OURS], indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
