"""A stand-in for the ML model: real TightBinding objects from textbook lattice models.

Rules (by reduced formula): Bi2Se3 / Bi2Te3 / TlBiSe2 -> Wilson–Dirac m=-2, STI (1;000);
KHgSb -> "inference" error; all-metal compositions -> a half-filled spin-degenerate band
(metal); everything else -> Wilson–Dirac m=5, trivial (0;000). Hf is outside its basis.
``HTS_Z2_TOY_DELAY`` (seconds per structure) slows prediction down for kill tests.
"""

import hashlib
import os
import time

import numpy as np
from pymatgen.core import Element

from hts_z2.hamiltonian.lattice_models import from_terms, wilson_dirac

STI = ("Bi2Se3", "Bi2Te3", "TlBiSe2")
BROKEN = ("KHgSb",)


def metal_model():
    """Two degenerate orbitals x spin, cubic hopping, half filled (n_occ=2): a metal."""
    hops = [((1, 0, 0), -np.eye(4)), ((0, 1, 0), -np.eye(4)), ((0, 0, 1), -np.eye(4))]
    return from_terms(np.eye(3) * 3.0, hops, n_occ=2)


class ToyScreeningModel:
    name = "toy-lattice"
    sha256 = hashlib.sha256(b"toy-lattice-v1").hexdigest()
    elements = frozenset(z for z in range(1, 95) if z != 72)

    def __init__(self):
        self.calls = 0

    def predict(self, structures, batch_size=8, device="cpu", errors="raise"):
        self.calls += 1
        delay = float(os.environ.get("HTS_Z2_TOY_DELAY", "0"))
        out = []
        for s in structures:
            time.sleep(delay)
            formula = s.composition.reduced_formula
            if formula in BROKEN:
                raise RuntimeError(f"toy model cannot do {formula}")
            if formula in STI:
                out.append(wilson_dirac(-2.0))
            elif all(Element(e.symbol).is_metal for e in s.composition.elements):
                out.append(metal_model())
            else:
                out.append(wilson_dirac(5.0))
        return out


class CalibratedToyModel(ToyScreeningModel):
    """The toy model with a validated band error (eV), as a calibrated model has."""

    def __init__(self, band_error):
        super().__init__()
        self.band_error = band_error


def tilted_sti(a: float):
    """wilson_dirac(-2), STI (1;000), with a band-wide tilt 2 a (cos 2pi k1 + ...): the
    bands overlap by 12 (a - 1/2) eV (the valence top at Gamma rises above the conduction
    bottom at the X points) while the direct gap stays 2 eV."""
    tb = wilson_dirac(-2.0)
    H = tb.H.copy()
    H[np.abs(tb.R).sum(axis=1) == 1] += a * np.eye(4)
    return tb.replace(H=H)


class NearMetalToyModel(CalibratedToyModel):
    """Every structure becomes ``tilted_sti(0.51)``: a metal whose bands overlap by
    0.12 eV, with inverted occupied bands; band error 0.5 eV."""

    def __init__(self):
        super().__init__(0.5)

    def predict(self, structures, batch_size=8, device="cpu", errors="raise"):
        return [tilted_sti(0.51) for _ in structures]


def make_model():
    """Factory for ``model="py:screening_double:make_model"``."""
    return ToyScreeningModel()


class DomainToyModel(CalibratedToyModel):
    """The toy model with a domain reference (threshold 1.0): Bi2Se3 lies inside it
    (distance 0.5), PbTe outside (3.0), the rest has an element it never saw (inf)."""

    def __init__(self):
        from hts_z2.model.domain import DomainReference

        super().__init__(None)
        self.domain = DomainReference({83: np.zeros((1, 2), np.float32)}, 1.0, 0.75, "toy")

    def domain_atoms(self, structures, batch_size=32, device="cpu"):
        by_formula = {"Bi2Se3": 0.5, "TePb": 3.0}
        return [
            (
                np.array([site.specie.Z for site in s]),
                np.full(len(s), by_formula.get(s.composition.reduced_formula, np.inf)),
            )
            for s in structures
        ]
