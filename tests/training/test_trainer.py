import json

import numpy as np
import pytest
import torch
from samples import link_dataset

from hts_z2.model.checkpoint import load_checkpoint, save_checkpoint, weights_sha256
from hts_z2.model.graph import batch_graphs, build_graph
from hts_z2.training import trainer
from hts_z2.training.run import (
    check_model_target,
    load_items,
    prepare,
    read_split,
    register,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings, hamiltonian_objective

ARCH = {"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4}
FAST = TrainSettings(max_epochs_stage1=3, max_epochs_stage2=1, batch_size=2, lr_stage1=5e-3)


@pytest.fixture
def work(tmp_path):
    root = link_dataset(tmp_path)
    w = tmp_path / "work"
    prepare(root, w, ARCH, seed=1)
    return w


def test_prepare_records_split_basis_and_labels(work):
    record = json.loads((work / "split.json").read_text())
    assert sum(len(v) for v in record["split"].values()) == 4
    assert record["config"]["valence"]["82"] == 14
    assert record["labels"]["PbTe-Fm-3m"] == "trivial (0;000)"
    of_record = record["label_of_record"]["PbTe-Fm-3m"]  # the parent's plane-wave label
    assert of_record["label"] == "trivial (0;000)" and of_record["lcao_disagrees"] is False
    assert record["config"]["overlap"] == "basis"
    assert (work / "overlap_basis.npz").is_file()


def test_stage_one_lowers_the_loss_and_resumes(work):
    history = run_stage(work, 1, FAST)
    assert len(history) == 3
    assert history[-1].train < history[0].train
    assert (work / "stage1" / "model.safetensors").is_file()
    # stage 1 is finished: running it again does nothing; stage 2 starts from its weights
    assert run_stage(work, 1, FAST) == []
    h2 = run_stage(work, 2, FAST)
    assert len(h2) == 1 and h2[0].stage == 2


def test_interrupted_stage_continues_from_its_checkpoint(work):
    first = run_stage(work, 1, TrainSettings(max_epochs_stage1=1, batch_size=2))
    state = torch.load(work / "state.pt", weights_only=True)
    assert state["stage"] == 2  # max_epochs reached: stage marked finished
    assert len(first) == 1


def test_resumed_stage_counts_the_minutes_already_spent(work):
    run_stage(work, 1, TrainSettings(max_epochs_stage1=1, batch_size=2))
    state = torch.load(work / "state.pt", weights_only=True)
    state.update(stage=1, seconds=61.0)  # an interrupted stage 1 that ran 61 s
    torch.save(state, work / "state.pt")
    limited = TrainSettings(max_epochs_stage1=5, max_minutes_stage1=1.0, batch_size=2)
    assert run_stage(work, 1, limited) == []  # its minute is used up: no further epoch
    assert torch.load(work / "state.pt", weights_only=True)["stage"] == 2


def test_evaluate_and_register_write_a_loadable_model(work, tmp_path):
    run_stage(work, 1, FAST)
    run_stage(work, 2, FAST)
    metrics = run_evaluation(work, z2=True)
    assert metrics.n_structures >= 1
    assert metrics.h0_mae_meV > 0 and metrics.z2_total == metrics.n_structures
    for m in metrics.structures:
        assert m.label_pred is not None  # a label or "undefined: <reason>", never missing
    with_record = [m for m in metrics.structures if m.label_record is not None]
    assert metrics.z2_total_record == len(with_record)
    assert 0 <= metrics.z2_agree_record <= metrics.z2_total_record
    target = register(work, "tiny", tmp_path / "models", FAST)
    net, sha = load_checkpoint(target)
    assert len(sha) == 64
    card = (target / "card.md").read_text()
    assert "Test metrics" in card
    assert "agreement with the label of record" in card and "label of record |" in card
    assert all(m.sample_id in card for m in metrics.structures)
    assert net.cfg.training.n_test == metrics.n_structures
    assert net.cfg.training.metrics == metrics.summary()
    assert net.cfg.training.settings == FAST and net.cfg.training.state_stage == 3


def test_register_never_replaces_another_model_unasked(work, tmp_path):
    run_stage(work, 1, FAST)
    run_evaluation(work, z2=False)
    target = register(work, "kept", tmp_path / "models", FAST)
    net, sha = load_checkpoint(target)
    assert weights_sha256(net) == sha
    assert register(work, "kept", tmp_path / "models", FAST) == target  # same run again
    with torch.no_grad():
        next(net.parameters()).add_(1.0)
    other = save_checkpoint(net, target)
    with pytest.raises(FileExistsError, match="already holds another model"):
        register(work, "kept", tmp_path / "models", FAST)
    assert load_checkpoint(target)[1] == other  # untouched
    register(work, "kept", tmp_path / "models", FAST, overwrite=True)
    assert load_checkpoint(target)[1] == sha
    with pytest.raises(FileExistsError, match="--overwrite"):
        check_model_target(target)
    check_model_target(target, overwrite=True)
    check_model_target(tmp_path / "models" / "new")


def test_onsite_references_keep_the_network_equivariant(work):
    from scipy.linalg import block_diag
    from scipy.spatial.transform import Rotation

    from hts_z2.hamiltonian.angular import wigner_d
    from hts_z2.training.trainer import new_network

    cfg, items, _ = load_items(work, ("train",))
    net = new_network(cfg, items["train"]).double()
    assert float(net.onsite_h_ref.abs().max()) > 1.0
    lat = np.array([[0.0, 3.2, 3.2], [3.2, 0.0, 3.2], [3.2, 3.2, 0.0]])
    pos = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    rv = np.array([0.2, 0.5, -0.9])
    Q = Rotation.from_rotvec(rv).as_matrix()
    outs = []
    for lattice in (lat, lat @ Q.T):
        g = build_graph(lattice, pos, np.array([82, 52]), cfg.r_cut)
        with torch.no_grad():
            outs.append(net(batch_graphs([g]))["onsite_h"].numpy())
    D = block_diag(*[wigner_d(l, rv) for l in net.layout.slot_l])
    np.testing.assert_allclose(D @ outs[0] @ D.T, outs[1], atol=1e-9)


def test_exponential_fit_recovers_amplitude_and_decay():
    from hts_z2.training.trainer import exponential_fit

    rng = np.random.default_rng(3)
    d = rng.uniform(2.0, 9.0, 20000)
    # random signs and a uniform spread: rms at d is A exp(-b d) exactly in expectation
    values = (
        2.5
        * np.exp(-1.3 * d)
        * rng.choice([-1.0, 1.0], d.size)
        * np.sqrt(3)
        * rng.uniform(0, 1, d.size)
    )
    A, b = exponential_fit(d, values, width=0.25)
    assert b == pytest.approx(1.3, rel=0.03)
    assert A == pytest.approx(2.5, rel=0.15)
    flat_A, flat_b = exponential_fit(np.full(10, 3.0), np.linspace(-1, 1, 10))
    assert flat_b == 0.0 and flat_A > 0


def test_edge_scales_follow_the_decay_of_the_reference_hoppings(work):
    from hts_z2.training.trainer import new_network

    cfg, items, _ = load_items(work, ("train",))
    net = new_network(cfg, items["train"])
    decay = net.edge_decay.numpy()
    assert np.all(decay[:2] > 0.3), decay  # H0 and S fall off with bond length
    # the fitted size follows the rms of the values at each bond length: near bonds are
    # well above the spread of all pair values, far ones well below it
    it = items["train"][0]
    dist = np.linalg.norm(it.graph.edge_vec, axis=1)[it.edge_of_value.numpy()]
    h = it.edge_h.numpy()
    for sel in (dist < dist.min() + 0.3, dist > dist.max() - 1.0):
        rms = np.sqrt(np.mean(h[sel] ** 2))
        size = float(net.scales[3]) * np.exp(-decay[0] * dist[sel].mean())
        assert 0.2 < rms / size < 5
    size_near = float(net.scales[3]) * np.exp(-decay[0] * dist.min())
    size_far = float(net.scales[3]) * np.exp(-decay[0] * dist.max())
    assert size_near > 1.5 * h.std() > 10 * size_far


def test_init_from_starts_stage_one_from_a_registered_model(work, tmp_path):
    run_stage(work, 1, FAST)
    run_evaluation(work, z2=False)
    source = register(work, "source", tmp_path / "models", FAST)
    net, sha = load_checkpoint(source)
    second = tmp_path / "second"
    prepare(link_dataset(tmp_path / "again"), second, {"overlap_cutoff": 1e-3}, 1, source)
    record = read_split(second)
    assert record.init_from.sha256 == sha
    assert record.config["channels"] == ARCH["channels"]  # the model's architecture
    assert record.config["overlap_cutoff"] == 1e-3
    state = torch.load(second / "state.pt", weights_only=True)
    assert state["stage"] == 1
    for key, value in net.state_dict().items():
        assert torch.equal(state["model"][key], value), key
    history = run_stage(second, 1, TrainSettings(max_epochs_stage1=1, batch_size=2))
    assert len(history) == 1


def test_init_from_rejects_a_model_with_another_basis(work, tmp_path):
    run_stage(work, 1, FAST)
    run_evaluation(work, z2=False)
    source = register(work, "source", tmp_path / "models", FAST)
    other = link_dataset(tmp_path / "other", ("Bi2Se3-R-3m",))
    with pytest.raises(ValueError, match=r"(basis|valence) of element"):
        prepare(other, tmp_path / "third", None, 1, source)


def test_models_with_basis_overlap_do_not_train_the_s_head():
    """With S from the basis the S terms leave the objective; with a predicted S they count."""
    parts = {
        "h0": torch.tensor(0.1),
        "soc": torch.tensor(0.01),
        "h0_rms": torch.tensor(0.2),
        "s": torch.tensor(5.0),
        "s_rms": torch.tensor(6.0),
        "overlap_pd": torch.tensor(7.0),
    }
    settings = TrainSettings(weight_rms=2.0)
    basis = hamiltonian_objective(parts, settings, predicted_s=False)
    expected = 0.1 + settings.weight_soc * 0.01 + 2.0 * 0.2
    assert float(basis) == pytest.approx(expected)
    assert float(hamiltonian_objective(parts, settings)) > expected + settings.weight_s * 5.0


def test_prepare_without_gpaw_tables_can_predict_the_overlap(tmp_path):
    split = prepare(link_dataset(tmp_path), tmp_path / "w", {"channels": 4}, overlap="predicted")
    assert json.loads(split.read_text())["config"]["overlap"] == "predicted"
    assert not (tmp_path / "w" / "overlap_basis.npz").exists()


def test_basis_overlap_models_skip_the_overlap_eigensolve(monkeypatch):
    def refuse(out, tb):
        raise AssertionError("overlap penalty computed for a model that does not predict S")

    monkeypatch.setattr(trainer, "overlap_penalty", refuse)
    monkeypatch.setattr(trainer, "hamiltonian_losses", lambda out, tb: {"h0": torch.tensor(1.0)})
    assert trainer.losses(None, None, predicted_s=False) == {"h0": torch.tensor(1.0)}
    with pytest.raises(AssertionError, match="overlap penalty"):
        trainer.losses(None, None, predicted_s=True)


def test_training_on_an_unusable_device_fails_before_touching_the_work_dir(work, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no usable CUDA device"):
        run_stage(work, 1, TrainSettings(max_epochs_stage1=1, batch_size=2, device="cuda"))
    assert not (work / "state.pt").exists()
