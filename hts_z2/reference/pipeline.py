"""``gpaw_reference``: structure -> GPAW LCAO(+SOC) -> :class:`ReferenceSample`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from hts_z2 import __version__
from hts_z2.hamiltonian.gap import band_gap, merge_gaps
from hts_z2.reference.convert import PruneSettings, make_sample
from hts_z2.reference.gpaw_scf import GpawSettings
from hts_z2.reference.sample import ReferenceSample
from hts_z2.structures.chemistry import MAGNETIC_ELEMENTS
from hts_z2.topology import z2_invariants


class ReferenceError(RuntimeError):
    """A structure cannot give a reference sample; the message is the recorded reason."""


@dataclass(frozen=True)
class ReferenceSettings:
    """Everything that defines a reference calculation.

    Attributes
    ----------
    gpaw : the DFT settings (basis, xc, k-points, smearing).
    prune : which blocks are stored.
    max_atoms : larger primitive cells are refused (cost grows ~ atoms^3).
    labels : also compute the reference gap and Z2 of the full model.
    verify : compare the extracted model with GPAW's own spinless and SOC eigenvalues on the
        SCF grid (``gpaw_checks.compare_with_gpaw``) and record the deviations.
    """

    gpaw: GpawSettings = field(default_factory=GpawSettings)
    prune: PruneSettings = field(default_factory=PruneSettings)
    max_atoms: int = 12
    labels: bool = True
    verify: bool = False


def check_structure(structure, max_atoms: int) -> None:
    """Refuse what the backend cannot treat, with the reason.

    Raises
    ------
    ReferenceError for partial occupancies, magnetic elements, or too many atoms.
    """
    if not structure.is_ordered:
        raise ReferenceError("partial occupancies (disordered structure) are not supported")
    elements = sorted({el.symbol for el in structure.composition.elements})
    magnetic = [e for e in elements if e in MAGNETIC_ELEMENTS]
    if magnetic:
        raise ReferenceError(f"magnetic element(s) {', '.join(magnetic)}: Z2 needs time reversal")
    if len(structure) > max_atoms:
        raise ReferenceError(f"{len(structure)} atoms exceed the limit of {max_atoms}")
    if len(structure) > 1:
        d = structure.distance_matrix[np.triu_indices(len(structure), 1)]
        if d.min() < 0.5:
            raise ReferenceError(f"atoms overlap (closest pair {d.min():.2f} Å)")


def reference_labels(tb, manifold: bool = True) -> dict:
    """Band gap and Z2 of a full reference model.

    ``z2`` is what a screening reports (``metal`` when bands overlap anywhere, on the band
    grid or on the Z2 planes; ``gap`` covers both sets of k-points). With ``manifold``,
    ``z2_manifold`` is added for such semimetals when the direct gap stays open: the
    indices of the lowest ``n_occ`` bands (Z2 needs only a direct gap).
    """

    def summary(z2) -> dict:
        return {
            "label": z2.label,
            "planes": z2.planes,
            "reason": z2.reason,
            "min_plane_gap": z2.min_plane_gap,
            "grid": z2.grid,
        }

    gap = band_gap(tb, kspacing=0.25)
    out: dict = {"gap": gap.to_dict()}
    if not gap.is_metal:
        z2 = z2_invariants(tb, n_max=64)
        out["z2"] = summary(z2)
        if z2.plane_gap is not None:  # the planes' k-points join the gap search
            gap = merge_gaps(gap, z2.plane_gap)
            out["gap"] = gap.to_dict()
        if z2.label != "metal":
            return out
    else:
        out["z2"] = {
            "label": "metal",
            "reason": f"indirect gap {gap.indirect:.4f} eV",
            "planes": None,
        }
    if manifold and gap.direct > 1e-3:
        out["z2_manifold"] = summary(z2_invariants(tb, n_max=64, allow_overlap=True))
    return out


NO_MANIFOLD = "metal, no occupied-band Z2"
"""A metal without ``z2_manifold``: its direct gap closes, or (labels stored before
2026-12-03) its bands overlap on the Z2 planes only, for which no manifold was computed."""


def occupied_label(labels: dict) -> str:
    """Topology of the lowest ``n_occ`` bands from :func:`reference_labels` (with
    ``manifold``): an insulator's label, a metal's ``z2_manifold`` label (what it would
    be if its bands stopped overlapping), or :data:`NO_MANIFOLD`. Compares band
    inversions even where the gap's sign differs."""
    label = labels["z2"]["label"]
    if label != "metal":
        return label
    return (labels.get("z2_manifold") or {}).get("label", NO_MANIFOLD)


def gpaw_reference(
    structure, sample_id: str, settings: ReferenceSettings | None = None
) -> ReferenceSample:
    """Run GPAW (LCAO, SOC in the PAW spheres) and build the training sample.

    Parameters
    ----------
    structure : pymatgen ``Structure`` (ordered, non-magnetic).
    sample_id : identifier stored in the sample (e.g. "Bi2Se3-R-3m/strain+0.02").
    settings : :class:`ReferenceSettings`.

    Raises
    ------
    ReferenceError (bad structure) or ``gpaw_lcao.GpawError`` (setups, SCF).
    """
    from hts_z2.reference.gpaw_lcao import extract_lcao
    from hts_z2.reference.gpaw_scf import gpaw_atoms, run_scf

    settings = settings or ReferenceSettings()
    check_structure(structure, settings.max_atoms)
    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    positions = np.asarray(structure.frac_coords, dtype=float)
    numbers = np.array(structure.atomic_numbers)
    t0 = time.perf_counter()
    calc = run_scf(gpaw_atoms(lattice, positions, numbers), settings.gpaw)
    t1 = time.perf_counter()
    lcao = extract_lcao(calc)
    t2 = time.perf_counter()
    verification = {}
    if settings.verify:
        from hts_z2.reference.gpaw_checks import compare_with_gpaw

        verification = compare_with_gpaw(calc, lcao, n_window=16)
    meta = {
        "formula": structure.composition.reduced_formula,
        "settings": {"gpaw": asdict(settings.gpaw), "max_atoms": settings.max_atoms},
        "versions": _versions(),
        "fermi_level_eV": float(lcao.fermi_level),
    }
    sample = make_sample(
        sample_id,
        lcao.lattice,
        lcao.positions,
        lcao.numbers,
        lcao.shells,
        lcao.R,
        lcao.H0,
        lcao.S,
        lcao.soc,
        lcao.n_electrons,
        settings.prune,
        meta,
    )
    t3 = time.perf_counter()
    labels = {}
    if settings.labels and lcao.n_electrons % 2 == 0:
        labels = reference_labels(lcao.tight_binding())
    elif settings.labels:
        labels = {"z2": {"label": "metal", "reason": "odd electron count", "planes": None}}
    timings = {
        "scf_s": t1 - t0,
        "extract_s": t2 - t1,
        "sample_s": t3 - t2,
        "labels_s": time.perf_counter() - t3,
    }
    extra = {"reference": labels, "timings": timings}
    if verification:
        extra["verification"] = verification
    return ReferenceSample(**{**sample.__dict__, "meta": {**sample.meta, **extra}})


def _versions() -> dict:
    import gpaw

    out = {"hts_z2": __version__, "gpaw": gpaw.__version__}
    try:
        import gpaw_data

        out["gpaw_data"] = getattr(gpaw_data, "__version__", "unknown")
    except ImportError:
        out["gpaw_data"] = "missing"
    return out
