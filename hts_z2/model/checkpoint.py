"""Model directories: ``model.safetensors`` + ``config.json`` + ``card.md``.

Loading reads tensors and JSON only (never unpickles code). The sha256 of the weights
file is the model's identity in stored results.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from hts_z2.model.config import ModelConfig
from hts_z2.model.network import HamiltonianNet

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "card.md"


class CheckpointError(ValueError):
    """A model directory that is missing files or does not match its config."""


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(net: HamiltonianNet, directory: str | Path, card: str | None = None) -> str:
    """Write weights (float32) and config; returns the weights' sha256."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to(torch.float32 if v.is_floating_point() else v.dtype).contiguous()
        for k, v in net.state_dict().items()
    }
    tmp = d / (WEIGHTS + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(d / WEIGHTS)
    net.cfg.save(d / CONFIG)
    if card is not None:
        (d / CARD).write_text(card)
    return file_sha256(d / WEIGHTS)


def load_checkpoint(directory: str | Path) -> tuple[HamiltonianNet, str]:
    """Rebuild the network from ``config.json`` and load its weights.

    Returns
    -------
    (network in eval mode, weights sha256)
    """
    d = Path(directory)
    for name in (WEIGHTS, CONFIG):
        if not (d / name).is_file():
            raise CheckpointError(f"model directory {d} has no {name}")
    cfg = ModelConfig.load(d / CONFIG)
    net = HamiltonianNet(cfg)
    state = load_file(str(d / WEIGHTS))
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{d}: weights do not match config (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    net.eval()
    return net, file_sha256(d / WEIGHTS)
