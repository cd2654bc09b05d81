"""Models whose overlap comes from the basis: S of a prediction is GPAW's S, whatever the
network's S head says; the tables must match the model's basis."""

from dataclasses import replace

import numpy as np
import pytest
from netfixtures import random_net, small_config

from hts_z2.hamiltonian.overlap import OverlapBasis
from hts_z2.model.checkpoint import (
    OVERLAP_BASIS,
    CheckpointError,
    save_checkpoint,
    save_overlap_basis,
)
from hts_z2.model.predictor import DEFAULT_MODEL, load_model, models_dir
from hts_z2.reference.dataset import embedded_dataset_path, sample_path
from hts_z2.reference.sample import load_sample

PBS = {82: (0, 1, 2, 0, 1, 2, 2), 16: (0, 1, 0, 1, 2)}


@pytest.fixture(scope="module")
def tables() -> OverlapBasis:
    return OverlapBasis.load(models_dir() / DEFAULT_MODEL / OVERLAP_BASIS)


def pbs_model(tmp_path, tables, overlap="basis"):
    cfg = small_config(basis=PBS, valence={82: 14, 16: 6}, overlap=overlap)
    d = tmp_path / overlap
    save_checkpoint(random_net(cfg).float(), d)
    if overlap == "basis":
        save_overlap_basis(tables, cfg, d)
    return load_model(d)


def test_predicted_overlap_is_the_gpaw_overlap(tmp_path, tables):
    sample = load_sample(sample_path(embedded_dataset_path(), "PbS-Fm-3m"))
    model = pbs_model(tmp_path, tables)
    assert model.overlap is not None
    tb = model.predict([(sample.lattice, sample.positions, sample.numbers)])[0]
    R_ref, _, S_ref, _ = sample.dense_blocks()
    index = {tuple(r): i for i, r in enumerate(tb.R.tolist())}
    S = tb.S[:, ::2, ::2]  # spin-up block of S (x) 1
    assert np.allclose(tb.S[:, 1::2, 1::2], S) and not tb.S[:, ::2, 1::2].any()
    for r, block in zip(R_ref.tolist(), S_ref, strict=True):
        assert np.abs(S[index[tuple(r)]].real - block)[block != 0].max() < 1e-5
    # the random network's S head would give something else entirely
    head = pbs_model(tmp_path, tables, "predicted").predict(
        [(sample.lattice, sample.positions, sample.numbers)]
    )[0]
    home = head.S[[tuple(r) for r in head.R.tolist()].index((0, 0, 0))]
    assert np.abs(home - tb.S[index[(0, 0, 0)]]).max() > 1e-2


def test_overlap_tables_must_match_the_model(tmp_path, tables):
    cfg = small_config(overlap="basis")  # test basis: Bi with (0, 1, 0, 1, 2), not dzp's
    with pytest.raises(CheckpointError, match="Z=83 has shells"):
        save_overlap_basis(tables, cfg, tmp_path)
    save_checkpoint(random_net(cfg).float(), tmp_path / "m")
    with pytest.raises(CheckpointError, match=f"no {OVERLAP_BASIS}"):
        load_model(tmp_path / "m")
    with pytest.raises(ValueError, match="overlap must be one of"):
        small_config(overlap="guess")


def test_solved_sub_basis_is_the_sub_block_of_the_full_prediction(tmp_path, tables):
    """With ``solve_shells`` the model keeps exactly the rows and columns of the kept
    shells of its full prediction, H and exact S alike, and a new identity."""
    sample = load_sample(sample_path(embedded_dataset_path(), "PbS-Fm-3m"))
    full_model = pbs_model(tmp_path, tables)
    keep = {82: (0, 1, 2, 6), 16: (0, 1, 4)}
    cfg = replace(full_model.config, solve_shells=keep)
    d = tmp_path / "szp"
    save_checkpoint(random_net(cfg).float(), d)
    save_overlap_basis(tables, cfg, d)
    sub_model = load_model(d)
    assert sub_model.sha256 != full_model.sha256
    structure = [(sample.lattice, sample.positions, sample.numbers)]
    full, sub = full_model.predict(structure)[0], sub_model.predict(structure)[0]
    # Pb: 6s 6p 5d + d polarization = 14 orbitals of 23; S: 1 + 3 + 5 of 13
    assert sub.n_bands == 2 * (14 + 9) and full.n_bands == 2 * 36
    assert sub.orbitals.l.tolist() == [0, 1, 1, 1, *[2] * 10, 0, 1, 1, 1, *[2] * 5]
    kept = np.r_[0:9, 18:23, 23:27, 31:36]
    idx = np.stack([2 * kept, 2 * kept + 1], 1).reshape(-1)
    assert sub.R.tolist() == full.R.tolist()
    np.testing.assert_allclose(sub.H, full.H[:, idx][:, :, idx], atol=1e-6)
    np.testing.assert_allclose(sub.S, full.S[:, idx][:, :, idx], atol=1e-12)


def test_sparse_form_carries_the_exact_overlap(tmp_path, tables):
    """The block-sparse model holds the basis overlap's blocks (beyond the graph's bonds
    too): the same S(k) and H(k) as the dense model."""
    sample = load_sample(sample_path(embedded_dataset_path(), "PbS-Fm-3m"))
    model = pbs_model(tmp_path, tables)
    st = [(sample.lattice, sample.positions, sample.numbers)]
    dense, sparse = model.predict(st)[0], model.predict(st, form="sparse")[0]
    k = np.random.default_rng(1).random((4, 3))
    np.testing.assert_allclose(sparse.spatial_sk(k), dense.overlap_k(k)[0], atol=1e-13)
    np.testing.assert_allclose(sparse.hk(k), dense.hk(k), atol=1e-12)
    assert {tuple(r) for p in sparse.overlaps for r in p.R.tolist()} - {
        tuple(r) for p in sparse.hoppings for r in p.R.tolist()
    }  # overlap blocks reach lattice vectors without predicted H
