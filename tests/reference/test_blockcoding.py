"""Sample format 3: S and SOC stored as residuals of their prediction from the basis.

The decisive check is that the shipped samples decode to the content their sha256 was
computed from when GPAW's blocks were first written (formats 1 and 2): that pins the
predictor and the tables. Given that, the physics checks below see GPAW's own numbers.
"""

import json
import shutil

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from hts_z2.cli.app import app
from hts_z2.hamiltonian.overlap import projector_pairs, segment_products
from hts_z2.reference import blockcoding as bc
from hts_z2.reference import sample as sample_module
from hts_z2.reference.dataset import embedded_dataset_path, iter_sample_paths, sample_path
from hts_z2.reference.halfedges import halve
from hts_z2.reference.sample import (
    SampleError,
    load_sample,
    load_sample_meta,
    load_sample_summary,
)

DATA = embedded_dataset_path().parent
# metals and insulators, 1-10 atoms, samples first written in format 1 and 2, the
# diffuse Cs 6s basis, the largest files, storage at finer quanta
DECODED = [
    "Bi-R-3m",
    "Os-P6_3mmc",
    "CsPbI3-Pm-3m",
    "Na3Bi-P6_3mmc",
    "YPtBi-F-43m",
    "PbTe-Fm-3m/rattle-s0.05-1",
    "Bi2Se3-R-3m/rattle-s0.05-0",
    "TlBiSe2-R-3m",
]


def _parts(sample):
    half = halve(sample.edge_blocks())
    crystal = bc.Crystal(sample.lattice, sample.positions, sample.numbers, sample.shells)
    return half, crystal, bc.Edges(half.edge_index, half.offset)


@pytest.mark.parametrize("sample_id", DECODED)
def test_shipped_samples_decode_to_their_recorded_content(sample_id):
    path = sample_path(embedded_dataset_path(), sample_id)
    assert load_sample_meta(path)["format_version"] == 3
    sample = load_sample(path)
    assert sample.arrays_sha256() == sample.meta["content_sha256"]
    if sample_id != "PbTe-Fm-3m/rattle-s0.05-1":  # first written in format 1 (edge order)
        assert sample.meta["content_sha256"] == sample.meta["sha256"]


def test_every_shipped_sample_is_compact():
    """All shipped samples use format 3 (a format-2 file would be 2-3x larger)."""
    for root in (embedded_dataset_path(), DATA / "extra", DATA / "extra_val"):
        paths = list(iter_sample_paths(root))
        assert paths, root
        versions = {load_sample_meta(p)["format_version"] for p in paths}
        assert versions == {3}, (root, versions)


@pytest.mark.parametrize("sample_id", ["Bi-R-3m", "CsPbI3-Pm-3m"])
def test_paw_soc_operator_reproduces_gpaw(sample_id):
    """A handful of radial coefficients per atom, fitted to the on-site blocks, give every
    SOC element within 2 µeV and the basis gives every S element within 1e-5; atoms of one
    Wyckoff orbit get the same coefficients (to 1e-4 eV; the largest is 0.36-1.5 eV)."""
    sample = load_sample(sample_path(embedded_dataset_path(), sample_id))
    half, crystal, edges = _parts(sample)
    calc = bc.tables_calculator()
    index, coef = bc.fit_soc(calc, crystal, edges, half.soc)
    s, soc = bc.predict_blocks(calc, crystal, edges, index, coef)
    assert np.abs(soc - half.soc).max() < 2e-6
    assert np.abs(half.soc).max() > 0.5  # heavy-element SOC of order eV
    assert np.abs(s - half.s).max() < 1e-5
    per_atom = {a: coef[index[:, 0] == a] for a in range(len(crystal.numbers))}
    for z in set(crystal.numbers.tolist()):
        atoms = np.flatnonzero(crystal.numbers == z)
        if sample_id == "CsPbI3-Pm-3m" and z != 53 and len(atoms) > 1:
            continue
        for a in atoms[1:]:
            np.testing.assert_allclose(per_atom[a], per_atom[atoms[0]], rtol=1e-4, atol=1e-4)
    if sample_id == "Bi-R-3m":  # projectors s s p p d d: 3 p-p and 3 d-d pairs per atom
        assert len(index) == 12


def test_residuals_are_mostly_zero_and_files_smaller(tmp_path):
    sample = load_sample(sample_path(embedded_dataset_path(), "YPtBi-F-43m"))
    path = sample.save(tmp_path / "s.h5")
    meta = load_sample_meta(path)
    assert meta["format_version"] == 3 and meta["coding"]["predictor"] == bc.PREDICTOR_VERSION
    raw = {}
    with h5py.File(path) as f:
        for name in ("s", "soc", "h0"):
            raw[name] = sample_module._read(f[name])
            assert f[name].attrs["codec"] == sample_module.PACKED
    assert np.mean(raw["s"] != 0) < 0.2 and np.mean(raw["soc"] != 0) < 0.05
    half = halve(sample.symmetric().edge_blocks())  # H0 itself is stored, not a residual
    np.testing.assert_array_equal(raw["h0"], sample_module.quantize(half.h0, "h0", sample.quanta))
    back = load_sample(path)
    assert back.arrays_sha256() == sample.meta["sha256"]


def _written(tmp_path, name="s.h5", sample_id="Bi-R-3m"):
    sample = load_sample(sample_path(embedded_dataset_path(), sample_id))
    return sample, sample.save(tmp_path / name)


