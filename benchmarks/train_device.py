"""Training on another torch device: the same objective and gradient as on the CPU, and
the time of an optimizer step on each.

For the first ``--samples`` reference samples of the embedded dataset with at most
``--max-atoms`` atoms, in batches of ``--batch-size``, a model's weights (default: the
shipped model) give the stage-1 objective (Hamiltonian terms) and the stage-2 objective
(plus the band term, whose eigenproblems are solved on the CPU) once on the CPU and once
on ``--device``. Printed per stage: the largest relative difference of the objectives and
of the gradients (float32 networks: expect ~1e-5), and the mean forward + backward time
per batch on each device with their ratio (measured in this one run; the first batch on
each device is a warm-up and not timed).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/train_device.py --device cuda
        [--model NAME] [--samples 16] [--max-atoms 8] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from hts_z2.model.checkpoint import load_checkpoint
from hts_z2.model.device import torch_device
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.predictor import DEFAULT_MODEL, models_dir
from hts_z2.reference.sample import load_sample
from hts_z2.training.data import TrainingItem, build_item
from hts_z2.training.dataset import sample_files
from hts_z2.training.trainer import TrainSettings, batch_objective

DATASET = Path(__file__).resolve().parents[1] / "hts_z2" / "data" / "dataset"


def training_items(net: HamiltonianNet, n: int, max_atoms: int) -> list[TrainingItem]:
    """The first ``n`` samples (sorted by file name) within the model's basis and size."""
    items = []
    for path in sample_files(DATASET):
        sample = load_sample(path)
        if len(sample.numbers) > max_atoms or not set(sample.numbers.tolist()) <= set(
            net.cfg.elements
        ):
            continue
        items.append(build_item(sample, net.cfg, net.layout))
        if len(items) == n:
            break
    return items


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step(net: HamiltonianNet, chunk: list[TrainingItem], stage: int, settings: TrainSettings):
    """Objective, flattened gradient (on the CPU) and seconds of one forward + backward."""
    device = net.z_index.device
    net.zero_grad(set_to_none=True)
    synchronize(device)
    t0 = time.perf_counter()
    loss = batch_objective(net, chunk, settings, stage)
    loss.backward()
    synchronize(device)
    seconds = time.perf_counter() - t0
    grad = torch.cat([p.grad.reshape(-1).cpu() for p in net.parameters() if p.grad is not None])
    return float(loss.detach()), grad.double(), seconds


def compare(nets: dict[str, HamiltonianNet], items: list[TrainingItem], stage: int, size: int):
    """Per device: objectives, gradients and timed seconds over the batches of ``items``."""
    settings = TrainSettings(batch_size=size)
    chunks = [items[s : s + size] for s in range(0, len(items), size)]
    out = {}
    for name, net in nets.items():
        net.train()
        step(net, chunks[0], stage, settings)  # warm-up (kernel selection, caches)
        out[name] = [step(net, chunk, stage, settings) for chunk in chunks]
    return out


def report(stage: int, results: dict) -> None:
    cpu, dev = results["cpu"], results["device"]
    d_loss = max(abs(a[0] - b[0]) / max(abs(a[0]), 1e-12) for a, b in zip(cpu, dev, strict=True))
    d_grad = max(
        float((a[1] - b[1]).norm() / max(float(a[1].norm()), 1e-12))
        for a, b in zip(cpu, dev, strict=True)
    )
    t_cpu = sum(r[2] for r in cpu) / len(cpu)
    t_dev = sum(r[2] for r in dev) / len(dev)
    print(
        f"stage {stage}: objective rel. diff {d_loss:.1e}, gradient rel. diff {d_grad:.1e}; "
        f"s per batch CPU {t_cpu:.3f}, device {t_dev:.3f} (device {t_cpu / t_dev:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model name or directory")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-atoms", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    device = torch_device(args.device)
    path = Path(args.model) if Path(args.model).is_dir() else models_dir() / args.model
    cpu_net, sha = load_checkpoint(path)
    dev_net = load_checkpoint(path)[0].to(device)
    items = training_items(cpu_net, args.samples, args.max_atoms)
    print(
        f"model {path.name} ({sha[:12]}), {len(items)} samples of <= {args.max_atoms} atoms, "
        f"batch size {args.batch_size}, device {device}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    for stage in (1, 2):
        report(stage, compare({"cpu": cpu_net, "device": dev_net}, items, stage, args.batch_size))


if __name__ == "__main__":
    main()
