"""Label of record from gap and Z2 results: semimetal threshold, method agreement, and the
PBE-sensitivity flag."""

import pytest

from hts_z2.reference.planewave.classify import (
    METAL_OVERLAP,
    PBE_SENSITIVE,
    SEMIMETAL_GAP,
    gap_kind,
    sensitivity,
    verdict,
    z2_doc,
)
from hts_z2.reference.planewave.parity import TrimParity

STI = (1, 0, 1, 0, 1, 0)
TRIVIAL = (0,) * 6


def test_gap_kind_thresholds():
    assert gap_kind(48, 0.3) == ("insulator", None)
    assert gap_kind(48, SEMIMETAL_GAP - 1e-3)[0] == "semimetal"
    assert gap_kind(48, 0.0)[0] == "semimetal"
    assert gap_kind(48, -0.2)[0] == "semimetal"
    assert gap_kind(48, -METAL_OVERLAP - 0.1)[0] == "metal"
    kind, reason = gap_kind(11, 2.0)
    assert kind == "metal" and "odd" in reason


def test_no_semimetal_is_a_gapped_insulator():
    v = verdict(36, 0.02, z2_doc("parity", STI, True, None), None)
    assert v.kind == "semimetal" and v.label == "semimetal" and v.z2 is None


def test_parity_is_of_record_and_wilson_cross_checks():
    v = verdict(48, 0.3, z2_doc("parity", STI, True, None), z2_doc("wilson", STI, True, None))
    assert (v.label, v.methods_agree, v.z2.method) == ("STI (1;000)", True, "parity")


def test_converged_disagreement_is_undefined_and_reported():
    v = verdict(48, 0.3, z2_doc("parity", STI, True, None), z2_doc("wilson", TRIVIAL, True, None))
    assert v.label == "undefined" and v.methods_agree is False
    assert "parity gives STI (1;000), Wilson loops trivial (0;000)" in v.reason


def test_unconverged_wilson_disagreement_keeps_parity_but_says_so():
    wilson = z2_doc("wilson", TRIVIAL, False, "largest-gap test fails")
    v = verdict(48, 0.3, z2_doc("parity", STI, True, None), wilson)
    assert v.label == "STI (1;000)" and v.methods_agree is False
    assert "not converged" in v.reason


def test_wilson_alone_without_inversion():
    v = verdict(48, 0.4, None, z2_doc("wilson", TRIVIAL, True, None))
    assert (v.label, v.z2.method, v.methods_agree) == ("trivial (0;000)", "wilson", None)
    v = verdict(48, 0.4, None, z2_doc("wilson", None, False, "direct gap closes on plane k1=0"))
    assert v.label == "undefined" and "direct gap closes" in v.reason


def parity(k, gap, frontier):
    return TrimParity(k=k, delta=1, n_odd=0, deviation=0.0, direct_gap=gap, frontier=frontier)


def test_sensitivity_from_the_deciding_inversion():
    trims = [parity((0, 0, 0), 0.52, (1, -1)), parity((0.5, 0.5, 0.5), 1.2, (1, 1))]
    s = sensitivity("insulator", 0.3, 0.3, trims)
    assert not s.pbe_sensitive and s.energy == pytest.approx(0.52)
    trims = [parity((0.5, 0.5, 0.5), 0.2, (-1, 1)), parity((0, 0, 0), 2.0, (1, -1))]
    s = sensitivity("insulator", 0.2, 0.2, trims)
    assert s.pbe_sensitive and s.energy == pytest.approx(0.2) and "[0.5, 0.5, 0.5]" in s.reason
    s = sensitivity("insulator", 0.1, 0.1, [parity((0, 0, 0), 0.1, (1, 1))])
    assert not s.pbe_sensitive and s.energy is None  # no swap can change the indices
    s = sensitivity("insulator", 0.4, 0.25, None)  # no inversion: the direct gap bounds it
    assert s.pbe_sensitive and s.energy == pytest.approx(0.25)
    assert sensitivity("insulator", 0.4, PBE_SENSITIVE + 0.1, None).pbe_sensitive is False


def test_sensitivity_of_semimetals_and_metals():
    assert sensitivity("semimetal", 0.0, 0.0, None).pbe_sensitive is False  # touching
    assert sensitivity("semimetal", -0.1, 0.05, None).pbe_sensitive is True
    assert sensitivity("semimetal", -0.45, 0.05, None).pbe_sensitive is False
    assert sensitivity("metal", -3.0, 0.0, None).pbe_sensitive is False


def test_the_occupied_manifold_of_a_semimetal_from_parity_else_converged_wilson():
    from hts_z2.reference.planewave.backend import occupied_manifold
    from hts_z2.reference.planewave.classify import z2_doc

    parity = z2_doc("parity", (1, 0, 1, 0, 1, 0), True, None)
    wilson = z2_doc("wilson", (1, 0, 1, 0, 0, 1), True, None)
    unconverged = z2_doc("wilson", (1, 0, 1, 0, 0, 1), False, "lines exhausted")
    assert occupied_manifold(parity, wilson).label == "STI (1;000)"
    assert occupied_manifold(None, wilson).label == "STI (1;001)"  # BiTeI, no inversion
    assert occupied_manifold(None, unconverged) is None
    assert occupied_manifold(z2_doc("parity", None, False, "gap closes"), None) is None
