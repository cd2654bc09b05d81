"""Stored projected plane-wave models (hts_z2/data/projected): they decode to orthonormal,
time-reversal-symmetric models that reproduce the plane-wave bands stored with them (off
the grid), cut at the network's pair radius as recorded, with the Z2 of the label of record
where the compound is an insulator; and the coding itself on a lattice model."""

from types import SimpleNamespace

import numpy as np
import pytest
from test_pw_projected import extended_fkm, projected_fkm, states_and_projections

from hts_z2.reference.planewave.projected import window_errors
from hts_z2.reference.planewave.projected_data import (
    DATA,
    MAX_STORAGE_ERROR,
    PAIR_RADIUS,
    encode,
    load,
    save,
    stored_ids,
)
from hts_z2.reference.planewave.record import load_results
from hts_z2.topology.invariants import z2_invariants

EXPECTED = {"CsPbBr3-Pm-3m", "CsPbI3-Pm-3m", "PbTe-Fm-3m"}
"""Compounds whose stored models are committed (missing data fails, never skips)."""


def test_the_stored_compounds_are_there():
    assert EXPECTED <= set(stored_ids())


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_stored_model_reproduces_the_planewave_bands_and_topology(sid):
    stored = load(DATA / f"{sid}.npz")
    model, meta = stored.model, stored.meta
    assert model.overlaps is None and model.time_reversal_error() == 0.0
    n_el = meta["n_electrons"]
    mae, _ = window_errors(model.eigh(stored.test_k)[0], stored.test_E, n_el)
    assert 1e3 * mae == pytest.approx(meta["floor_meV"], abs=0.2)  # storage, float32 bands
    assert 1e3 * mae <= 30.0  # the representation floor of issue 25
    near = model.within_radius(meta["pair_radius_A"])
    mae_near, _ = window_errors(near.eigh(stored.test_k)[0], stored.test_E, n_el)
    assert 1e3 * mae_near == pytest.approx(meta["floor_within_radius_meV"], abs=0.2)
    record = load_results()[sid]
    assert record.kind == "insulator"
    assert z2_invariants(model).label == record.label


def test_coding_round_trip_on_a_lattice_model(tmp_path):
    fkm, R, H = extended_fkm(coupling=0.6, onsite=2.0)
    tb = projected_fkm(R, H, fkm, (6, 6, 6), frozen_top=1.0, sigma=0.5)
    k = np.random.default_rng(5).random((6, 3))
    E_ref, _ = states_and_projections(R, H, k)
    states = SimpleNamespace(
        lattice=fkm.lattice, positions=fkm.positions, numbers=np.array([6, 6]),
        atom_of=np.array([0, 1]), orbital_l=np.array([0, 0]),
    )
    basis = SimpleNamespace(model=tb, frozen_top=1.0)
    arrays = encode(states, basis, k, E_ref, {"n_electrons": 2})
    save(tmp_path / "fkm.npz", arrays)
    back = load(tmp_path / "fkm.npz")
    E0, _ = tb.eigh(k)
    E1, _ = back.model.eigh(k)
    assert np.abs(E1 - E0).max() <= MAX_STORAGE_ERROR
    assert back.meta["storage_error_eV"] <= MAX_STORAGE_ERROR
    assert back.test_E.shape == (6, 4) and PAIR_RADIUS == 10.0
    assert z2_invariants(back.model).label == "STI (1;111)"
