"""Model directories: ``model.safetensors`` + ``config.json`` + ``card.md`` (+
``overlap_basis.npz``, the radial tables of models whose overlap comes from the basis).

Loading reads tensors and JSON only (never unpickles code). The sha256 of the weights
file is the model's identity in stored results. The file's metadata records every config
field that changes predictions (the overlap cutoff, cutoffs, basis, valences...), so the
identity covers them too; loading refuses a ``config.json`` that disagrees with it.

``model.safetensors.sha256`` (written with the weights) records that identity; loading
verifies the weights against it and refuses altered or damaged weights (set
``HTS_Z2_ACCEPT_MODIFIED_WEIGHTS=1`` to load them anyway: results then carry the sha256 of
the altered file, never the recorded one).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

from hts_z2.hamiltonian.overlap import OverlapBasis, OverlapCalculator
from hts_z2.model.config import ModelConfig
from hts_z2.model.network import HamiltonianNet

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "card.md"
OVERLAP_BASIS = "overlap_basis.npz"
INFERENCE_KEY = "hts_z2_inference_config"
DIGEST = WEIGHTS + ".sha256"
ACCEPT_MODIFIED = "HTS_Z2_ACCEPT_MODIFIED_WEIGHTS"


class CheckpointError(ValueError):
    """A model directory that is missing files or does not match its config."""


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stored_state(net: HamiltonianNet) -> dict[str, torch.Tensor]:
    """The tensors a checkpoint stores: the state dict on the CPU, floats cast to float32."""
    return {
        k: v.detach().cpu().to(torch.float32 if v.is_floating_point() else v.dtype).contiguous()
        for k, v in net.state_dict().items()
    }


def weights_metadata(cfg: ModelConfig) -> dict[str, str]:
    """What the weights file records besides tensors: the inference configuration."""
    return {INFERENCE_KEY: cfg.inference_key()}


def weights_sha256(net: HamiltonianNet) -> str:
    """sha256 that ``model.safetensors`` of ``net`` would have, without writing it."""
    return hashlib.sha256(save(stored_state(net), weights_metadata(net.cfg))).hexdigest()


def save_checkpoint(net: HamiltonianNet, directory: str | Path, card: str | None = None) -> str:
    """Write weights (float32) and config; returns the weights' sha256."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / (WEIGHTS + ".tmp")
    save_file(stored_state(net), str(tmp), weights_metadata(net.cfg))
    tmp.replace(d / WEIGHTS)
    net.cfg.save(d / CONFIG)
    if card is not None:
        (d / CARD).write_text(card)
    sha = file_sha256(d / WEIGHTS)
    (d / DIGEST).write_text(f"{sha}  {WEIGHTS}\n")
    return sha


def verify_weights(directory: str | Path) -> str:
    """The weights' sha256, checked against ``model.safetensors.sha256`` when the model
    directory has one; :class:`CheckpointError` on a mismatch (unless
    ``$HTS_Z2_ACCEPT_MODIFIED_WEIGHTS`` is set)."""
    d = Path(directory)
    sha = file_sha256(d / WEIGHTS)
    if not (d / DIGEST).is_file():
        return sha
    recorded = ((d / DIGEST).read_text().split() or [""])[0]
    if sha != recorded and os.environ.get(ACCEPT_MODIFIED, "") in ("", "0"):
        raise CheckpointError(
            f"{d / WEIGHTS} has sha256 {sha[:16]}..., not the {recorded[:16]}... recorded in "
            f"{DIGEST}: the weights were altered or damaged (copy the model again; "
            f"{ACCEPT_MODIFIED}=1 loads them anyway under their new identity)"
        )
    return sha


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
    sha = verify_weights(d)
    try:
        check_inference_config(d / WEIGHTS, cfg)
        state = load_file(str(d / WEIGHTS))
    except CheckpointError:
        raise
    except Exception as err:  # safetensors' error on a truncated or garbled file
        raise CheckpointError(
            f"{d / WEIGHTS} cannot be read (truncated or corrupt: {str(err)[:200]}); "
            "copy the model again"
        ) from None
    net = HamiltonianNet(cfg)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{d}: weights do not match config (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    net.eval()
    return net, sha


def check_inference_config(weights: Path, cfg: ModelConfig) -> None:
    """Raise :class:`CheckpointError` when the weights file records an inference
    configuration other than ``cfg`` (files written before it was recorded pass)."""
    with safe_open(str(weights), "pt") as f:
        stored = (f.metadata() or {}).get(INFERENCE_KEY)
    if stored is None or stored == cfg.inference_key():
        return
    saved, now = json.loads(stored), json.loads(cfg.inference_key())
    changed = sorted(k for k in saved.keys() | now.keys() if saved.get(k) != now.get(k))
    raise CheckpointError(
        f"{weights.parent}: config.json differs from the configuration the weights were "
        f"saved with in {changed}; the model's identity (sha256 of {WEIGHTS}) would not "
        "cover that change: save the network again with save_checkpoint (a new identity)"
    )


def check_overlap_basis(basis: OverlapBasis, cfg: ModelConfig) -> None:
    """Raise :class:`CheckpointError` unless ``basis`` covers the model's elements with the
    same shells in the same order."""
    reason = basis.shell_mismatch(cfg.basis)
    if reason is not None:
        raise CheckpointError(f"overlap {reason} (the model's)")


def save_overlap_basis(basis: OverlapBasis, cfg: ModelConfig, directory: str | Path) -> None:
    """Store the radial tables of the model's elements next to its weights."""
    check_overlap_basis(basis, cfg)
    basis.subset(cfg.basis).save(Path(directory) / OVERLAP_BASIS)


def load_overlap(directory: str | Path, cfg: ModelConfig) -> OverlapCalculator | None:
    """The exact-overlap calculator of a model with ``overlap == "basis"`` (else None)."""
    if cfg.overlap != "basis":
        return None
    path = Path(directory) / OVERLAP_BASIS
    if not path.is_file():
        raise CheckpointError(f"model directory {directory} has no {OVERLAP_BASIS}")
    basis = OverlapBasis.load(path)
    check_overlap_basis(basis, cfg)
    return OverlapCalculator(basis)
