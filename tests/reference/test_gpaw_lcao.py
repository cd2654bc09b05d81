"""GPAW LCAO reference backend: conventions verified against GPAW itself (PbTe, sz(dzp))."""

import numpy as np
import pytest

from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.reference.gpaw_lcao import LcaoHamiltonian, reachable_lattice_vectors
from hts_z2.reference.gpaw_scf import GpawError, GpawSettings, gpaw_atoms, kpoint_grid

A_BI2SE3, C_BI2SE3 = 4.143, 28.636
BI2SE3_LATTICE = np.array(
    [
        [A_BI2SE3 / 2, A_BI2SE3 / (2 * np.sqrt(3)), C_BI2SE3 / 3],
        [-A_BI2SE3 / 2, A_BI2SE3 / (2 * np.sqrt(3)), C_BI2SE3 / 3],
        [0.0, -A_BI2SE3 / np.sqrt(3), C_BI2SE3 / 3],
    ]
)
FCC_PBTE = 0.5 * 6.46 * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
RANDOM_K = np.random.default_rng(3).random((4, 3)) - 0.5


# --- pure helpers (no GPAW needed) -------------------------------------------------------


@pytest.mark.parametrize(
    ("lattice", "density", "expected"),
    [
        (BI2SE3_LATTICE, 3.5, (6, 6, 6)),
        (FCC_PBTE, 3.5, (6, 6, 6)),
        (20.0 * np.eye(3), 3.5, (1, 1, 1)),
        (np.diag([4.0, 4.0, 30.0]), 3.5, (5, 5, 1)),
        (FCC_PBTE, 1.0, (2, 2, 2)),
        (FCC_PBTE, 0.01, (1, 1, 1)),
    ],
)
def test_kpoint_grid_known_answers(lattice, density, expected):
    assert kpoint_grid(lattice, density) == expected


def test_kpoint_grid_rejects_bad_density():
    with pytest.raises(ValueError, match="positive"):
        kpoint_grid(np.eye(3), 0.0)


def test_reachable_lattice_vectors_simple_cubic():
    R = reachable_lattice_vectors(np.eye(3), np.zeros((1, 3)), np.array([[1.5]]))
    lengths = np.linalg.norm(R, axis=1)
    assert len(R) == 1 + 6 + 12  # |R| in {0, 1, sqrt 2} < 1.5 <= sqrt 3
    assert lengths.max() < 1.5
    assert {tuple(r) for r in R.tolist()} == {tuple(r) for r in (-R).tolist()}


def test_spinful_blocks_layout():
    rng = np.random.default_rng(0)
    H0 = rng.normal(size=(2, 3, 3))
    soc = rng.normal(size=(2, 3, 3, 3))
    pauli = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])]
    expected = np.array(
        [
            np.kron(h, np.eye(2)) + 1j * sum(np.kron(s[v], pauli[v]) for v in range(3))
            for h, s in zip(H0, soc, strict=True)
        ]
    )
    assert np.allclose(spinful_blocks(H0, soc), expected, atol=1e-14)


def test_lcao_hamiltonian_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="H0 has shape"):
        LcaoHamiltonian(
            lattice=np.eye(3),
            positions=np.zeros((1, 3)),
            numbers=np.array([1]),
            shells=((0, 1),),
            R=np.zeros((1, 3), int),
            H0=np.zeros((1, 3, 3)),
            S=np.zeros((1, 4, 4)),
            soc=np.zeros((1, 3, 4, 4)),
            n_electrons=1,
            fermi_level=0.0,
        )


# --- bad inputs ----------------------------------------------------------------------------


def test_missing_setup_raises_before_scf(gpaw_available):
    from hts_z2.reference.gpaw_scf import run_scf

    atoms = gpaw_atoms(3.35 * np.eye(3), [[0.0, 0.0, 0.0]], [84])  # Po: no setup in gpaw-data
    with pytest.raises(GpawError, match=r"Po: no PBE PAW setup"):
        run_scf(atoms, GpawSettings(basis="sz(dzp)", kpts=(1, 1, 1)))


def test_unknown_basis_raises(pbte_atoms):
    from hts_z2.reference.gpaw_scf import run_scf

    with pytest.raises(GpawError, match=r"no basis 'tzp'"):
        run_scf(pbte_atoms, GpawSettings(basis="tzp"))


