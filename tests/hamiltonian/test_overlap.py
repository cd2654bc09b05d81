"""Exact crystal overlaps from the basis tables: GPAW's own S (stored reference samples),
symmetries and invariances."""

import numpy as np
import pytest

from hts_z2.hamiltonian.overlap import (
    AtomicFunctions,
    OverlapBasis,
    OverlapCalculator,
    neighbour_images,
)
from hts_z2.model.checkpoint import OVERLAP_BASIS
from hts_z2.model.predictor import DEFAULT_MODEL, models_dir
from hts_z2.reference.dataset import embedded_dataset_path, sample_path
from hts_z2.reference.sample import load_sample


@pytest.fixture(scope="module")
def calculator() -> OverlapCalculator:
    return OverlapCalculator(OverlapBasis.load(models_dir() / DEFAULT_MODEL / OVERLAP_BASIS))


def stored_overlap(sample_id: str):
    sample = load_sample(sample_path(embedded_dataset_path(), sample_id))
    R, _, S, _ = sample.dense_blocks()
    return sample, R, S


@pytest.mark.parametrize("sample_id", ["PbS-Fm-3m", "Bi2Se3-R-3m/rattle-s0.05-0"])
def test_overlap_reproduces_gpaw(calculator, sample_id):
    """Every stored S element (GPAW's LCAO overlap incl. the PAW term) within 1e-5."""
    sample, R_ref, S_ref = stored_overlap(sample_id)
    R, S = calculator.overlap(sample.lattice, sample.positions, sample.numbers)
    index = {tuple(r): i for i, r in enumerate(R.tolist())}
    for r, block in zip(R_ref.tolist(), S_ref, strict=True):
        mine = S[index[tuple(r)]] if tuple(r) in index else np.zeros_like(block)
        stored = block != 0
        assert np.abs(mine - block)[stored].max(initial=0.0) < 1e-5, r


def test_overlap_is_symmetric_and_positive_definite(calculator):
    sample, _, _ = stored_overlap("PbS-Fm-3m")
    R, S = calculator.overlap(sample.lattice, sample.positions, sample.numbers)
    index = {tuple(r): i for i, r in enumerate(R.tolist())}
    for r, block in zip(R.tolist(), S, strict=True):
        assert np.allclose(S[index[tuple(-x for x in r)]], block.T, atol=1e-12)
    rng = np.random.default_rng(0)
    k = rng.random((4, 3))
    Sk = np.einsum("kr,rmn->kmn", np.exp(2j * np.pi * k @ R.T), S)
    assert np.linalg.eigvalsh(Sk).min() > 0


def test_overlap_is_invariant_to_translation_and_atom_order(calculator):
    sample, _, _ = stored_overlap("Bi2Se3-R-3m")
    shifted = (sample.positions + np.array([0.13, -0.27, 0.41])) % 1.0
    k = np.array([[0.1, 0.2, 0.3], [0.5, 0.0, 0.5]])

    def spectrum(lattice, positions, numbers):
        R, S = calculator.overlap(lattice, positions, numbers)
        Sk = np.einsum("kr,rmn->kmn", np.exp(2j * np.pi * k @ R.T), S)
        return np.linalg.eigvalsh(Sk)

    ref = spectrum(sample.lattice, sample.positions, sample.numbers)
    assert np.allclose(spectrum(sample.lattice, shifted, sample.numbers), ref, atol=1e-10)
    order = np.array([3, 0, 4, 2, 1])
    assert np.allclose(
        spectrum(sample.lattice, sample.positions[order], sample.numbers[order]), ref, atol=1e-10
    )


def test_basis_tables_round_trip_and_report_missing_elements(tmp_path):
    rng = np.random.default_rng(1)
    el = AtomicFunctions(
        orbital_l=(0, 1),
        orbitals=rng.random((2, 30)),
        projector_l=(1,),
        projectors=rng.random((1, 10)),
        dO=np.eye(3) * 0.1,
    )
    basis = OverlapBasis("toy", 0.05, {8: el})
    basis.save(tmp_path / "b.npz")
    back = OverlapBasis.load(tmp_path / "b.npz")
    assert back.name == "toy" and back.dr == 0.05 and back.elements[8].orbital_l == (0, 1)
    assert np.allclose(back.elements[8].orbitals, el.orbitals, atol=1e-7)
    assert np.allclose(back.elements[8].dO, el.dO)
    with pytest.raises(KeyError, match="Z = \\[83\\]"):
        back.subset([8, 83])
    with pytest.raises(ValueError, match="projector"):
        AtomicFunctions((0,), rng.random((1, 5)), (1,), rng.random((1, 5)), np.eye(2))


def test_neighbour_images_finds_every_pair_within_the_cutoff():
    lattice = np.diag([3.0, 3.5, 4.0])
    positions = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    cut = np.full((2, 2), 5.0)
    a, b, R, vec = neighbour_images(lattice, positions, cut)
    assert np.all(np.linalg.norm(vec, axis=1) < 5.0)
    grid = np.indices((9, 9, 9)).reshape(3, -1).T - 4
    tau = positions @ lattice
    brute = sum(
        int((np.linalg.norm(tau[j] + grid @ lattice - tau[i], axis=1) < 5.0).sum())
        for i in range(2)
        for j in range(2)
    )
    assert len(a) == brute
    assert np.allclose(vec, tau[b] + R @ lattice - tau[a])
