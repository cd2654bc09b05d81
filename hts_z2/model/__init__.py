"""Equivariant GNN for spinless H0, overlaps S and SOC strengths xi (Uni-HamGNN style).

The names below load on first use: importing a light submodule (``hts_z2.model.domain``,
``hts_z2.model.config``) does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "ModelConfig": "hts_z2.model.config",
    "DEFAULT_MODEL": "hts_z2.model.predictor",
    "HamiltonianModel": "hts_z2.model.predictor",
    "load_model": "hts_z2.model.predictor",
}

__all__ = ["DEFAULT_MODEL", "HamiltonianModel", "ModelConfig", "load_model"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'hts_z2.model' has no attribute {name!r}")
