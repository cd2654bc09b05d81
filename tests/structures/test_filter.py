"""Candidate filter defaults (paper) and rejection reasons."""

from pymatgen.core import Lattice, Structure

from hts_z2.structures.embedded import get_embedded
from hts_z2.structures.filter import CandidateFilter

F = CandidateFilter()


def test_heavy_candidate_passes():
    assert F.check_structure(get_embedded("Bi2Se3-R-3m").structure) is None


def test_reasons():
    assert F.check_metadata(["Cd", "Te"], 2) == "no element with Z > 70"
    assert F.check_metadata(["Bi", "Fe"], 2) == "magnetic elements: Fe"
    assert F.check_metadata(["Bi", "Se"], 100) == "100 sites > max_sites 24"
    assert "outside the model basis: Se" in F.check_metadata(["Bi", "Se"], 5, {83})
    assert F.check_metadata(["Bi", "Se"], 5, ordering="FM") == "magnetic ordering FM"
    assert F.check_metadata(["Bi", "Se"], 5, ordering="NM") is None
    assert CandidateFilter(heavy_z=None).check_metadata(["Cd", "Te"], 2) is None


def test_partial_occupancy():
    s = Structure(Lattice.cubic(6.4), [{"Pb": 0.5, "Sn": 0.5}, "Te"], [[0, 0, 0], [0.5] * 3])
    assert F.check_structure(s) == "partial occupancy (disordered sites)"
    assert CandidateFilter(allow_partial_occupancy=True).check_structure(s) is None
