import numpy as np
import pytest
import torch
from netfixtures import small_config
from pymatgen.core import Lattice, Structure
from safetensors.torch import load_file, save_file

from hts_z2.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from hts_z2.model.graph import GraphError, build_graph
from hts_z2.model.predictor import HamiltonianModel, load_model


def structures():
    frac = [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0.3], [2 / 3, 1 / 3, 0.7]]
    bise = Structure(Lattice.hexagonal(4.2, 7.9), ["Bi", "Bi", "Se", "Se"], frac)
    ptse = Structure(Lattice.cubic(4.4), ["Pt", "Se"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    bibi = Structure(Lattice.cubic(4.6), ["Bi", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.52]])
    return [bise, ptse, bibi]


@pytest.fixture
def model(tmp_path, net):
    d = tmp_path / "m"
    sha = save_checkpoint(net.float(), d, card="# test\n")
    return load_model(d), sha


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path, net, model):
    m, sha = model
    assert m.sha256 == sha and m.name == "m"
    assert m.elements == frozenset({83, 34, 78})
    net2, sha2 = load_checkpoint(tmp_path / "m")
    assert sha2 == sha
    for a, b in zip(net.state_dict().values(), net2.state_dict().values(), strict=True):
        torch.testing.assert_close(a.float(), b.float())


def test_checkpoint_errors(tmp_path, net):
    with pytest.raises(CheckpointError, match=r"no model\.safetensors"):
        load_checkpoint(tmp_path)
    save_checkpoint(net, tmp_path / "a")
    other = small_config(channels=6)
    other.save(tmp_path / "a" / "config.json")
    with pytest.raises(CheckpointError, match=r"differs .* in \['channels'\]"):
        load_checkpoint(tmp_path / "a")
    # a weights file without the recorded configuration (older models, which had no
    # recorded sha256 either): shapes decide
    save_file(
        load_file(str(tmp_path / "a" / "model.safetensors")),
        str(tmp_path / "a" / "model.safetensors"),
    )
    (tmp_path / "a" / "model.safetensors.sha256").unlink()
    with pytest.raises(Exception, match=r"size|shape|match"):
        load_checkpoint(tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="no model"):
        load_model(tmp_path / "missing")


def test_batched_predictions_equal_one_by_one(model):
    m, _ = model
    sts = structures()
    batched = m.predict(sts, batch_size=3)
    single = [m.predict([s], batch_size=1)[0] for s in sts]
    for a, b in zip(batched, single, strict=True):
        assert a.n_occ == b.n_occ and a.spinful and a.S is not None
        np.testing.assert_allclose(a.H, b.H, atol=1e-5)
        np.testing.assert_allclose(a.S, b.S, atol=1e-6)
    # an edge cap smaller than any structure splits batches to one structure each
    capped = m.predict_graphs(m.graphs(sts), batch_size=3, max_edges=1)
    for a, b in zip(capped, single, strict=True):
        np.testing.assert_allclose(a.H, b.H, atol=1e-5)
    assert batched[0].n_occ == 2 * 15 + 2 * 6


