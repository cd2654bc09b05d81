"""Caution: a code with its numbers; its text is derived, earlier prose is read back."""

import pytest

from hts_z2.schemas.caution import DOMAIN_CODES, Caution, from_text, replace_codes


def test_gap_caution_only_below_the_model_band_error():
    assert Caution.gap_below_error(0.2, None) is None
    assert Caution.gap_below_error(0.6, 0.541) is None
    assert Caution.gap_below_error(0.541, 0.541) is None
    c = Caution.gap_below_error(0.057, 0.541)
    assert (c.code, c.value, c.threshold) == ("gap_below_band_error", 0.057, 0.541)
    assert "0.057 eV < the model's validation band error 0.541 eV" in c.text


def test_overlap_caution_only_for_overlaps_below_the_model_band_error():
    assert Caution.overlap_below_error(-0.015, None) is None
    assert Caution.overlap_below_error(-0.7, 0.6) is None
    c = Caution.overlap_below_error(-0.015, 0.6)
    assert c.code == "overlap_below_band_error" and c.value == pytest.approx(0.015)
    assert "bands overlap by 0.015 eV < the model's validation band error 0.600 eV" in c.text


def test_domain_caution_beyond_the_threshold_or_for_an_unseen_element():
    assert Caution.outside_domain(1.5, 2.0) is None and Caution.outside_domain(2.0, 2.0) is None
    assert Caution.outside_domain(None, 2.0) is None and Caution.outside_domain(9.0, None) is None
    far = Caution.outside_domain(2.5, 2.0)
    assert far.code == "outside_domain" and "2.50 > 2.00" in far.text
    unseen = Caution.outside_domain(float("inf"), 2.0)
    assert unseen.code == "unseen_element" and "no environment" in unseen.text


def test_a_new_domain_caution_replaces_the_old_one_and_keeps_the_band_caution():
    gap = Caution.gap_below_error(0.01, 0.5)
    far = Caution.outside_domain(2.5, 2.0)
    again = replace_codes([gap, far], DOMAIN_CODES, Caution.outside_domain(3.0, 2.0))
    assert [c.code for c in again] == ["gap_below_band_error", "outside_domain"]
    assert again[1].value == 3.0
    assert replace_codes([gap, far], DOMAIN_CODES, None) == [gap]
    assert replace_codes([far], DOMAIN_CODES, None) == []


def test_a_stored_caution_round_trips_with_its_text():
    c = Caution.overlap_below_error(-0.1, 0.5)
    stored = c.model_dump()
    assert stored["text"] == c.text
    assert Caution.model_validate(stored) == c


def test_prose_of_earlier_versions_is_read_back_as_typed_cautions():
    gap = Caution.gap_below_error(0.012, 0.05)
    overlap = Caution.overlap_below_error(-0.03, 0.6)
    far = Caution.outside_domain(3.2, 2.5)
    unseen = Caution.outside_domain(float("inf"), 2.5)
    assert from_text(f"{gap.text}; {far.text}") == [gap, far]
    assert from_text(overlap.text) == [overlap]
    assert [c.code for c in from_text(unseen.text)] == ["unseen_element"]
    assert from_text(None) == [] and from_text("") == []
    odd = from_text("something else entirely")
    assert odd[0].code == "unclassified" and odd[0].text == "something else entirely"
