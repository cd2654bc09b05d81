"""Applicability domain: nearest-environment distances, thresholds, files, invariance."""

import logging

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

from hts_z2.model.checkpoint import save_checkpoint
from hts_z2.model.domain import (
    DOMAIN_FILE,
    DomainError,
    DomainReference,
    build_reference,
    domain_caution,
    domain_doc,
    element_distances,
    group_by_element,
    leave_parent_out,
    load_reference,
    nearest_distances,
    read_reference,
    save_reference,
    structure_distance,
)
from hts_z2.model.predictor import load_model


def test_nearest_distances_known_answer():
    reference = {83: np.array([[0.0, 0.0], [3.0, 4.0]]), 34: np.array([[1.0, 1.0]])}
    features = np.array([[0.0, 1.0], [3.0, 0.0], [1.0, 1.0], [6.0, 8.0], [2.0, 2.0]])
    numbers = np.array([83, 83, 34, 83, 78])  # Pt has no reference atom
    d = nearest_distances(features, numbers, reference)
    np.testing.assert_allclose(d[:4], [1.0, 3.0, 0.0, 5.0])
    assert np.isinf(d[4])
    assert structure_distance(d[:4]) == 5.0
    assert np.isinf(structure_distance(d)) and np.isinf(structure_distance(np.zeros(0)))
    assert element_distances(numbers, d) == {83: 5.0, 34: 0.0, 78: np.inf}


def test_leave_parent_out_measures_each_compound_against_the_others():
    # two samples of parent A (same environments), one of B; Se appears in A only
    fa = np.array([[0.0, 0.0], [5.0, 0.0]])
    fb = np.array([[0.0, 2.0]])
    features = [fa, fa + 0.1, fb]
    numbers = [np.array([83, 34]), np.array([83, 34]), np.array([83])]
    loo = leave_parent_out(features, numbers, ["A", "A", "B"])
    assert np.isinf(loo[0]) and np.isinf(loo[1])  # A's Se has no environment elsewhere
    # B's Bi against A's Bi environments (0, 0) and (0.1, 0.1)
    np.testing.assert_allclose(loo[2], np.hypot(0.1, 1.9))
    grouped = group_by_element(features, numbers)
    assert grouped[83].shape == (3, 2) and grouped[34].shape == (2, 2)
    assert grouped[83].dtype == np.float32


def test_build_reference_threshold_is_the_quantile_of_finite_distances():
    rng = np.random.default_rng(0)
    features = [rng.normal(size=(2, 3)) for _ in range(6)]
    numbers = [np.array([83, 34])] * 6
    parents = ["A", "B", "C", "D", "E", "F"]
    ref = build_reference(features, numbers, parents, "ab" * 32, quantile=0.5)
    loo = leave_parent_out(features, numbers, parents)
    assert np.isfinite(loo).all()
    assert ref.threshold == pytest.approx(np.quantile(loo, 0.5))
    assert ref.summary["samples"] == 6 and ref.summary["parents"] == 6
    assert ref.elements == frozenset({83, 34}) and ref.channels == 3
    with pytest.raises(DomainError, match="two parents"):
        build_reference(features[:2], numbers[:2], ["A", "A"], "x")
    with pytest.raises(DomainError, match="shares all its elements"):
        build_reference(features[:2], [np.array([83, 34]), np.array([83, 52])], ["A", "B"], "x")


def test_domain_document_and_its_caution():
    ref = DomainReference({83: np.zeros((1, 2), np.float32), 34: np.zeros((1, 2), np.float32)},
                          2.0, 0.75, "s")
    numbers = np.array([83, 34, 34])
    assert domain_doc(None, ref) is None and domain_doc((numbers, np.ones(3)), None) is None
    inside = domain_doc((numbers, np.array([1.5, 2.0, 0.5])), ref)
    assert inside.distance == 2.0 and inside.in_domain and inside.threshold == 2.0
    assert inside.by_element == {"Bi": 1.5, "Se": 2.0}
    assert domain_caution(inside) is None and domain_caution(None) is None
    far = domain_doc((numbers, np.array([1.5, 2.5, 0.5])), ref)
    assert not far.in_domain and domain_caution(far).code == "outside_domain"
    assert "2.50 > 2.00" in domain_caution(far).text
    unseen = domain_doc((numbers, np.array([np.inf, 2.5, 0.5])), ref)
    assert unseen.distance is None and unseen.by_element["Bi"] is None
    assert domain_caution(unseen).code == "unseen_element"


