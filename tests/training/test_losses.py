import numpy as np
import pytest
import torch
from samples import sample

from hts_z2.model.config import ModelConfig
from hts_z2.model.slots import SlotLayout
from hts_z2.training.data import build_item, collate, reference_values
from hts_z2.training.losses import (
    band_loss,
    band_window,
    hamiltonian_losses,
    predicted_bands,
    zero_point_corrected,
)


def item_of(name: str, r_cut: float = 10.0):
    s = sample(name)
    basis = {int(z): tuple(sh) for z, sh in zip(s.numbers, s.shells, strict=True)}
    valence = {int(z): 0 for z in basis}
    cfg = ModelConfig(basis=basis, valence=valence, r_cut=r_cut)
    layout = SlotLayout.from_basis(basis)
    return build_item(s, cfg, layout), layout


def outputs_from_targets(it, layout, theta: float = 0.0):
    """Padded network-like outputs holding the targets (plus theta * S in H)."""
    n = layout.n_pad
    N, E = it.graph.n_atoms, it.graph.n_edges
    out = {
        k: torch.zeros(N if k.startswith("onsite") else E, *shape, dtype=torch.float64)
        for k, shape in (
            ("onsite_h", (n, n)),
            ("onsite_s", (n, n)),
            ("onsite_soc", (3, n, n)),
            ("edge_h", (n, n)),
            ("edge_s", (n, n)),
            ("edge_soc", (3, n, n)),
        )
    }
    out["onsite_h"].view(-1)[it.on_idx] = it.on_h.double() + theta * it.on_s.double()
    out["edge_h"].view(-1)[it.edge_idx] = it.edge_h.double() + theta * it.edge_s.double()
    out["onsite_s"].view(-1)[it.on_idx] = it.on_s.double()
    out["edge_s"].view(-1)[it.edge_idx] = it.edge_s.double()
    soc_e = out["edge_soc"].transpose(0, 1).reshape(3, -1)
    soc_e[:, it.edge_idx] = it.edge_soc.double()
    out["edge_soc"] = soc_e.reshape(3, E, n, n).transpose(0, 1)
    on = out["onsite_soc"].transpose(0, 1).reshape(3, -1)
    on[:, it.on_idx] = it.on_soc.double()
    out["onsite_soc"] = on.reshape(3, N, n, n).transpose(0, 1)
    return out


def test_targets_rebuild_the_reference_bands():
    """Dense assembly, SOC sign and spin order of the training targets are exact."""
    it, _ = item_of("Bi2Se3-R-3m")
    e = predicted_bands(reference_values(it), it, torch.from_numpy(it.band_k))
    w = band_window(it)
    err = np.abs(e[:, w].numpy() - it.band_energies[:, w]).max()
    assert err < 2e-3
    assert it.dropped < 1e-2


def test_zero_point_correction_removes_theta_times_s():
    it, layout = item_of("PbTe-Fm-3m", r_cut=8.0)
    tb = collate([it], layout.n_pad, dtype=torch.float64)
    clean = hamiltonian_losses(outputs_from_targets(it, layout), tb)
    shifted = hamiltonian_losses(outputs_from_targets(it, layout, theta=0.7), tb)
    assert float(clean["h0"]) < 1e-6 and float(clean["s"]) < 1e-7 and float(clean["soc"]) < 1e-7
    assert float(shifted["h0"]) < 1e-6
    pred = torch.tensor([1.0, 2.0, 3.0])
    true = torch.tensor([0.5, 1.5, 2.0])
    s = torch.tensor([1.0, 1.0, 0.0])
    corrected = zero_point_corrected(pred, true, s, torch.zeros(3, dtype=torch.long), 1)
    theta = (pred - true).sum() / s.sum()
    torch.testing.assert_close(corrected, pred - theta * s)


