"""``planewave_topology``: structure -> GPAW PW PBE+SOC -> gap, Z2 (parity / Wilson) -> label.

Stages, each timed: SCF (point-group symmetry) -> one non-self-consistent run at the TRIM,
the SCF grid's irreducible points and the high-symmetry path (spin–orbit by second
variation; gap and, with inversion symmetry, Fu–Kane parities) -> for insulators, Wilson
loops on the six TRIM planes (each plane its own non-self-consistent runs) -> verdict.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from hts_z2 import __version__
from hts_z2.hamiltonian.gap import BandGap, edges_gap, merge_gaps
from hts_z2.hamiltonian.kpath import high_symmetry_path
from hts_z2.reference.gpaw_scf import GpawError, gpaw_atoms
from hts_z2.reference.pipeline import ReferenceError, check_structure
from hts_z2.reference.planewave import classify
from hts_z2.reference.planewave.parity import (
    TRIM,
    TrimParity,
    parity_matrices,
    planes_from_deltas,
    spinor_matrix,
    trim_parity,
)
from hts_z2.reference.planewave.planes import (
    GROUP_GAP_MIN,
    PLANES,
    SMALL_LINE_GAP,
    WilsonPlane,
    band_groups,
    critical_lines,
    line_kpoints,
    lines_wcc,
    loop_points,
    wilson_plane,
)
from hts_z2.reference.planewave.settings import METHOD, TOPOLOGY_METHODS, PlaneWaveSettings
from hts_z2.schemas.dft import (
    DftGap,
    DftResult,
    DftZ2,
    TrimParityDoc,
    WilsonPlaneDoc,
)
from hts_z2.structures.fingerprint import structure_fingerprint

Progress = Callable[[str], None]
PARITY_TOL = 1e-3
"""Parity eigenvalues farther than this from +-1 leave the parity indices undefined."""


def _noop(_: str) -> None:
    return None


def structure_fields(structure, material_id: str, settings: PlaneWaveSettings) -> dict:
    """The identifying fields of a result document (no computation)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        spacegroup = SpacegroupAnalyzer(structure, symprec=1e-3).get_space_group_number()
    except Exception:  # a broken cell still gets a document with its reason
        spacegroup = None
    return {
        "material_id": material_id,
        "formula": structure.composition.reduced_formula,
        "fingerprint": structure_fingerprint(structure),
        "structure": structure.as_dict(),
        "spacegroup": spacegroup,
        "method": METHOD,
        "settings": settings.to_dict(),
        "settings_key": settings.key(),
        "versions": versions(),
    }


def calculation_details(structure, settings: PlaneWaveSettings, n_electrons: int | None
                        ) -> dict:
    """What the settings give for this cell: SCF k-mesh and scalar bands."""
    from hts_z2.reference.gpaw_scf import kpoint_grid

    out = {"scf_kpts": list(kpoint_grid(np.asarray(structure.lattice.matrix),
                                        settings.kpt_density))}
    if n_electrons is not None:
        out["scalar_bands"] = settings.scalar_bands(n_electrons)
    return out