def test_files_round_trip_and_refuse_other_weights(tmp_path, caplog):
    ref = DomainReference(
        {83: np.arange(6, dtype=np.float32).reshape(3, 2), 34: np.ones((1, 2), np.float32)},
        1.25,
        0.75,
        "a" * 64,
        {"samples": 4},
    )
    save_reference(ref, tmp_path)
    back = read_reference(tmp_path / DOMAIN_FILE)
    assert back.threshold == 1.25 and back.quantile == 0.75 and back.summary == {"samples": 4}
    np.testing.assert_array_equal(back.features[83], ref.features[83])
    assert load_reference(tmp_path, "a" * 64) is not None
    assert load_reference(tmp_path / "none", "a" * 64) is None
    with caplog.at_level(logging.WARNING):
        assert load_reference(tmp_path, "b" * 64) is None
    assert "aaaaaaaaaaaa" in caplog.text and "hts-z2 domain" in caplog.text
    (tmp_path / DOMAIN_FILE).write_bytes(b"not an npz")
    with pytest.raises(DomainError, match="not a domain reference"):
        read_reference(tmp_path / DOMAIN_FILE)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert load_reference(tmp_path, "a" * 64) is None
    assert "not a domain reference" in caplog.text


def bise(a: float = 4.2) -> Structure:
    frac = [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0.3], [2 / 3, 1 / 3, 0.7]]
    return Structure(Lattice.hexagonal(a, 7.9), ["Bi", "Bi", "Se", "Se"], frac)


@pytest.fixture
def model_with_domain(tmp_path, net):
    """A saved random model whose reference holds the environments of ``bise()``, a
    CsCl-type BiSe and a Pt-Se cell (three parents)."""
    d = tmp_path / "m"
    sha = save_checkpoint(net.float(), d, card="# test\n")
    model = load_model(d)
    assert model.domain is None
    ptse = Structure(Lattice.cubic(4.4), ["Pt", "Se"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cscl = Structure(Lattice.cubic(4.0), ["Bi", "Se"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    graphs = model.environment_graphs([bise(), ptse, cscl])
    env = model.environments(graphs)
    ref = build_reference(env, [g.numbers for g in graphs], ["hex", "PtSe", "CsCl"], sha)
    save_reference(ref, d)
    return load_model(d)


def test_a_training_structure_is_at_distance_zero_under_every_symmetry(model_with_domain):
    """Rotation, translation, permutation of atoms and another lattice basis of the same
    crystal leave every environment, hence the distance, unchanged."""
    m = model_with_domain
    assert m.domain is not None
    s = bise()
    rotated = Structure(
        Lattice(s.lattice.matrix @ Rotation.from_rotvec([0.3, -1.1, 0.7]).as_matrix().T),
        s.species,
        s.frac_coords,
    )
    moved = s.copy()
    moved.translate_sites(range(len(s)), [0.37, -0.21, 0.55])
    permuted = Structure(s.lattice, [s.species[i] for i in (2, 0, 3, 1)],
                         s.frac_coords[[2, 0, 3, 1]])  # fmt: skip
    M = np.array([[1, 1, 0], [0, 1, 0], [-1, 0, 1]])
    rebased = Structure(Lattice(M @ s.lattice.matrix), s.species,
                        s.frac_coords @ np.linalg.inv(M))  # fmt: skip
    d = m.domain_distances([s, rotated, moved, permuted, rebased])
    np.testing.assert_allclose(d, 0.0, atol=1e-5)
    numbers, atoms = m.domain_atoms([permuted])[0]
    assert numbers.tolist() == [34, 83, 34, 83] and atoms.shape == (4,)


def test_distance_is_continuous_and_positive_off_the_training_structures(model_with_domain):
    m = model_with_domain
    d = m.domain_distances([bise(4.2), bise(4.2001), bise(4.4), bise(4.8)])
    assert d[0] == pytest.approx(0.0, abs=1e-6)
    assert 0 < d[1] < 1e-2 * min(d[2], d[3])


def test_structures_without_a_distance(model_with_domain, net, tmp_path):
    m = model_with_domain
    hf = Structure(Lattice.cubic(4.0), ["Hf", "Se"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    lonely = Structure(Lattice.cubic(20.0), ["Bi"], [[0, 0, 0]])  # no bond within r_mp
    assert m.domain_distances([hf, lonely, bise()])[:2] == [None, None]
    d = tmp_path / "bare"
    save_checkpoint(net.float(), d)
    assert load_model(d).domain_distances([bise()]) == [None]
