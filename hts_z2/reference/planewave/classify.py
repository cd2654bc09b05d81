"""From gap and Z2 indices to the label of record, and how much PBE can be trusted with it.

Thresholds (documented in docs/label_of_record.md):

- :data:`SEMIMETAL_GAP`: an indirect gap below 50 meV (or overlapping bands) is not a
  gapped insulator: such a structure is a ``semimetal`` (bands overlap by at most
  :data:`METAL_OVERLAP`) or a ``metal``; its occupied-band Z2 may be given as extra
  information, never as its label. An odd electron count is a metal.
- :data:`PBE_SENSITIVE`: an insulator whose deciding band inversion is below 0.3 eV is
  ``pbe_sensitive``. With inversion symmetry the deciding inversion is the smallest direct
  gap at a TRIM whose highest occupied and lowest empty levels have opposite parity (swapping
  them would change the indices); without it, the smallest direct gap computed bounds it.
  A semimetal whose bands overlap (or open a gap) by less than 0.3 eV, but do not touch at
  a degeneracy, is PBE-sensitive too: PBE decides its metal-or-insulator call.
"""

from __future__ import annotations

from dataclasses import dataclass

from hts_z2.reference.planewave.parity import TrimParity, inversion_energy
from hts_z2.schemas.dft import DftZ2, Sensitivity
from hts_z2.topology.result import label_from_planes

SEMIMETAL_GAP = 0.05
"""Indirect gaps below this (eV) are not gapped insulators."""
METAL_OVERLAP = 0.5
"""Bands overlapping by more than this (eV) make a metal, by less a semimetal."""
TOUCHING = 1e-3
"""A gap of at most this magnitude (eV) is a band touching (degeneracy), not a small gap."""
PBE_SENSITIVE = 0.3
"""Deciding band inversions (or gaps) below this (eV) make a label PBE-sensitive."""
MANIFOLD_MIN_DIRECT_GAP = 0.01
"""A semimetal's occupied-band Z2 is given only when its direct gap exceeds this (eV)."""


def z2_doc(method: str, planes: tuple[int, ...] | None, converged: bool, reason: str | None
           ) -> DftZ2:
    """A :class:`DftZ2` from six plane values (None: undefined with ``reason``)."""
    if planes is None:
        return DftZ2(method=method, label="undefined", converged=False, reason=reason)
    try:
        nu0, nu, label = label_from_planes(tuple(planes))
    except ValueError as err:
        return DftZ2(method=method, planes=list(planes), label="undefined", converged=False,
                     reason=str(err))
    return DftZ2(method=method, planes=list(planes), nu0=nu0, nu=list(nu), label=label,
                 converged=converged, reason=reason)


@dataclass(frozen=True)
class Verdict:
    """The label of record and where it comes from."""

    kind: str
    label: str
    z2: DftZ2 | None
    methods_agree: bool | None
    reason: str | None


def gap_kind(n_electrons: int, indirect: float) -> tuple[str, str | None]:
    """``insulator``, ``semimetal`` or ``metal`` from the electron count and indirect gap."""
    if n_electrons % 2:
        return "metal", f"odd number of valence electrons ({n_electrons})"
    if indirect >= SEMIMETAL_GAP:
        return "insulator", None
    if -indirect > METAL_OVERLAP:
        return "metal", f"bands overlap by {-indirect:.3f} eV"
    if indirect <= 0:
        return "semimetal", f"bands overlap by {-indirect:.3f} eV (at most {METAL_OVERLAP} eV)"
    return "semimetal", f"indirect gap {indirect:.3f} eV is below {SEMIMETAL_GAP} eV"


def _defined(z: DftZ2 | None) -> bool:
    return z is not None and z.planes is not None and z.nu0 is not None


def verdict(
    n_electrons: int, indirect: float, parity: DftZ2 | None, wilson: DftZ2 | None
) -> Verdict:
    """Label of record from the gap and the available Z2 results.

    Parity (where computed and defined) is the indices of record; Wilson loops cross-check
    it, or stand alone without inversion symmetry. Two converged methods that disagree
    leave the label ``undefined``; any disagreement is named in ``reason``.
    """
    kind, reason = gap_kind(n_electrons, indirect)
    if kind != "insulator":
        return Verdict(kind, kind, None, None, reason)
    agree = None
    notes = []
    if _defined(parity) and _defined(wilson):
        agree = parity.planes == wilson.planes
        if not agree:
            notes.append(
                f"parity gives {parity.label}, Wilson loops {wilson.label}"
                + ("" if wilson.converged else " (not converged)")
            )
            if parity.converged and wilson.converged:
                return Verdict("undefined", "undefined", None, False, "; ".join(notes))
    record = None
    for candidate in (parity, wilson):
        if _defined(candidate) and candidate.converged:
            record = candidate
            break
    if record is None:
        why = [f"{z.method}: {z.reason}" for z in (parity, wilson) if z is not None and z.reason]
        return Verdict("undefined", "undefined", None, agree,
                       "; ".join(notes + why) or "no Z2 method gave converged indices")
    if wilson is not None and not wilson.converged and agree is not False:
        notes.append(f"Wilson loops not converged ({wilson.reason})")
    return Verdict("insulator", record.label, record, agree, "; ".join(notes) or None)


def sensitivity(
    kind: str,
    indirect: float,
    direct: float,
    parities: list[TrimParity] | None,
    threshold: float = PBE_SENSITIVE,
) -> Sensitivity:
    """Whether PBE's band energies can be trusted with the label (see module docstring)."""
    if kind == "metal":
        return Sensitivity(pbe_sensitive=False, energy=None, threshold=threshold,
                           reason="metal: the label rests on no gap or inversion")
    if kind == "semimetal":
        size = abs(indirect)
        if size <= TOUCHING:
            return Sensitivity(pbe_sensitive=False, energy=size, threshold=threshold,
                               reason="bands touch at a degeneracy")
        return Sensitivity(
            pbe_sensitive=size < threshold, energy=size, threshold=threshold,
            reason=f"bands {'overlap' if indirect <= 0 else 'are separated'} by {size:.3f} eV",
        )
    if kind == "undefined":
        return Sensitivity(pbe_sensitive=True, energy=None, threshold=threshold,
                           reason="no label of record")
    if parities is not None:
        energy = inversion_energy(parities)
        if energy is None:
            return Sensitivity(
                pbe_sensitive=False, energy=None, threshold=threshold,
                reason="no TRIM has frontier levels of opposite parity",
            )
        where = min((p for p in parities if p.flippable), key=lambda p: p.direct_gap).k
        return Sensitivity(
            pbe_sensitive=energy < threshold, energy=energy, threshold=threshold,
            reason=f"frontier levels of opposite parity {energy:.3f} eV apart at k = "
            f"{list(where)}",
        )
    return Sensitivity(
        pbe_sensitive=direct < threshold, energy=direct, threshold=threshold,
        reason=f"no inversion symmetry: the smallest direct gap ({direct:.3f} eV) bounds the "
        "deciding inversion",
    )
