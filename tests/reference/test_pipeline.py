import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from screening_double import metal_model, tilted_sti

from hts_z2.hamiltonian.lattice_models import wilson_dirac
from hts_z2.reference.gpaw_scf import GpawSettings
from hts_z2.reference.pipeline import (
    NO_MANIFOLD,
    ReferenceError,
    ReferenceSettings,
    gpaw_reference,
    occupied_label,
    reference_labels,
)

FAST = ReferenceSettings(gpaw=GpawSettings(basis="sz(dzp)", kpts=(2, 2, 2)), verify=True)


def _rocksalt(a, x="Pb", y="Te"):
    return Structure(
        Lattice([[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]]),
        [x, y],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
    )


def test_pbte_sample_matches_gpaw_and_is_labelled(gpaw_available, tmp_path):
    sample = gpaw_reference(_rocksalt(6.46), "PbTe-test", FAST)
    v = sample.meta["verification"]
    assert v["spinless_max_meV"] < 1.0 and v["soc_max_meV"] < 1.0
    assert v["kspace_time_reversal_error_eV"] < 1e-8
    assert sample.n_electrons == 20
    assert sample.shells == ((0, 1, 2), (0, 1))
    assert sample.meta["reference"]["gap"]["n_k"] > 0
    assert "label" in sample.meta["reference"]["z2"]
    assert sample.meta["pruning"]["max_band_error_eV"] < 1e-3
    assert set(sample.meta["timings"]) == {"scf_s", "extract_s", "sample_s", "labels_s"}
    back = sample.save(tmp_path / "s.h5")
    assert back.stat().st_size < 200_000
    tb = sample.tight_binding()
    assert tb.time_reversal_error() < 1e-9
    assert np.allclose(tb.eigh(sample.band_k)[0], sample.band_energies, atol=1e-3)


@pytest.mark.parametrize(
    ("structure", "reason"),
    [
        (Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]), "magnetic"),
        (
            Structure(
                Lattice.cubic(6.0), [{"Pb": 0.5, "Sn": 0.5}, "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]]
            ),
            "partial occupancies",
        ),
        (Structure(Lattice.cubic(6.0), ["Pb", "Te"], [[0, 0, 0], [0.01, 0, 0]]), "overlap"),
        (_rocksalt(6.46).make_supercell([3, 3, 3], in_place=False), "exceed the limit"),
    ],
)
def test_refused_structures(structure, reason):
    with pytest.raises(ReferenceError, match=reason):
        gpaw_reference(structure, "bad", FAST)


@pytest.mark.parametrize(
    ("tb", "label", "occupied"),
    [
        (wilson_dirac(-2.0), "STI (1;000)", "STI (1;000)"),
        (wilson_dirac(5.0), "trivial (0;000)", "trivial (0;000)"),
        (tilted_sti(0.51), "metal", "STI (1;000)"),  # bands overlap by 0.12 eV
        (metal_model(), "metal", NO_MANIFOLD),  # degenerate bands: no direct gap
    ],
)
def test_occupied_label_is_the_band_topology_whatever_the_gap_sign(tb, label, occupied):
    labels = reference_labels(tb)
    assert labels["z2"]["label"] == label
    assert occupied_label(labels) == occupied