def _edit_meta(path, change):
    with h5py.File(path, "a") as f:
        meta = json.loads(f.attrs["meta"])
        change(meta)
        f.attrs["meta"] = json.dumps(meta)


def test_corrupt_residuals_are_refused(tmp_path):
    _, path = _written(tmp_path)
    with h5py.File(path, "a") as f:  # flip a byte inside the LZMA stream
        data = f["soc"][()]
        data[len(data) // 2] ^= 0xFF
        del f["soc"]
        ds = f.create_dataset("soc", data=data)
        ds.attrs.update({"codec": sample_module.PACKED, "dtype": "<i4", "shape": [3, 1]})
    with pytest.raises(SampleError, match=r"not a readable|sha256"):
        load_sample(path)


def test_other_tables_or_predictor_are_refused(tmp_path):
    _, path = _written(tmp_path, "a.h5")
    _edit_meta(path, lambda m: m["coding"].update(tables_sha256="0" * 64))
    with pytest.raises(SampleError, match="other radial tables"):
        load_sample(path)
    _, path = _written(tmp_path, "b.h5")
    _edit_meta(path, lambda m: m["coding"].update(predictor=bc.PREDICTOR_VERSION + 1))
    with pytest.raises(SampleError, match="predictor"):
        load_sample(path)
    _, path = _written(tmp_path, "c.h5")
    _edit_meta(path, lambda m: m["coding"].update(tables="no-such-tables"))
    with pytest.raises(SampleError, match="no radial tables"):
        load_sample(path)


def test_summary_matches_full_read(tmp_path):
    path = sample_path(embedded_dataset_path(), "Bi2Se3-R-3m")
    full, summary = load_sample(path), load_sample_summary(path)
    assert summary.n_edges == full.n_edges
    np.testing.assert_array_equal(summary.n_orbitals_per_atom, full.n_orbitals_per_atom)
    assert summary.meta["sha256"] == full.meta["sha256"]


def test_recode_turns_format_2_into_3_without_changing_content(tmp_path, monkeypatch):
    root = tmp_path / "dataset"
    ids = ["PbS-Fm-3m", "Bi2Se3-R-3m"]
    with monkeypatch.context() as m:  # write them as format 2 (no coding)
        m.setattr(sample_module, "_encode", lambda half, arrays: None)
        for sample_id in ids:
            load_sample(sample_path(embedded_dataset_path(), sample_id)).save(
                sample_path(root, sample_id)
            )
    before = {p.name: (p.stat().st_size, load_sample_meta(p)) for p in iter_sample_paths(root)}
    assert {m["format_version"] for _, m in before.values()} == {2}
    shutil.copy(sample_path(root, ids[0]), tmp_path / "v2.h5")
    result = CliRunner().invoke(app, ["dataset", "recode", str(root)])
    assert result.exit_code == 0, result.output
    assert "2 samples" in " ".join(result.output.split())
    for p in iter_sample_paths(root):
        meta = load_sample_meta(p)
        assert meta["format_version"] == 3
        assert meta["sha256"] == before[p.name][1]["sha256"]
        assert p.stat().st_size < 0.6 * before[p.name][0]
        assert load_sample(p).arrays_sha256() == meta["sha256"]
    # format 2 stays readable
    v2_sha = before[sample_path(root, ids[0]).name][1]["sha256"]
    assert load_sample(tmp_path / "v2.h5").arrays_sha256() == v2_sha
    bad = CliRunner().invoke(app, ["dataset", "recode", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "not a dataset directory" in " ".join(bad.output.split())


def test_edges_find_agrees_with_a_dictionary():
    rng = np.random.default_rng(1)
    rows = np.unique(rng.integers(-3, 4, size=(400, 5)) % [4, 4, 7, 7, 7] - [0, 0, 3, 3, 3], axis=0)
    offset = np.concatenate([[0], np.cumsum(rng.integers(1, 5, len(rows)))])
    edges = bc.Edges(rows.astype(np.int32), offset)
    query = rng.integers(-4, 5, size=(300, 5)) % [4, 4, 9, 9, 9] - [0, 0, 4, 4, 4]
    found = edges.find(query[:, 0], query[:, 1], query[:, 2:])
    table = {tuple(r): k for k, r in enumerate(rows.tolist())}
    assert found.tolist() == [table.get(tuple(q), -1) for q in query.tolist()]


def test_segment_products_and_projector_pairs():
    rng = np.random.default_rng(2)
    X, Z = rng.normal(size=(9, 3, 2)), rng.normal(size=(9, 3, 4))
    seg = np.array([2, 0, 2, 1, 0, 2, 2, 1, 0])
    out = segment_products(X, Z, seg)
    for g in range(3):
        ref = sum(X[p].T @ Z[p] for p in np.flatnonzero(seg == g))
        np.testing.assert_allclose(out[g], ref)
    a = np.array([0, 0, 1, 0, 1])
    b = np.array([0, 1, 1, 1, 0])
    pairs = {
        (int(s), int(t))
        for _, ss, tt in projector_pairs(a, b, 0)
        for s, t in zip(ss, tt, strict=True)
    }
    assert pairs == {(s, t) for s in (0, 1, 3) for t in (0, 1, 3)}
    for (i, j), ss, tt in projector_pairs(a, b, 0):
        assert set(b[ss]) == {i} and set(b[tt]) == {j}
