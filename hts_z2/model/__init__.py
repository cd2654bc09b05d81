"""Equivariant GNN for spinless H0, overlaps S and SOC strengths xi (Uni-HamGNN style)."""

from hts_z2.model.config import ModelConfig
from hts_z2.model.predictor import DEFAULT_MODEL, HamiltonianModel, load_model

__all__ = ["DEFAULT_MODEL", "HamiltonianModel", "ModelConfig", "load_model"]
