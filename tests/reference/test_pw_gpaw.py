"""The plane-wave backend on real compounds (GPAW runs; the heaviest settings are reduced
where the label does not depend on them, and the committed results say what the default
settings give).

Known answers: Bi2Se3 STI (1;000) inverted at Gamma by ~0.5 eV (Zhang et al., Nat. Phys. 5,
438 (2009)); CdTe (no inversion) trivial from Wilson loops; cubic CsPbBr3 trivial but
PBE-sensitive; HgTe a zero-gap semimetal, never a gapped insulator. Parity and Wilson loops
on the same compound are compared on the committed results (test_label_of_record.py:
SnTe and PbTe), which took 25-30 minutes each with the default settings.
"""

import numpy as np
import pytest

from hts_z2.reference.planewave.backend import planewave_topology
from hts_z2.reference.planewave.record import load_results
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.structures.embedded import get_embedded

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("dft_allowed")]

QUICK = PlaneWaveSettings(ecut=250.0, kpt_density=2.0, path_spacing=0.5)


def run(sid, settings=QUICK, methods="auto"):
    result = planewave_topology(get_embedded(sid).structure, sid, settings, methods)
    assert result.status == "done", result.reason
    return result


def test_bi2se3_is_a_strong_ti_inverted_at_gamma(gpaw_available):
    r = run("Bi2Se3-R-3m", PlaneWaveSettings(ecut=250.0, kpt_density=2.0, path_spacing=0.5),
            "parity")
    assert r.label == "STI (1;000)" and r.z2.method == "parity"
    gamma = r.parity[0]
    assert gamma.k == [0.0, 0.0, 0.0] and gamma.frontier == [1, -1]  # the inversion
    assert gamma.direct_gap == pytest.approx(0.52, abs=0.15)
    assert all(p.deviation < 1e-4 for p in r.parity)
    assert not r.pbe_sensitive


def test_cdte_without_inversion_gets_wilson_loops(gpaw_available):
    r = run("CdTe-F-43m")
    assert not r.centrosymmetric and r.parity is None
    assert r.label == "trivial (0;000)" and r.z2.method == "wilson"
    assert r.sensitivity.energy == pytest.approx(r.gap.direct)


def test_cubic_cspbbr3_is_trivial_and_pbe_sensitive(gpaw_available):
    settings = PlaneWaveSettings(path_spacing=0.5)  # default SCF and bands: R decides
    r = run("CsPbBr3-Pm-3m", settings, "parity")
    assert r.label == "trivial (0;000)" and r.pbe_sensitive
    committed = load_results()["CsPbBr3-Pm-3m"]
    assert committed.label == r.label
    at_r = next(p for p in r.parity if p.k == [0.5, 0.5, 0.5])
    committed_r = next(p for p in committed.parity if p.k == [0.5, 0.5, 0.5])
    assert at_r.direct_gap == pytest.approx(committed_r.direct_gap, abs=0.01)


def test_hgte_is_a_semimetal_not_a_gapped_insulator(gpaw_available):
    r = run("HgTe-F-43m")
    assert r.kind == "semimetal" and r.label == "semimetal" and r.z2 is None
    assert abs(r.gap.indirect) < 0.01 and np.allclose(r.gap.k_vbm, 0)
    assert r.wilson is None  # no Wilson loops for a structure without a gap
