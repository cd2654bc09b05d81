"""hts-z2: high-throughput screening of 3D topological insulators with a machine-learned
spin–orbit tight-binding Hamiltonian."""

__version__ = "0.1.0"
