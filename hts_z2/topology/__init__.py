"""Z2 topological invariants of spinful tight-binding models (FHS and Wilson loops)."""

from hts_z2.topology.invariants import compute_z2, wilson_z2, z2_invariants
from hts_z2.topology.result import PlaneResult, Z2Result

__all__ = ["PlaneResult", "Z2Result", "compute_z2", "wilson_z2", "z2_invariants"]
