import numpy as np
import pytest
from toy_model import SHELLS, R, toy_dense, toy_sample

from hts_z2.hamiltonian import TightBinding
from hts_z2.reference.convert import (
    PruneSettings,
    make_sample,
    sample_from_tight_binding,
    to_edges,
)
from hts_z2.reference.sample import SampleError, load_sample


@pytest.fixture(scope="module")
def dense():
    return toy_dense()


def _sample(dense, prune=None, sample_id="toy/1"):
    return toy_sample(sample_id, prune)


def test_reconstruction_matches_dense(dense):
    lattice, _, _, H0, S, B, _ = dense
    sample = _sample(dense)
    tb = sample.tight_binding()
    k = np.random.default_rng(0).random((6, 3))
    from hts_z2.hamiltonian.soc import spinful_blocks

    ref = TightBinding(
        lattice,
        R,
        spinful_blocks(H0, B),
        spinful_blocks(S),
        n_occ=6,
    )
    assert np.abs(tb.eigh(k)[0] - ref.eigh(k)[0]).max() < 1e-4  # 10 µeV storage quanta
    assert np.allclose(sample.band_energies, ref.eigh(sample.band_k)[0], atol=1e-5)
    assert sample.meta["pruning"]["max_band_error_eV"] < 1e-4
    assert sample.meta["xi_fit_residual"] < 1e-6  # the model is exactly of the xi L.S form


def test_xi_values_recovered(dense):
    sample = _sample(dense)
    xi = dense[-1]
    # on-site p shell of atom 0 is global shell 1; on-site xi is stored per edge (0,0,R=0)
    e = next(i for i, row in enumerate(sample.edge_index.tolist()) if row == [0, 0, 0, 0, 0])
    sel = (sample.xi_index[:, 0] == e) & (sample.xi_index[:, 1] == 1) & (sample.xi_index[:, 2] == 1)
    assert sample.xi_value[sel][0] == pytest.approx(xi[0, 1, 1], rel=1e-6)


def test_pruning_is_symmetric(dense):
    lattice, positions, _, H0, S, B, _ = dense
    edges, *_ = to_edges(lattice, positions, SHELLS, R, H0, S, B, PruneSettings(0.1, 0.01))
    kept = {tuple(r) for r in edges.tolist()}
    assert all((j, i, -a, -b, -c) in kept for i, j, a, b, c in kept)
    assert len(kept) < _sample(dense).n_edges


def test_lossy_pruning_falls_back_to_unpruned(dense):
    """Pruning that would move the bands by more than 2 meV is not used."""
    sample = _sample(dense, PruneSettings(h_tol=0.1, s_tol=0.01))
    assert sample.meta["pruning"]["storage_level"] == 3  # unpruned, fine quanta
    assert sample.n_edges == _sample(dense).n_edges
    assert sample.meta["pruning"]["max_band_error_eV"] < 2e-3


def test_cutoff_pruning(dense):
    lattice, positions, _, H0, S, B, _ = dense
    edges, *_ = to_edges(
        lattice, positions, SHELLS, R, H0, S, B, PruneSettings(h_tol=0, s_tol=0, cutoff=3.2)
    )
    cart = positions @ lattice
    for i, j, *r in edges.tolist():
        assert np.linalg.norm(cart[j] + np.array(r) @ lattice - cart[i]) <= 3.2
    assert len(edges) < _sample(dense).n_edges


def test_save_load_roundtrip_and_corruption(dense, tmp_path):
    sample = _sample(dense)
    path = sample.save(tmp_path / "s.h5")
    back = load_sample(path)
    assert back.sample_id == "toy/1"
    assert back.shells == SHELLS
    # files keep canonical edges only; reading restores every block in symmetric order
    full = sample.symmetric()
    for name in ("edge_index", "offset", "h0", "s", "soc", "xi_value", "xi_index"):
        assert np.array_equal(getattr(back, name), getattr(full, name)), name
    assert back.n_edges == sample.n_edges
    assert back.meta["sha256"] == full.arrays_sha256()
    assert not list(tmp_path.glob(".tmp-*"))
    import h5py

    with h5py.File(path, "r") as f:
        assert len(f["edge_index"]) < sample.n_edges  # only canonical edges on disk
    R1, H1, S1, B1 = sample.dense_blocks()
    R2, H2, S2, B2 = back.dense_blocks()
    o1, o2 = np.lexsort(R1.T), np.lexsort(R2.T)
    assert np.array_equal(R1[o1], R2[o2])
    for a, b in ((H1, H2), (S1, S2), (B1, B2)):
        np.testing.assert_array_equal(a[o1], b[o2])

    with h5py.File(path, "a") as f:
        f["h0"][0] = f["h0"][0] + 1.0
    with pytest.raises(SampleError, match="sha256"):
        load_sample(path)
    with pytest.raises(SampleError, match="no sample file"):
        load_sample(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(SampleError, match="not a readable"):
        load_sample(tmp_path / "junk.h5")


def test_from_tight_binding_roundtrip(dense):
    sample = _sample(dense)
    tb = sample.tight_binding()
    again = sample_from_tight_binding(tb, "toy/1", PruneSettings(h_tol=0, s_tol=0))
    assert np.allclose(again.band_energies, sample.band_energies, atol=1e-4)
    with pytest.raises(ValueError, match="metadata"):
        sample_from_tight_binding(tb.replace(orbitals=None), "x")


def test_odd_electron_count_is_metal(dense):
    lattice, positions, numbers, H0, S, B, _ = dense
    sample = make_sample("odd", lattice, positions, numbers, SHELLS, R, H0, S, B, 5)
    with pytest.raises(ValueError, match="odd electron count"):
        sample.tight_binding()