def test_magnetic_moments_rejected(pbte_atoms):
    from hts_z2.reference.gpaw_scf import run_scf

    pbte_atoms.set_initial_magnetic_moments([1.0, 0.0])
    with pytest.raises(GpawError, match="magnetic"):
        run_scf(pbte_atoms, GpawSettings(basis="sz(dzp)", kpts=(1, 1, 1)))


def test_unconverged_scf_raises(pbte_atoms):
    from hts_z2.reference.gpaw_scf import run_scf

    with pytest.raises(GpawError, match="did not converge within maxiter=1"):
        run_scf(pbte_atoms, GpawSettings(basis="sz(dzp)", kpts=(1, 1, 1), maxiter=1))


def test_extract_rejects_non_gpaw_object(gpaw_available):
    from hts_z2.reference.gpaw_lcao import extract_lcao

    with pytest.raises(GpawError, match="legacy GPAW calculator"):
        extract_lcao(object())


# --- the PbTe reference model ------------------------------------------------------------


def test_shells_and_electron_count(pbte_calc, pbte_model):
    # sz(dzp): Pb 6s 6p 5d, Te 5s 5p (single zeta, no polarization)
    assert pbte_model.shells == ((0, 1, 2), (0, 1))
    gpaw_shells = tuple(tuple(bf.l for bf in s.basis.bf_j) for s in pbte_calc.wfs.setups)
    assert pbte_model.shells == gpaw_shells
    assert pbte_model.n_orbitals == pbte_calc.wfs.setups.nao == 13
    assert pbte_model.n_electrons == 14 + 6
    assert pbte_model.numbers.tolist() == [82, 52]
    assert np.allclose(pbte_model.positions, [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_model_arrays_real_and_residuals_tiny(pbte_model):
    for name in ("H0", "S", "soc"):
        assert getattr(pbte_model, name).dtype == np.float64
    d = pbte_model.diagnostics
    assert max(d["imag_residual_H0"], d["imag_residual_S"], d["real_residual_soc"]) < 1e-12
    assert d["ft_grid"] == [9, 9, 9]
    assert d["n_R_kept"] == len(pbte_model.R) < d["n_R_reachable"]


def test_R_set_closed_and_contains_zero(pbte_model):
    R = {tuple(r) for r in pbte_model.R.tolist()}
    assert (0, 0, 0) in R
    assert R == {tuple(-np.array(r)) for r in R}


def test_spinless_eigenvalues_match_gpaw(pbte_report):
    assert pbte_report["spinless_max_meV"] <= 1.0
    assert pbte_report["spinless_window_max_meV"] <= 1e-3


def test_soc_eigenvalues_match_soc_eigenstates(pbte_report):
    assert pbte_report["complete_second_variation"]
    assert pbte_report["soc_max_meV"] <= 1.0
    assert pbte_report["soc_window_max_meV"] <= 1e-3


def test_time_reversal_and_hermiticity(pbte_report):
    assert pbte_report["time_reversal_error_eV"] < 1e-10
    assert pbte_report["kspace_time_reversal_error_eV"] < 1e-10
    assert pbte_report["hermiticity_error_eV"] < 1e-10
    assert pbte_report["overlap_hermiticity_error"] < 1e-12


def test_soc_is_not_negligible(pbte_model, pbte_calc):
    from hts_z2.reference.gpaw_checks import gpaw_soc_eigenvalues, gpaw_spinless_eigenvalues

    _, eps = gpaw_spinless_eigenvalues(pbte_calc)
    _, eps_soc = gpaw_soc_eigenvalues(pbte_calc)
    assert np.abs(np.repeat(eps, 2, axis=1) - eps_soc).max() > 0.3  # Pb 6p splitting ~ eV
    assert np.abs(pbte_model.soc).max() > 0.1


def test_soc_sign_j32_up(pbte_model):
    """<(x+iy) up| H_soc |(x+iy) up> > 0 on Pb 6p: m_l=+1, s=+1/2 (j=3/2) is pushed up."""
    r0 = int(np.flatnonzero(np.all(pbte_model.R == 0, axis=1))[0])
    H_soc = spinful_blocks(np.zeros_like(pbte_model.H0[r0]), pbte_model.soc[r0])
    c = np.zeros(2 * pbte_model.n_orbitals, dtype=complex)
    y, x = 1, 3  # Pb orbitals: s, (y, z, x), d...
    c[2 * x], c[2 * y] = 1 / np.sqrt(2), 1j / np.sqrt(2)
    up = np.real(c.conj() @ H_soc @ c)
    c_down = np.roll(c, 1)  # same orbital, spin down
    down = np.real(c_down.conj() @ H_soc @ c_down)
    assert up > 0.2
    assert down == pytest.approx(-up, rel=1e-10)


def test_rspace_equals_direct_kspace_off_grid(pbte_calc, pbte_model):
    from hts_z2.reference.gpaw_checks import compare_direct

    dev = compare_direct(pbte_calc, pbte_model, RANDOM_K)
    assert dev["H0_eV"] < 1e-8
    assert dev["S"] < 1e-9
    assert dev["H_spinful_eV"] < 1e-8


def test_off_grid_eigenvalues_match_gpaw_fixed_density(pbte_calc, pbte_model):
    from hts_z2.reference.gpaw_checks import compare_offgrid

    dev = compare_offgrid(pbte_calc, pbte_model, RANDOM_K[:3])
    assert dev["spinless_meV"] <= 1.0
    assert dev["soc_meV"] <= 1.0


def test_unpruned_model_agrees(pbte_calc, pbte_model):
    from hts_z2.reference.gpaw_checks import model_eigenvalues
    from hts_z2.reference.gpaw_lcao import extract_lcao

    full = extract_lcao(pbte_calc, prune_tol=0.0)
    assert len(full.R) == full.diagnostics["n_R_reachable"] > len(pbte_model.R)
    e_full = model_eigenvalues(full, RANDOM_K)
    e_pruned = model_eigenvalues(pbte_model, RANDOM_K)
    assert np.abs(e_full - e_pruned).max() < 1e-6


def test_tight_binding_container(pbte_model):
    tb = pbte_model.tight_binding()
    assert tb.n_occ == pbte_model.n_electrons
    assert tb.n_bands == 2 * pbte_model.n_orbitals
    assert tb.time_reversal_error() < 1e-10
    E, _ = tb.eigh(RANDOM_K)
    from hts_z2.reference.gpaw_checks import model_eigenvalues

    assert np.abs(E - model_eigenvalues(pbte_model, RANDOM_K)).max() < 1e-8


@pytest.mark.slow
def test_gamma_only_calculation_extracts_exactly(pbte_atoms):
    """A 1x1x1 grid still yields all lattice displacements (complex dtype is forced)."""
    from hts_z2.reference.gpaw_checks import compare_direct, compare_offgrid, compare_with_gpaw
    from hts_z2.reference.gpaw_lcao import extract_lcao
    from hts_z2.reference.gpaw_scf import run_scf

    # Gamma-only PbTe is metallic; broad smearing keeps the SCF short (~12 iterations)
    calc = run_scf(pbte_atoms, GpawSettings(basis="sz(dzp)", kpts=(1, 1, 1), width=0.2))
    model = extract_lcao(calc)
    report = compare_with_gpaw(calc, model)
    assert report["n_kpoints"] == 1
    assert report["spinless_max_meV"] <= 1.0
    assert report["soc_max_meV"] <= 1.0
    assert compare_direct(calc, model, RANDOM_K)["H_spinful_eV"] < 1e-8
    dev = compare_offgrid(calc, model, RANDOM_K[:2])
    assert max(dev.values()) <= 1.0


def test_gpaw_parameters(pbte_atoms):
    from hts_z2.reference.gpaw_scf import gpaw_parameters

    params = gpaw_parameters(pbte_atoms, GpawSettings(convergence={"density": 1e-5}))
    assert params["kpts"] == {"size": (6, 6, 6), "gamma": False}  # from kpt_density 3.5
    assert params["mode"] == {"name": "lcao", "force_complex_dtype": True}
    assert params["nbands"] == "nao"
    assert params["symmetry"] == {"point_group": False, "time_reversal": True}
    assert params["convergence"] == {"density": 1e-5}
    explicit = gpaw_parameters(pbte_atoms, GpawSettings(kpts=(3, 2, 1)))
    assert explicit["kpts"]["size"] == (3, 2, 1)
    assert "convergence" not in explicit


def test_capped_kpoint_grid():
    from hts_z2.reference.gpaw_scf import capped_kpoint_grid, kpoint_grid

    fcc = 0.5 * 4.08 * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    assert capped_kpoint_grid(fcc, 3.0, None) == kpoint_grid(fcc, 3.0)
    grid = capped_kpoint_grid(fcc, 3.0, 125)
    assert np.prod(grid) <= 125 and np.prod(kpoint_grid(fcc, 3.0)) > 125