def test_band_loss_is_blind_to_a_constant_shift():
    it, layout = item_of("PbTe-Fm-3m")
    tb = collate([it], layout.n_pad, dtype=torch.float64)
    loss0, skipped = band_loss(outputs_from_targets(it, layout), tb)
    assert skipped == 0 and float(loss0) < 2e-3
    # H + theta S shifts every generalized eigenvalue by theta: Eq. 10 removes it
    loss1, _ = band_loss(outputs_from_targets(it, layout, theta=0.5), tb)
    assert abs(float(loss1) - float(loss0)) < 1e-6


def test_overlap_penalty_is_zero_for_the_reference_and_positive_for_an_indefinite_s():
    from hts_z2.training.losses import overlap_penalty

    it, layout = item_of("PbTe-Fm-3m", r_cut=8.0)
    tb = collate([it], layout.n_pad, dtype=torch.float64)
    out = outputs_from_targets(it, layout)
    assert float(overlap_penalty(out, tb)) == 0.0
    out["onsite_s"] = out["onsite_s"] - 0.05 * torch.eye(layout.n_pad, dtype=torch.float64)
    assert float(overlap_penalty(out, tb)) > 0.01


def test_target_batch_moves_every_tensor_to_the_device():
    it, layout = item_of("PbTe-Fm-3m", r_cut=8.0)
    tb = collate([it], layout.n_pad).to("meta")
    tensors = [v for v in vars(tb).values() if isinstance(v, torch.Tensor)]
    tensors += [v for v in vars(tb.graphs).values() if isinstance(v, torch.Tensor)]
    assert len(tensors) > 15 and all(t.device.type == "meta" for t in tensors)
    assert tb.items[0] is it and it.on_h.device.type == "cpu"


def test_band_and_overlap_terms_pass_gradients_back_to_the_outputs():
    from hts_z2.training.losses import overlap_penalty

    it, layout = item_of("PbTe-Fm-3m", r_cut=8.0)
    tb = collate([it], layout.n_pad, dtype=torch.float64)
    out = outputs_from_targets(it, layout, theta=0.0)
    out["edge_h"] = (out["edge_h"] * 1.05).requires_grad_(True)
    out["onsite_s"] = (out["onsite_s"] - 0.05 * torch.eye(layout.n_pad)).requires_grad_(True)
    loss, _ = band_loss(out, tb)
    (loss + overlap_penalty(out, tb)).backward()
    assert float(out["edge_h"].grad.abs().sum()) > 0
    assert float(out["onsite_s"].grad.abs().sum()) > 0


def test_shift_corrected_mae_leaves_out_projected_out_bands():
    from hts_z2.hamiltonian.bloch import PROJECTED_OUT_ENERGY
    from hts_z2.training.losses import shift_corrected_mae

    ref = torch.tensor([[-1.0, 0.0, 1.0, 2.0], [-1.5, 0.5, 1.5, 2.5]], dtype=torch.float64)
    assert float(shift_corrected_mae(ref + 0.3, ref)) == pytest.approx(0.0, abs=1e-12)
    wiggle = torch.tensor([[0.1, -0.1, 0.1, -0.1], [0.1, -0.1, 0.1, -0.1]])
    assert float(shift_corrected_mae(ref + 0.3 + wiggle, ref)) == pytest.approx(0.1)
    # a k-point where the canonical solve kept only three of the four window bands
    pred = ref + 0.3 + wiggle
    pred[1, 3] = PROJECTED_OUT_ENERGY
    kept_only = torch.cat([(ref + 0.3 + wiggle)[0], (ref + 0.3 + wiggle)[1, :3]])
    expected = kept_only - torch.cat([ref[0], ref[1, :3]])
    expected = float((expected - expected.mean()).abs().mean())
    assert float(shift_corrected_mae(pred, ref)) == pytest.approx(expected)
    assert expected < 0.11
    assert torch.isnan(shift_corrected_mae(torch.full_like(ref, PROJECTED_OUT_ENERGY), ref))