def versions() -> dict[str, str]:
    """Versions of the code behind a first-principles result."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"hts_z2": __version__}
    for package in ("gpaw", "gpaw-data", "ase", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "missing"
    return out


def _gap_doc(gap: BandGap) -> DftGap:
    return DftGap(
        indirect=gap.indirect, direct=gap.direct, vbm=gap.vbm, cbm=gap.cbm,
        k_vbm=list(gap.k_vbm), k_cbm=list(gap.k_cbm), k_direct=list(gap.k_direct), n_k=gap.n_k,
    )


def _parities(states, trim_index: np.ndarray, n_el: int, t: np.ndarray) -> list[TrimParity]:
    """Fu–Kane data at the eight TRIM of a non-self-consistent run."""
    out = []
    m = min(states.energies.shape[1], n_el + 8)
    for i, k in zip(trim_index, TRIM, strict=True):
        c, miller = states.coefficients(int(i))
        P, S = parity_matrices(c, miller, k, t)
        v = states.vectors(int(i), m)
        out.append(trim_parity(spinor_matrix(P, v), spinor_matrix(S, v),
                               states.energies[i, :m], n_el, k))
    return out


def parity_z2(parities: list[TrimParity], label_method: str = "parity") -> DftZ2:
    """Indices from the eight TRIM; undefined when a TRIM is not clean (odd count of odd
    states, eigenvalues away from +-1, or a closed direct gap)."""
    problems = []
    for p in parities:
        if p.n_odd % 2:
            problems.append(f"odd number of odd states at {list(p.k)}")
        if p.deviation > PARITY_TOL:
            problems.append(f"parity eigenvalues {p.deviation:.1e} from +-1 at {list(p.k)}")
        if p.direct_gap <= classify.TOUCHING:
            problems.append(f"direct gap closes at TRIM {list(p.k)}")
    if problems:
        return classify.z2_doc(label_method, None, False, "; ".join(problems))
    planes = planes_from_deltas(np.array([p.delta for p in parities]))
    return classify.z2_doc(label_method, planes, True, None)


def _parity_docs(parities: list[TrimParity]) -> list[TrimParityDoc]:
    return [TrimParityDoc(**{**asdict(p), "k": list(p.k), "frontier": list(p.frontier)})
            for p in parities]


def _wilson(calc, structure, settings, n_el, groups, progress: Progress, rotations,
            critical: np.ndarray) -> tuple[list[WilsonPlane], BandGap | None]:
    """Wilson-loop Z2 of the six planes and the band edges of their k-points.

    Two passes: every plane first, then again for planes on which the symmetry images of
    the small-gap points found anywhere (``critical`` from the bands run, plus each plane's
    own) call for lines they do not have yet."""
    from hts_z2.reference.planewave.gpaw_pw import soc_states

    lattice = np.asarray(structure.lattice.matrix)

    def groups_on(E):
        """The groups, or one group where they come close on these k-points."""
        apart = all(
            float(np.min(E[:, g.start] - E[:, g.start - 1])) > GROUP_GAP_MIN
            for g in groups[1:]
        )
        return groups if apart else [slice(0, n_el)]

    computes, datas, results = [], [], []
    for p, (fixed, value) in enumerate(PLANES):
        a = (fixed + 1) % 3
        n = loop_points(lattice, a, settings.wilson_spacing, settings.wilson_min_points)
        chosen: list[list[slice]] = []

        def compute(kb, n, fixed=fixed, value=value, chosen=chosen):
            states = soc_states(calc, line_kpoints(fixed, value, kb, n), settings, n_el)
            if not chosen:  # one grouping per plane, fixed by its first lines
                chosen.append(groups_on(states.energies))
            return lines_wcc(states, fixed, kb, n, n_el, chosen[0])

        progress(f"Wilson loops, plane {p + 1}/6")
        extra = critical_lines(critical, rotations, p)
        result, data = wilson_plane(compute, p, n, settings.wilson_max_lines, extra_kb=extra)
        computes.append((compute, n))
        datas.append(data)
        results.append(result)
    found = [critical] + [d.k[(d.conduction - d.valence) < SMALL_LINE_GAP] for d in datas]
    critical = np.concatenate(found)
    for p in range(6):
        extra = critical_lines(critical, rotations, p)
        missing = [kb for kb in extra if np.min(np.abs(datas[p].kb - kb)) > 2e-3]
        if missing:
            progress(f"Wilson loops, plane {p + 1}/6: {len(missing)} line(s) through "
                     "symmetry images of small-gap points")
            compute, n = computes[p]
            results[p], datas[p] = wilson_plane(compute, p, n, settings.wilson_max_lines,
                                                start=datas[p], extra_kb=np.array(missing))
    gap = None
    for data in datas:
        edges = edges_gap(data.k, data.valence, data.conduction, len(data.k))
        gap = edges if gap is None else merge_gaps(gap, edges)
    return results, gap


def wilson_z2(planes: list[WilsonPlane]) -> DftZ2:
    """Indices from six Wilson-loop planes (undefined if any plane is)."""
    missing = [w.reason or f"{w.name} undefined" for w in planes if w.z2 is None]
    if missing:
        return classify.z2_doc("wilson", None, False, "; ".join(missing))
    unconverged = [w.reason for w in planes if not w.converged]
    return classify.z2_doc("wilson", tuple(w.z2 for w in planes), not unconverged,
                           "; ".join(unconverged) or None)


def _wilson_docs(planes: list[WilsonPlane]) -> list[WilsonPlaneDoc]:
    return [WilsonPlaneDoc(**asdict(w)) for w in planes]


def occupied_manifold(z_parity: DftZ2 | None, z_wilson: DftZ2 | None) -> DftZ2 | None:
    """The Z2 of a semimetal's occupied bands (direct gap open everywhere): parity where
    the cell has inversion, else converged Wilson loops (run when the path showed a gap
    and the planes found a smaller one), else None."""
    for z in (z_parity, z_wilson):
        if z is not None and z.planes is not None and z.converged:
            return z
    return None


SWITCH = "HTS_Z2_DFT"
"""Environment variable: ``off`` forbids first-principles runs on this machine (a login
node, a laptop, a test suite); cached results are still used."""


def unavailable() -> str | None:
    """Why no plane-wave run can start here (``HTS_Z2_DFT=off``, or GPAW missing), or None."""
    if os.environ.get(SWITCH, "").strip().lower() in ("off", "0", "no", "false"):
        return f"first-principles runs are switched off here ({SWITCH}=off)"
    try:
        import gpaw  # noqa: F401
    except ImportError:
        return "GPAW is not installed (pip install 'hts-z2[dft]')"
    return None


def planewave_topology(
    structure,
    material_id: str,
    settings: PlaneWaveSettings | None = None,
    methods: str = "auto",
    progress: Progress | None = None,
    txt: str | None = None,
) -> DftResult:
    """The plane-wave label of record of one structure.

    Parameters
    ----------
    structure : pymatgen ``Structure`` (ordered, non-magnetic); the cell is used as given
        (weak indices refer to it).
    material_id : identifier stored with the result.
    methods : one of :data:`TOPOLOGY_METHODS`.
    progress : called with a short text before each stage.
    txt : GPAW log file of the SCF.

    Returns
    -------
    :class:`DftResult` with status ``done``; ``skipped`` (structure refused) or ``failed``
    (GPAW error) with the reason. Never raises for a bad structure or a failed SCF.
    """
    settings = settings or PlaneWaveSettings()
    progress = progress or _noop
    if methods not in TOPOLOGY_METHODS:
        raise ValueError(f"methods must be one of {TOPOLOGY_METHODS}, got {methods!r}")
    fields = {**structure_fields(structure, material_id, settings), "requested": methods}
    try:
        check_structure(structure, settings.max_atoms)
    except ReferenceError as err:
        return DftResult(**fields, status="skipped", reason=str(err))
    why = unavailable()
    if why is not None:
        return DftResult(**fields, status="skipped", reason=why)
    try:
        return _compute(structure, fields, settings, methods, progress, txt)
    except GpawError as err:
        return DftResult(**fields, status="failed", reason=str(err))


def _compute(structure, fields, settings, methods, progress, txt) -> DftResult:
    from hts_z2.reference.planewave.gpaw_pw import (
        inversion_translation,
        n_valence,
        point_group,
        run_pw_scf,
        scf_ibz_kpoints,
        soc_states,
        unique_kpoints,
    )

    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    frac = np.asarray(structure.frac_coords, dtype=float)
    numbers = np.array(structure.atomic_numbers)
    t_inv = inversion_translation(lattice, frac, numbers)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    progress("SCF")
    calc = run_pw_scf(gpaw_atoms(lattice, frac, numbers), settings, txt=txt)
    n_el = n_valence(calc)
    timings["scf_s"] = time.perf_counter() - t0

    progress("bands with spin–orbit coupling")
    t1 = time.perf_counter()
    path = high_symmetry_path(lattice, frac, numbers, reference_distance=settings.path_spacing)
    k, (trim_index, _, _) = unique_kpoints(TRIM, scf_ibz_kpoints(calc), path.k)
    states = soc_states(calc, k, settings, n_el)
    E = states.energies
    gap = edges_gap(k, E[:, n_el - 1], E[:, n_el], len(k))
    timings["bands_s"] = time.perf_counter() - t1

    parities, z_parity = None, None
    if t_inv is not None and n_el % 2 == 0 and methods != "wilson":
        t2 = time.perf_counter()
        progress("parity at the TRIM")
        parities = _parities(states, trim_index, n_el, t_inv)
        z_parity = parity_z2(parities)
        timings["parity_s"] = time.perf_counter() - t2
    E = E[:, : n_el + 2]  # k stays: the small-gap points guide the Wilson lines
    del states

    kind, _ = classify.gap_kind(n_el, gap.indirect)
    planes_w, z_wilson = None, None
    if kind == "insulator" and (methods != "parity" or t_inv is None):
        t3 = time.perf_counter()
        groups = band_groups(E[:, : n_el + 1], n_el)
        critical = k[(E[:, n_el] - E[:, n_el - 1]) < SMALL_LINE_GAP]
        planes_w, plane_gap = _wilson(calc, structure, settings, n_el, groups, progress,
                                      point_group(lattice, frac, numbers), critical)
        z_wilson = wilson_z2(planes_w)
        gap = merge_gaps(gap, plane_gap)
        timings["wilson_s"] = time.perf_counter() - t3

    result = classify.verdict(n_el, gap.indirect, z_parity, z_wilson)
    manifold = None
    if result.kind == "semimetal" and gap.direct > classify.MANIFOLD_MIN_DIRECT_GAP:
        manifold = occupied_manifold(z_parity, z_wilson)
    sens = classify.sensitivity(result.kind, gap.indirect, gap.direct,
                                parities if z_parity is not None else None)
    timings["total_s"] = time.perf_counter() - t0
    used = [m for m, z in (("parity", z_parity), ("wilson", z_wilson)) if z is not None]
    return DftResult(
        **fields,
        centrosymmetric=t_inv is not None,
        topology_methods=used,
        status="done",
        reason=result.reason,
        kind=result.kind,
        label=result.label,
        z2=result.z2,
        z2_parity=z_parity,
        z2_wilson=z_wilson,
        methods_agree=result.methods_agree,
        z2_manifold=manifold,
        gap=_gap_doc(gap),
        n_electrons=n_el,
        calculation=calculation_details(structure, settings, n_el),
        parity=_parity_docs(parities) if parities is not None else None,
        wilson=_wilson_docs(planes_w) if planes_w is not None else None,
        sensitivity=sens,
        pbe_sensitive=sens.pbe_sensitive,
        timings=timings,
    )
