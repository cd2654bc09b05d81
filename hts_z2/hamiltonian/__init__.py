"""Spin–orbit tight-binding Hamiltonians: container, bases, SOC assembly, Bloch sums,
generalized eigenproblem, band gaps and file formats."""

from hts_z2.hamiltonian.basis import OrbitalTable, orbital_table, parse_shells, table_for_species
from hts_z2.hamiltonian.tightbinding import TightBinding, TightBindingError

__all__ = [
    "OrbitalTable",
    "TightBinding",
    "TightBindingError",
    "orbital_table",
    "parse_shells",
    "table_for_species",
]
