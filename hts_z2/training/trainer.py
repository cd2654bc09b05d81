"""Two-stage training (Methods 4.4): stage 1 Hamiltonian loss; stage 2 adds the band loss
with the SOC parameters frozen. AdamW; the learning rate halves after ``patience`` epochs
without validation improvement; a stage stops after ``stop_patience`` such epochs, when
the rate falls below ``min_lr``, or at its epoch/time budget. Resumable from ``state.pt``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from hts_z2.model.checkpoint import save_checkpoint
from hts_z2.model.config import ModelConfig
from hts_z2.model.device import torch_device
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.slots import SlotLayout
from hts_z2.schemas.training import TrainSettings
from hts_z2.training.data import TrainingItem, collate
from hts_z2.training.losses import band_loss, hamiltonian_losses, overlap_penalty


def onsite_references(items: list[TrainingItem], net: HamiltonianNet) -> None:
    """Set the per-element isotropic on-site H0, S and xi references from training items.

    Only rotation-invariant parts are kept (the mean of the diagonal within equal-``l``
    slot pairs times the identity), so the network stays equivariant.
    """
    layout: SlotLayout = net.layout
    n = layout.n_pad
    elements = net.cfg.elements
    sums = {z: [np.zeros((n, n)), np.zeros((n, n)), np.zeros((3, n, n)), 0] for z in elements}
    for it in items:
        nn2 = n * n
        for a, z in enumerate(it.graph.numbers.tolist()):
            sel = (it.on_idx // nn2) == a
            flat = (it.on_idx[sel] % nn2).numpy()
            acc = sums[z]
            acc[0].reshape(-1)[flat] += it.on_h[sel].numpy()
            acc[1].reshape(-1)[flat] += it.on_s[sel].numpy()
            acc[2].reshape(3, -1)[:, flat] += it.on_soc[:, sel].numpy()
            acc[3] += 1
    start = layout.slot_start
    xi_map = layout.xi_map.numpy()
    for e, z in enumerate(elements):
        h, s, soc, count = sums[z]
        if count == 0:
            continue
        h, s, soc = h / count, s / count, soc / count
        for a, la in enumerate(layout.slot_l):
            for b, lb in enumerate(layout.slot_l):
                if la != lb:
                    continue
                ra = slice(start[a], start[a + 1])
                rb = slice(start[b], start[b + 1])
                for M, ref in ((h, net.onsite_h_ref), (s, net.onsite_s_ref)):
                    value = np.trace(M[ra, rb]) / (2 * la + 1)
                    ref[e, ra, rb] = torch.eye(2 * la + 1) * value
        flat = soc.reshape(3, -1)
        for x in range(xi_map.shape[0]):
            lam = xi_map[x]
            net.onsite_xi_ref[e, x] = float((flat * lam).sum() / (lam * lam).sum())
    scales, decay = output_scales(items, net)
    net.scales.copy_(torch.tensor(scales, dtype=net.scales.dtype))
    net.edge_decay.copy_(torch.tensor(decay, dtype=net.edge_decay.dtype))


def exponential_fit(distance: np.ndarray, values: np.ndarray, width: float = 0.5):
    """Fit ``rms(values at d) ~ A exp(-b d)`` over distance bins of ``width`` Angstrom.

    Parameters
    ----------
    distance, values : [n] bond length of every value and the value.

    Returns
    -------
    (A, b) with ``b >= 0``; a flat fit ``(std, 0)`` when fewer than two bins have data.
    """
    bins = np.floor(distance / width).astype(int)
    occupied = np.unique(bins)
    rms = np.array([np.sqrt(np.mean(values[bins == b] ** 2)) for b in occupied])
    ok = rms > 0
    if ok.sum() < 2:
        return max(float(np.std(values)), 1e-4), 0.0
    x = (occupied[ok] + 0.5) * width
    slope, intercept = np.polyfit(x, np.log(rms[ok]), 1)
    b = max(0.0, -float(slope))
    if b == 0.0:
        return max(float(np.sqrt(np.mean(values**2))), 1e-4), 0.0
    return float(np.exp(intercept)), b


def output_scales(
    items: list[TrainingItem], net: HamiltonianNet
) -> tuple[list[float], list[float]]:
    """What each head must produce: the spread (std) of the on-site H0/S residuals from the
    references and of the on-site SOC (for xi), and for off-site H0, S and SOC an
    exponential fit of their magnitude against bond length (:func:`exponential_fit`).

    Returns
    -------
    (scales [6]: on-site H0, S, xi, off-site H0, S, xi amplitudes; decays [3] 1/Angstrom)
    """
    n2 = net.layout.n_pad**2
    res_h, res_s = [], []
    for it in items:
        z = net.z_index[torch.from_numpy(it.graph.numbers)]
        atom = it.on_idx // n2
        flat = it.on_idx % n2
        res_h.append(it.on_h - net.onsite_h_ref.reshape(len(net.cfg.elements), -1)[z[atom], flat])
        res_s.append(it.on_s - net.onsite_s_ref.reshape(len(net.cfg.elements), -1)[z[atom], flat])
    on_soc = torch.cat([it.on_soc.reshape(-1) for it in items])
    dist = np.concatenate(
        [np.linalg.norm(it.graph.edge_vec, axis=1)[it.edge_of_value.numpy()] for it in items]
    )
    fits = [
        exponential_fit(dist, torch.cat([it.edge_h for it in items]).double().numpy()),
        exponential_fit(dist, torch.cat([it.edge_s for it in items]).double().numpy()),
        exponential_fit(
            np.tile(dist, 3), torch.cat([it.edge_soc for it in items], 1).double().numpy().ravel()
        ),
    ]

    def spread(x: torch.Tensor) -> float:
        return max(float(x.float().std()), 1e-4)

    # |Lam| entries are O(1) and B = xi Lam / 2: xi's size is about twice B's
    scales = [
        spread(torch.cat(res_h)),
        spread(torch.cat(res_s)),
        2 * spread(on_soc),
        fits[0][0],
        fits[1][0],
        2 * fits[2][0],
    ]
    return scales, [f[1] for f in fits]


def soc_parameters(net: HamiltonianNet) -> list[torch.nn.Parameter]:
    """The xi channel (frozen in stage 2)."""
    return list(net.onsite_xi.parameters()) + list(net.pair_xi.parameters())


def _batches(items: list[TrainingItem], size: int, rng: np.random.Generator | None):
    order = np.arange(len(items)) if rng is None else rng.permutation(len(items))
    for s in range(0, len(items), size):
        yield [items[i] for i in order[s : s + size]]


def hamiltonian_objective(
    parts: dict, settings: TrainSettings, predicted_s: bool = True
) -> torch.Tensor:
    """Weighted Hamiltonian terms; the S terms only for models that predict S (a model
    whose S comes from the basis leaves its S head untrained)."""
    loss = parts["h0"] + settings.weight_soc * parts["soc"] + settings.weight_rms * parts["h0_rms"]
    if predicted_s:
        loss = loss + settings.weight_s * (parts["s"] + settings.weight_rms * parts["s_rms"])
        loss = loss + settings.weight_overlap_pd * parts["overlap_pd"].to(parts["h0"])
    return loss


def losses(out: dict, tb, predicted_s: bool = True) -> dict:
    """Hamiltonian MAEs, plus the overlap positive-definiteness penalty for models that
    predict S (it needs an eigensolve of every structure's S(k))."""
    parts = hamiltonian_losses(out, tb)
    if predicted_s:
        parts["overlap_pd"] = overlap_penalty(out, tb)
    return parts


def batch_objective(
    net: HamiltonianNet, chunk: list[TrainingItem], settings: TrainSettings, stage: int
) -> torch.Tensor:
    """Objective of one batch: Hamiltonian terms, plus the band term in stage 2.

    The batch goes to the network's device; the per-structure eigenproblems of the band
    and overlap terms are solved on the CPU (small dense float64 matrices).
    """
    tb = collate(chunk, net.layout.n_pad).to(net.z_index.device)
    out = net(tb.graphs)
    predicted_s = net.cfg.overlap == "predicted"
    loss = hamiltonian_objective(losses(out, tb, predicted_s), settings, predicted_s)
    if stage == 2:
        bl, _ = band_loss(
            out,
            tb,
            overlap_cutoff=net.cfg.overlap_cutoff,
            reference_overlap=net.cfg.overlap == "basis",
        )
        if bl is not None:
            loss = loss + settings.band_lambda * bl.to(loss)
    return loss


@torch.no_grad()
def validation_loss(
    net: HamiltonianNet, items: list[TrainingItem], settings: TrainSettings, stage: int
) -> float:
    """Mean objective over ``items`` (stage 2 includes the band term)."""
    net.eval()
    total, count = 0.0, 0
    for chunk in _batches(items, settings.batch_size, None):
        total += batch_objective(net, chunk, settings, stage).item() * len(chunk)
        count += len(chunk)
    return total / max(count, 1)


@dataclass
class EpochReport:
    stage: int
    epoch: int
    train: float
    val: float
    lr: float
    seconds: float


def _state_path(work: Path) -> Path:
    return work / "state.pt"


def train_stage(
    net: HamiltonianNet,
    train: list[TrainingItem],
    val: list[TrainingItem],
    settings: TrainSettings,
    stage: int,
    work: Path,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> list[EpochReport]:
    """Run one stage to its stopping criterion; resumes from ``work/state.pt``, counting
    the time an interrupted run already spent against the stage's minutes.

    The best validation weights are saved with :func:`save_checkpoint` into
    ``work/stage{stage}/`` and restored at the end; ``state.pt`` then marks the stage done.
    The network trains on ``settings.device``; checkpoints are device-free.
    """
    net.to(torch_device(settings.device))
    torch.manual_seed(settings.seed + stage)
    rng = np.random.default_rng(settings.seed + stage)
    if stage == 2:
        for p in soc_parameters(net):
            p.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    lr = settings.lr_stage1 if stage == 1 else settings.lr_stage2
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=settings.patience)
    best, since_best, epoch, history, spent = float("inf"), 0, 0, [], 0.0
    best_dir = work / f"stage{stage}"
    state_file = _state_path(work)
    if state_file.is_file():
        state = torch.load(state_file, weights_only=True, map_location="cpu")
        net.load_state_dict(state["model"])
        if state["stage"] > stage:
            return history
        if state["stage"] == stage:
            spent = float(state.get("seconds", 0.0))
        if state["stage"] == stage and state["optimizer"]:
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            best, since_best, epoch = state["best"], state["since_best"], state["epoch"]
    max_epochs = settings.max_epochs_stage1 if stage == 1 else settings.max_epochs_stage2
    budget = 60 * (settings.max_minutes_stage1 if stage == 1 else settings.max_minutes_stage2)
    t_start = time.perf_counter() - spent  # an interrupted stage keeps its time spent
    while epoch < max_epochs and time.perf_counter() - t_start < budget:
        t0 = time.perf_counter()
        net.train()
        total = 0.0
        for step, chunk in enumerate(_batches(train, settings.batch_size, rng)):
            loss = batch_objective(net, chunk, settings, stage)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, settings.grad_clip)
            opt.step()
            total += loss.item() * len(chunk)
            if on_step is not None:
                on_step(step + 1, (len(train) + settings.batch_size - 1) // settings.batch_size)
        val_loss = validation_loss(net, val, settings, stage)
        sched.step(val_loss)
        epoch += 1
        if val_loss < best:
            best, since_best = val_loss, 0
            save_checkpoint(net, best_dir)
        else:
            since_best += 1
        report = EpochReport(
            stage,
            epoch,
            total / len(train),
            val_loss,
            opt.param_groups[0]["lr"],
            time.perf_counter() - t0,
        )
        history.append(report)
        torch.save(
            {
                "stage": stage,
                "epoch": epoch,
                "best": best,
                "since_best": since_best,
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "history": [asdict(h) for h in history],
                "seconds": time.perf_counter() - t_start,
            },
            state_file,
        )
        if on_epoch is not None:
            on_epoch(report)
        if since_best >= settings.stop_patience or opt.param_groups[0]["lr"] < settings.min_lr:
            break
    if (best_dir / "model.safetensors").is_file():
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(best_dir / "model.safetensors")), strict=False)
    save_stage_start(work, stage + 1, net.state_dict())
    return history


def save_stage_start(work: Path, stage: int, model_state: dict) -> None:
    """Write ``work/state.pt`` so that ``stage`` starts from ``model_state`` with a fresh
    optimizer (after the previous stage, or from a registered model's weights)."""
    state = {"stage": stage, "epoch": 0, "best": float("inf"), "since_best": 0,
             "model": model_state, "optimizer": {}, "scheduler": {}}  # fmt: skip
    torch.save(state, _state_path(Path(work)))


def new_network(cfg: ModelConfig, train: list[TrainingItem], seed: int = 0) -> HamiltonianNet:
    """A freshly initialized network with on-site references from the training items."""
    torch.manual_seed(seed)
    net = HamiltonianNet(cfg)
    onsite_references(train, net)
    return net
