"""What a screening reports for one model: gap, Z2 label, caution, occupied-band Z2."""

import pytest
from screening_double import tilted_sti

from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.topology.assess import assess


def test_an_insulator_gets_its_z2_and_a_caution_below_the_band_error():
    a = assess(wilson_dirac(-2.0), kspacing=0.5, band_error=50.0)
    assert a.label == "STI (1;000)" and a.z2.defined and a.manifold is None
    assert a.gap.indirect == pytest.approx(2.0) and "gap 2.000 eV <" in a.caution.text
    assert a.reason is None and set(a.seconds) == {"gap", "z2"}
    assert assess(wilson_dirac(-2.0), kspacing=0.5, band_error=1.0).caution is None


def test_z2_skipped_above_z2_max_gap():
    a = assess(wilson_dirac(5.0), kspacing=0.5, z2_max_gap=0.3)
    assert a.label == "insulator" and a.z2 is None and "Z2 not computed" in a.reason


def test_a_near_metal_gets_its_occupied_band_z2():
    a = assess(tilted_sti(0.51), kspacing=0.5, band_error=0.5)
    assert a.label == "metal" and a.z2 is None and a.gap.indirect == pytest.approx(-0.12)
    assert a.manifold.label == "STI (1;000)" and "bands overlap by 0.120 eV" in a.caution.text
