"""Gap, Z2 label and caution of one predicted model: the sequence that screening
documents and ``hts-z2 predict`` both report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hts_z2.hamiltonian.gap import (
    MANIFOLD_MIN_DIRECT_GAP,
    MANIFOLD_N_MAX,
    BandGap,
    band_gap,
    merge_gaps,
)
from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.schemas.caution import Caution
from hts_z2.topology.invariants import compute_z2
from hts_z2.topology.result import Z2Result

METAL = "metal"


@dataclass
class Assessment:
    """What a screening reports for one model.

    Attributes
    ----------
    gap : over the band grid and path, and the Z2 planes' k-points when Z2 ran.
    label : the Z2 label, ``metal``, or ``insulator`` (Z2 skipped above ``z2_max_gap``).
    z2 : the Z2 result, None when the band grid already shows a metal or Z2 was skipped.
    manifold : a near-insulating metal's occupied-band Z2 (see :func:`near_metal`).
    caution : why the label may flip within the model's band error (None: it may not).
    reason : why the label is not a converged Z2.
    seconds : time by stage ("gap", "z2").
    """

    gap: BandGap
    label: str
    z2: Z2Result | None = None
    manifold: Z2Result | None = None
    caution: Caution | None = None
    reason: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def assess(
    tb: TightBinding,
    kspacing: float,
    band_error: float | None = None,
    method: str = "fhs",
    n_max: int = 64,
    z2_max_gap: float | None = None,
    device: str | None = None,
) -> Assessment:
    """Gap, then Z2 for insulators, with the caution of ``band_error`` (eV, the model's
    validation band error): for an insulator whose gap is smaller, or a metal whose bands
    overlap by less (:func:`near_metal`). The planes' k-points join the gap search, so a
    minimum between grid points is not reported as a larger gap. ``device``: a torch
    device for the Bloch sums and eigensolves (None: numpy)."""
    t0 = time.perf_counter()
    gap = band_gap(tb, kspacing=kspacing, device=device)
    out = Assessment(gap, METAL, seconds={"gap": time.perf_counter() - t0})
    if gap.is_metal:
        return near_metal(tb, out, band_error, method, n_max, device)
    if z2_max_gap is not None and gap.indirect > z2_max_gap:
        out.label = "insulator"
        out.reason = f"Z2 not computed: gap {gap.indirect:.3f} eV > {z2_max_gap} eV"
        out.caution = Caution.gap_below_error(gap.indirect, band_error)
        return out
    t0 = time.perf_counter()
    res = compute_z2(tb, method=method, n_max=n_max, device=device)
    out.seconds["z2"] = time.perf_counter() - t0
    out.z2, out.label = res, res.label
    if res.plane_gap is not None:
        out.gap = merge_gaps(gap, res.plane_gap)
    if out.gap.is_metal or res.label == METAL:
        out.label = METAL
        out.reason = (
            res.reason
            if res.label == METAL
            else f"bands overlap on the Z2 planes: indirect gap {out.gap.indirect:.4f} eV"
        )
        return near_metal(tb, out, band_error, method, n_max, device)
    if not res.converged or not res.defined:
        out.reason = res.reason or "Z2 not converged"
    out.caution = Caution.gap_below_error(out.gap.indirect, band_error)
    return out


def near_metal(
    tb: TightBinding,
    out: Assessment,
    band_error: float | None,
    method: str,
    n_max: int,
    device: str | None = None,
) -> Assessment:
    """``out`` (a metal) with a caution when its bands overlap by less than
    ``band_error``, and then, if its direct gap exceeds ``MANIFOLD_MIN_DIRECT_GAP``, the
    Z2 of its lowest ``n_occ`` bands (plane grids up to ``MANIFOLD_N_MAX``)."""
    out.caution = Caution.overlap_below_error(out.gap.indirect, band_error)
    if out.caution is None or out.gap.direct <= MANIFOLD_MIN_DIRECT_GAP:
        return out
    t0 = time.perf_counter()
    n = min(n_max, MANIFOLD_N_MAX)
    out.manifold = compute_z2(tb, method=method, n_max=n, allow_overlap=True, device=device)
    out.seconds["z2"] = out.seconds.get("z2", 0.0) + time.perf_counter() - t0
    return out
