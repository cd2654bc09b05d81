"""The projected quasi-atomic basis on real plane-wave states (GPAW, rocksalt PbTe at
reduced settings): PAW projector conventions, exactness at the grid points, the floor
between them, and the topology of the model against the label of record (trivial)."""

import numpy as np
import pytest
from pymatgen.io.ase import AseAtomsAdaptor

from hts_z2.reference.planewave.gpaw_pw import n_valence, run_pw_scf, soc_states
from hts_z2.reference.planewave.localize_gpaw import (
    build_localized,
    coefficient_overlap,
    full_grid_states,
)
from hts_z2.reference.planewave.planes import _shifted as shifted
from hts_z2.reference.planewave.projected import grid_kpoints, time_reversal_matrix
from hts_z2.reference.planewave.projected_gpaw import (
    build_projected,
    grid_states,
    projections,
    trial_layout,
)
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.structures.embedded import get_embedded
from hts_z2.topology.invariants import z2_invariants

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("dft_allowed")]

QUICK = PlaneWaveSettings(ecut=250.0, kpt_density=2.0)


@pytest.fixture(scope="module")
def pbte(gpaw_available):
    atoms = AseAtomsAdaptor.get_atoms(get_embedded("PbTe-Fm-3m").structure)
    calc = run_pw_scf(atoms, QUICK)
    return calc, grid_states(calc, QUICK, grid=(4, 4, 4))


def test_trial_functions_are_the_bound_valence_channels(pbte):
    calc, states = pbte
    channels, _ = trial_layout(calc.wfs.setups)
    symbols = [s.symbol for s in calc.wfs.setups]
    sizes = {sym: len(c) for sym, c in zip(symbols, channels, strict=True)}
    assert sizes == {"Pb": 1 + 3 + 5, "Te": 1 + 3}  # Pb 6s 6p 5d, Te 5s 5p
    assert states.A.shape[-1] == 2 * 13 and states.n_electrons == 20
    assert states.n_outer % 2 == 0 and states.n_outer >= 26
    assert [s.symbol for s in calc.wfs.setups] == ["Te", "Pb"]
    assert states.orbitals().l.tolist() == [0, 1, 1, 1] + [0, 1, 1, 1] + [2] * 5


def test_projections_are_time_reversal_covariant(pbte):
    """<psi|g> at -k is T <psi|g>^* T^H at k, inside the occupied subspace (the Gram
    matrix of the trial functions' projections is gauge-free)."""
    calc, states = pbte
    k = np.array([[0.25, 0.0, 0.5], [-0.25, 0.0, -0.5]])
    soc = soc_states(calc, k, QUICK, n_valence(calc))
    channels, _ = trial_layout(calc.wfs.setups)
    n = states.n_electrons
    gram = []
    for i in range(2):
        A = projections(soc.projections(i, n), channels)
        gram.append(A.conj().T @ A)
    T = time_reversal_matrix(gram[0].shape[0] // 2)
    # to the convergence of the non-self-consistent states (2e-3 at these settings)
    assert np.abs(gram[1] - T @ gram[0].conj() @ T.T).max() < 1e-2
    assert np.abs(gram[1] - gram[0]).max() > 0.1  # the test can tell


def test_model_is_exact_on_the_grid_and_close_between(pbte):
    calc, states = pbte
    basis = build_projected(states)
    model = basis.model
    assert model.S is None and model.n_occ == 20 and model.n_bands == 26
    E, _ = model.eigh(grid_kpoints(states.grid)[states.index])
    top = basis.frozen_top
    for e_model, e_pw in zip(E, states.energies, strict=True):
        frozen = e_pw[: model.n_bands] <= top
        # exact; at the TRIM, H is averaged with its time-reversed image, which splits the
        # difference of the Kramers pairs that the non-self-consistent states leave (up to
        # 2e-4 eV at these reduced settings)
        split = np.abs(e_pw[0:-1:2] - e_pw[1::2])[: model.n_bands // 2].max()
        assert np.abs(e_model[frozen] - e_pw[: model.n_bands][frozen]).max() < 1e-6 + split
    k = np.random.default_rng(1).random((4, 3))
    E_pw = soc_states(calc, k, QUICK, states.n_electrons).energies
    E, _ = model.eigh(k)
    vbm, cbm = E_pw[:, 19].max(), E_pw[:, 20].min()
    window = (E_pw[:, :26] >= vbm - 1.0) & (E_pw[:, :26] <= cbm + 1.0)
    err = np.abs(E[:, :26] - E_pw[:, :26])[window]
    assert err.mean() < 0.03 and err.max() < 0.1, (err.mean(), err.max())


def test_model_topology_matches_the_label_of_record(pbte):
    _, states = pbte
    assert z2_invariants(build_projected(states).model).label == "trivial (0;000)"


@pytest.fixture(scope="module")
def pbte_full(pbte):
    calc, _ = pbte
    return full_grid_states(calc, QUICK, grid=(3, 3, 3))


def test_coefficient_overlaps_equal_the_real_space_ones(pbte):
    """Scalar overlaps from plane-wave coefficients (also across a reciprocal vector)
    against the periodic parts on the real-space grid."""
    calc, states = pbte
    k = np.array([[0.0, 1 / 3, 2 / 3], [0.0, 2 / 3, 1.0]])  # second = first + b, wrapped
    soc = soc_states(calc, np.array([k[0], [0.0, 2 / 3, 0.0]]), QUICK, states.n_electrons)
    gd = soc.calc.wfs.gd
    (c1, g1), (c2, g2) = soc.coefficients(0), soc.coefficients(1)
    G0 = np.array([0, 0, 1])
    O = coefficient_overlap(c1, g1, c2, g2, G0, float(gd.dv / gd.N_c.prod()))
    u1 = soc.periodic_parts(0)
    u2 = shifted(soc.periodic_parts(1), G0)
    ref = (u1.reshape(len(u1), -1).conj() @ u2.reshape(len(u2), -1).T) * soc.grid_volume
    assert np.abs(O - ref).max() < 1e-10 and np.abs(ref).max() > 0.1


def test_localization_keeps_the_bands_and_shortens_the_range(pbte_full):
    states, links = pbte_full
    assert links.links.shape[:2] == (27, len(links.steps))
    sv = np.linalg.svd(links.links[..., : states.n_electrons, : states.n_electrons],
                       compute_uv=False)
    # overlaps of normalized states; the PAW part takes e^{-i b.r} at each atom's centre,
    # which leaves singular values up to 0.3 % above 1 at these settings
    assert sv.max() < 1.01 and np.median(sv) > 0.8
    projected = build_localized(states, links, iterations=0)
    localized = build_localized(states, links, iterations=200)
    assert localized.spread_after.total < localized.spread_before.total
    assert localized.time_reversal_error < 1e-2
    k = grid_kpoints(states.grid)
    E0, _ = projected.model.eigh(k)
    E1, _ = localized.model.eigh(k)
    occupied = slice(0, states.n_electrons)
    assert np.abs(E1[:, occupied] - E0[:, occupied]).max() < 1e-2  # same bands up to TR
    # the full grid's H(R) is made time-reversal symmetric, which averages k with -k:
    # exact up to what the non-self-consistent states differ there (4e-4 eV here)
    np.testing.assert_allclose(E0[:, occupied], states.energies[:, occupied], atol=1e-3)
