"""Settings of the plane-wave label of record, and the key that identifies them."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

METHOD = "gpaw-pw-pbe-soc"
"""Name of the first-principles method: GPAW plane waves, PBE, spin–orbit coupling added
non-self-consistently (second variation over the scalar-relativistic bands)."""
TOPOLOGY_METHODS = ("auto", "parity", "wilson")
"""``auto``: Fu–Kane parity where the cell has inversion symmetry, cross-checked by Wilson
loops, and Wilson loops alone otherwise; ``parity``: parity only (Wilson loops where there
is no inversion); ``wilson``: Wilson loops only. Wilson loops run for insulators only."""


@dataclass(frozen=True)
class PlaneWaveSettings:
    """Everything that defines a plane-wave calculation (part of the cache key).

    Attributes
    ----------
    ecut : plane-wave cutoff (eV).
    xc : exchange–correlation functional.
    kpt_density : Gamma-centred SCF grid, ``max(1, round(density |b_i|))`` points along
        ``b_i`` (1/Å, 2 pi included); its irreducible points also enter the gap search.
    width : Fermi–Dirac smearing of the SCF (eV).
    band_factor : scalar bands of the non-self-consistent runs, ``ceil(factor * n_el / 2)``;
        spin–orbit coupling is diagonalized in the space of these bands. Measured on
        Bi2Se3 (random k): conduction edges move by 65 / 24 / 25 meV from 32 to 40 to 48 to
        64 scalar bands, so the default 2.0 (48 for Bi2Se3) leaves ~50 meV.
    path_spacing : spacing of the high-symmetry path (1/Å).
    wilson_spacing : largest step along a Wilson loop (1/Å, 2 pi included); at least
        ``wilson_min_points`` points per loop.
    wilson_max_lines : most lines per half plane after adaptive insertion.
    eigenstates : convergence of the non-self-consistent eigenstates (eV^2 per electron).
    maxiter : SCF iterations.
    max_atoms : larger cells are refused (cost grows ~ atoms^3).
    """

    ecut: float = 350.0
    xc: str = "PBE"
    kpt_density: float = 3.5
    width: float = 0.01
    band_factor: float = 2.0
    path_spacing: float = 0.08
    wilson_spacing: float = 0.35
    wilson_min_points: int = 6
    wilson_max_lines: int = 25
    eigenstates: float = 1e-7
    maxiter: int = 300
    max_atoms: int = 12

    def __post_init__(self) -> None:
        checks = {
            "ecut": self.ecut > 50,
            "kpt_density": self.kpt_density > 0,
            "width": self.width >= 0,
            "band_factor": self.band_factor >= 1.0,
            "path_spacing": self.path_spacing > 0,
            "wilson_spacing": self.wilson_spacing > 0,
            "wilson_min_points": self.wilson_min_points >= 4,
            "wilson_max_lines": self.wilson_max_lines >= 3,
            "eigenstates": self.eigenstates > 0,
            "maxiter": self.maxiter > 0,
            "max_atoms": self.max_atoms > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid plane-wave settings: {values}")

    def scalar_bands(self, n_electrons: int) -> int:
        """Scalar bands of the non-self-consistent runs for ``n_electrons`` valence electrons."""
        n_occ = math.ceil(n_electrons / 2)
        return max(n_occ + 16, math.ceil(self.band_factor * n_occ))

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        """Stable short hash of the settings (with :data:`METHOD`)."""
        text = json.dumps({"method": METHOD, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
