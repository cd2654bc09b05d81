import numpy as np
import pytest

from hts_z2.hamiltonian.gap import band_gap, mesh_for_spacing, monkhorst_pack
from hts_z2.hamiltonian.lattice_models import kane_mele, wilson_dirac


@pytest.mark.parametrize("m", [3.5, 4.0, 5.0])
def test_wilson_dirac_analytic_gap(m):
    """For m > 3 the gap is 2 (m - 3), at k = (1/2, 1/2, 1/2)."""
    gap = band_gap(wilson_dirac(m))
    assert gap.indirect == pytest.approx(2 * (m - 3), abs=1e-10)
    assert gap.direct == pytest.approx(2 * (m - 3), abs=1e-10)
    assert gap.k_vbm == (0.5, 0.5, 0.5)
    assert not gap.is_metal


def test_gap_closing_is_metal():
    assert band_gap(wilson_dirac(1.0)).is_metal


def test_overlapping_bands_negative_gap():
    tb = wilson_dirac(4.0)
    H = tb.H.copy()
    for i in range(3):
        e = np.zeros(3, dtype=int)
        e[i] = 1
        for sign in (1, -1):
            r = np.flatnonzero((tb.R == sign * e).all(axis=1))[0]
            H[r] += 2.0 * np.eye(4)  # + 4 (cos 2pi k1 + ...): a band-wide tilt
    gap = band_gap(tb.replace(H=H))
    assert gap.indirect < 0
    assert gap.is_metal
    assert gap.direct == pytest.approx(2.0, abs=1e-9)


def test_kane_mele_gap_at_k_points():
    """Kane–Mele with lam_v = 0: gap 6 sqrt(3) lam_so at K (on the seekpath path)."""
    lam = 0.06
    gap = band_gap(kane_mele(lam_so=lam), kspacing=0.5)
    assert gap.direct == pytest.approx(6 * np.sqrt(3) * lam, abs=1e-9)


def test_mesh():
    mesh = mesh_for_spacing(np.diag([4.0, 4.0, 20.0]), 0.2)
    assert mesh == (8, 8, 2)
    k = monkhorst_pack((4, 2, 2))
    assert len(k) == 16
    assert any(np.allclose(x, [0.5, 0.5, 0.5]) for x in k)
