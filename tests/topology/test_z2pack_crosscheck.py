"""Cross-check of FHS and Wilson-loop planes against Z2Pack on the same Hamiltonian.

Z2Pack gets ``H(k)`` (and ``S(k)``) of the same ``TightBinding`` with every orbital at the
origin (``pos=None``), which is our Bloch convention. On the plane ``k_f = value`` the
first surface parameter ``s`` (the direction along which the WCCs evolve) covers the
halved axis ``k_b = s / 2`` and the second ``t`` (the closed Wilson loop) the periodic
axis ``k_a = t``, exactly like our half-plane grids.
"""

import logging

import numpy as np
import pytest
import z2pack
from models_helpers import KNOWN, TRICLINIC, nonorthogonal, tr_perturbation, with_terms

from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.topology import wilson_z2, z2_invariants
from hts_z2.topology.planes import PLANES, plane_axes

logging.getLogger("z2pack").setLevel(logging.WARNING)

MODELS = {
    **{name: factory for name, (factory, _planes, _label) in KNOWN.items()},
    "nonorthogonal fu_kane_mele(dt=+0.4)": lambda: nonorthogonal(
        fu_kane_mele(0.4), np.random.default_rng(11)
    ),
    "nonorthogonal triclinic wilson_dirac(m=-2)": lambda: nonorthogonal(
        wilson_dirac(-2.0, lattice=TRICLINIC), np.random.default_rng(12)
    ),
    "perturbed fu_kane_mele(dt=-0.4)": lambda: with_terms(
        fu_kane_mele(-0.4), tr_perturbation(2, np.random.default_rng(13), 0.03)
    ),
}
EXPECTED = {
    **{name: planes for name, (_factory, planes, _label) in KNOWN.items()},
    "nonorthogonal fu_kane_mele(dt=+0.4)": (0, 1, 0, 1, 0, 1),
    "nonorthogonal triclinic wilson_dirac(m=-2)": (1, 0, 1, 0, 1, 0),
    "perturbed fu_kane_mele(dt=-0.4)": (1, 1, 1, 1, 1, 1),
}


def z2pack_system(tb):
    overlap = None if tb.S is None else (lambda k: tb.sk(np.array([k], dtype=float))[0])
    return z2pack.hm.System(
        lambda k: tb.hk(np.array([k], dtype=float))[0],
        bands=tb.n_occ,
        dim=3,
        basis_overlap=overlap,
    )


def plane_surface(fixed, value):
    a, b = plane_axes(fixed)

    def surface(s, t):
        k = [0.0, 0.0, 0.0]
        k[fixed] = value
        k[a] = t
        k[b] = s / 2
        return k

    return surface


def z2pack_planes(tb):
    system = z2pack_system(tb)
    out = []
    for fixed, value in PLANES:
        result = z2pack.surface.run(
            system=system,
            surface=plane_surface(fixed, value),
            num_lines=11,
            pos_tol=1e-2,
            gap_tol=0.3,
            move_tol=0.3,
            iterator=range(8, 41, 4),
        )
        report = result.convergence_report
        failed = {
            check: values["FAILED"]
            for group in report.values()
            for check, values in group.items()
            if values["FAILED"]
        }
        assert not failed, f"Z2Pack did not converge on plane {fixed}={value}: {failed}"
        out.append(z2pack.invariant.z2(result))
    return tuple(out)


@pytest.mark.parametrize("name", list(MODELS))
def test_fhs_wilson_and_z2pack_agree(name):
    tb = MODELS[name]()
    fhs = z2_invariants(tb)
    wil = wilson_z2(tb)
    assert fhs.converged and wil.converged
    assert fhs.planes == wil.planes == z2pack_planes(tb) == EXPECTED[name]
