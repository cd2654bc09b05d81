"""Physics acceptance on the shipped DFT reference samples (GPAW LCAO dzp, PBE + SOC).

Bi2Se3 at the experimental geometry is a strong TI: in this basis its valence and
conduction bands overlap slightly in energy (indirect gap ~ -27 meV) while the direct gap
stays open everywhere, so the occupied manifold carries (1;000) and screening calls it a
metal. Trivial heavy-element insulators come out (0;000) with a positive gap.
"""

import pytest

from hts_z2.hamiltonian.gap import band_gap
from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.reference.dataset import embedded_dataset_path, sample_path
from hts_z2.reference.sample import load_sample
from hts_z2.topology import wilson_z2, z2_invariants


def _sample(sample_id):
    return load_sample(sample_path(embedded_dataset_path(), sample_id))


@pytest.mark.slow
def test_bi2se3_is_strong_ti_with_fhs_and_wilson():
    sample = _sample("Bi2Se3-R-3m")
    tb = sample.tight_binding()
    fhs = z2_invariants(tb, allow_overlap=True)
    wil = wilson_z2(tb, allow_overlap=True)
    assert fhs.label == wil.label == "STI (1;000)"
    assert fhs.planes == wil.planes == (1, 0, 1, 0, 1, 0)
    assert fhs.min_plane_gap > 0.15
    assert sample.meta["reference"]["z2"]["label"] == "metal"
    assert sample.meta["reference"]["z2_manifold"]["label"] == "STI (1;000)"


def test_bi2se3_without_soc_is_trivial():
    """Switching SOC off removes the band inversion."""
    sample = _sample("Bi2Se3-R-3m")
    tb = sample.tight_binding()
    _, H0, _, _ = sample.dense_blocks()
    tb0 = tb.replace(H=spinful_blocks(H0))
    assert z2_invariants(tb0, allow_overlap=True).label == "trivial (0;000)"
    assert sample.tight_binding(spinful=False).n_occ == tb.n_occ // 2


@pytest.mark.slow
@pytest.mark.parametrize("sample_id", ["Bi2Te3-R-3m", "Sb2Te3-R-3m"])
def test_tetradymite_tis(sample_id):
    tb = _sample(sample_id).tight_binding()
    assert band_gap(tb, kspacing=0.25).indirect > 0.05
    assert z2_invariants(tb).label == "STI (1;000)"


@pytest.mark.slow
@pytest.mark.parametrize("sample_id", ["PbTe-Fm-3m", "CdTe-F-43m"])
def test_trivial_insulators(sample_id):
    tb = _sample(sample_id).tight_binding()
    gap = band_gap(tb, kspacing=0.25)
    assert gap.indirect > 0.05
    assert z2_invariants(tb).label == wilson_z2(tb).label == "trivial (0;000)"