def test_bad_structures_are_named_errors(model):
    m, _ = model
    fe = Structure(Lattice.cubic(2.9), ["Fe", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match=r"Z = \[26\]"):
        m.predict([fe])
    disordered = Structure(Lattice.cubic(4.0), [{"Bi": 0.5, "Se": 0.5}], [[0, 0, 0]])
    with pytest.raises(ValueError, match="disordered"):
        m.predict([disordered])
    with pytest.raises(GraphError, match="apart"):
        build_graph(np.eye(3) * 4, np.array([[0, 0, 0], [0.01, 0, 0]]), np.array([83, 83]), 6.0)
    with pytest.raises(GraphError, match="NaN"):
        build_graph(np.eye(3) * np.nan, np.zeros((1, 3)), np.array([83]), 6.0)
    with pytest.raises(GraphError, match="no neighbour"):
        build_graph(np.eye(3) * 20, np.zeros((1, 3)), np.array([83]), 6.0)
    odd = Structure(Lattice.cubic(4.4), ["Pt", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="odd number of valence electrons"):
        m.predict([odd])
    assert isinstance(m, HamiltonianModel)


def test_errors_return_keeps_the_batch_and_names_each_failure(model):
    m, _ = model
    sts = structures()
    odd = Structure(Lattice.cubic(4.4), ["Pt", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    fe = Structure(Lattice.cubic(2.9), ["Fe", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    out = m.predict([sts[0], odd, fe, sts[2]], batch_size=4, errors="return")
    assert isinstance(out[1], ValueError) and "odd number" in str(out[1])
    assert isinstance(out[2], ValueError) and "Z = [26]" in str(out[2])
    single = m.predict([sts[0], sts[2]])
    np.testing.assert_allclose(out[0].H, single[0].H, atol=1e-5)
    np.testing.assert_allclose(out[3].H, single[1].H, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 2, 5])
@pytest.mark.parametrize("errors", ["raise", "return"])
def test_threaded_build_equals_serial_and_keeps_errors_in_place(model, errors, batch_size):
    """Building the models on several threads, overlapping the next batches' forward
    passes, changes neither results nor order, and the first failing structure (in input
    order) is the one raised."""
    m, _ = model
    sts = structures()
    odd = Structure(Lattice.cubic(4.4), ["Pt", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    odd_too = Structure(Lattice.cubic(4.0), ["Bi"], [[0, 0, 0]])
    assert m.valence_electrons(odd) != m.valence_electrons(odd_too)
    batch = [sts[0], sts[1], odd, sts[2], odd_too]
    first = rf"odd number of valence electrons \({m.valence_electrons(odd)}\)"
    if errors == "raise":
        for workers in (1, 3):
            with pytest.raises(ValueError, match=first):
                m.predict(batch, batch_size=batch_size, workers=workers)
        batch = sts
    serial = m.predict(batch, batch_size=batch_size, errors=errors, workers=1)
    threaded = m.predict(batch, batch_size=batch_size, errors=errors, workers=3)
    assert len(threaded) == len(batch)
    for a, b in zip(serial, threaded, strict=True):
        if isinstance(a, Exception):
            assert type(b) is type(a) and str(b) == str(a)
            continue
        assert np.array_equal(a.H, b.H) and np.array_equal(a.S, b.S) and a.n_occ == b.n_occ


def test_an_unusable_device_is_a_clear_error(model, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no usable CUDA device"):
        model[0].predict(structures()[:1], device="cuda")


@pytest.mark.parametrize("workers", [1, 3])
def test_sparse_form_is_the_dense_model_in_blocks(model, workers):
    """``form="sparse"`` keeps the predicted blocks: the same H(k), S(k) and bands as the
    dense model (network S head here), errors in the same places, far less memory."""
    m, _ = model
    sts = structures()
    odd = Structure(Lattice.cubic(4.4), ["Pt", "Bi"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    batch = [sts[0], odd, sts[1], sts[2]]
    dense = m.predict(batch, batch_size=2, errors="return", workers=workers)
    sparse = m.predict(batch, batch_size=2, errors="return", workers=workers, form="sparse")
    assert isinstance(sparse[1], ValueError) and str(sparse[1]) == str(dense[1])
    k = np.random.default_rng(0).random((5, 3))
    for d, s in zip(dense[::2] + dense[3:], sparse[::2] + sparse[3:], strict=True):
        np.testing.assert_allclose(s.hk(k), d.hk(k), atol=1e-12)
        np.testing.assert_allclose(s.sk(k), d.sk(k), atol=1e-12)
        np.testing.assert_allclose(s.eigh(k)[0], d.eigh(k)[0], atol=1e-9)
        assert s.n_occ == d.n_occ and s.overlap_cutoff == d.overlap_cutoff
        assert s.nbytes < (d.H.nbytes + d.S.nbytes) / 4
        back = s.to_dense()
        np.testing.assert_allclose(back.hk(k), d.hk(k), atol=1e-12)
    with pytest.raises(ValueError, match="unknown model form"):
        m.predict(sts[:1], form="csr")
