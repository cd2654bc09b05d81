"""Session fixtures: one tiny GPAW LCAO calculation (rocksalt PbTe, sz(dzp), 2x2x2).

GPAW runs serially on one thread (another process may use the other core); the
environment is set before GPAW (and its BLAS) is imported.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

PBTE_LATTICE = 0.5 * 6.46 * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
PBTE_POSITIONS = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
PBTE_NUMBERS = np.array([82, 52])


@pytest.fixture(scope="session")
def gpaw_available():
    """GPAW and its data are part of the test install (``make test``): fail, never skip."""
    import gpaw  # noqa: F401
    import gpaw_data  # noqa: F401


@pytest.fixture
def pbte_atoms(gpaw_available):
    """Rocksalt PbTe (a = 6.46 Angstrom, fcc primitive cell), a fresh ``ase.Atoms``."""
    from hts_z2.reference.gpaw_scf import gpaw_atoms

    return gpaw_atoms(PBTE_LATTICE, PBTE_POSITIONS, PBTE_NUMBERS)


@pytest.fixture(scope="session")
def pbte_calc(gpaw_available):
    """Converged PbTe sz(dzp) 2x2x2 calculation (about 1.5 s), shared by the session."""
    from hts_z2.reference.gpaw_scf import GpawSettings, gpaw_atoms, run_scf

    atoms = gpaw_atoms(PBTE_LATTICE, PBTE_POSITIONS, PBTE_NUMBERS)
    return run_scf(atoms, GpawSettings(basis="sz(dzp)", kpts=(2, 2, 2)))


@pytest.fixture(scope="session")
def pbte_model(pbte_calc):
    """The extracted R-space model of ``pbte_calc`` (about 1 s)."""
    from hts_z2.reference.gpaw_lcao import extract_lcao

    return extract_lcao(pbte_calc)


@pytest.fixture(scope="session")
def pbte_report(pbte_calc, pbte_model):
    """``compare_with_gpaw`` of the PbTe model."""
    from hts_z2.reference.gpaw_checks import compare_with_gpaw

    return compare_with_gpaw(pbte_calc, pbte_model)
